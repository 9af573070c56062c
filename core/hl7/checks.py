"""What receivers NAK, checked before a correction is saved: values that do not fit their
data type (TS/DTM, DT, TM, NM), coded values outside the HL7 table the version defines for
the field, and fields past the end of the segment's definition. Fast (no parse tree beyond
the one message's names), so a preview can run it on every message it shows.
"""
from __future__ import annotations

import re

from core.hl7.structure import Node, build, delimiters_of, segment_ref
from core.hl7.validate import Finding

_PATTERNS = {
    "DTM": re.compile(r"\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,4})?)?)?)?)?)?([+-]\d{4})?"),
    "DT": re.compile(r"\d{4}(\d{2}(\d{2})?)?"),
    "TM": re.compile(r"\d{2}(\d{2}(\d{2}(\.\d{1,4})?)?)?([+-]\d{4})?"),
    "NM": re.compile(r"[+-]?(\d+\.?\d*|\.\d+)"),
}
_PATTERNS["TS"] = _PATTERNS["DTM"]
_WORDS = {"DTM": "a date and time (YYYYMMDDHHMMSS)", "TS": "a date and time (YYYYMMDDHHMMSS)", "DT": "a date (YYYYMMDD)",
          "TM": "a time (HHMMSS)", "NM": "a number"}

# HL7 tables for the coded fields receivers check most (v2.5.1 values; later versions only add)
TABLES: dict[str, tuple[str, str, frozenset[str]]] = {
    "MSH-9.1": ("0076", "message type", frozenset(
        "ACK ADT BAR DFT MDM MFN MFK OML ORL ORM ORR ORU OUL QBP QRY RSP RDE RDS RAS RGV SIU SRM SRR VXU VXR VXQ OMG OMI "
        "ORG ORI RRE RRD RRA RRG PPR PGL CRM CSU EAC EAN EAR ESU INR INU LSU NMD NMQ NMR OMD OMN OMP OMS ORD ORN ORP "
        "ORS OSQ OSR PEX PMU QSB QVR RAR RCI RCL RDR RDY REF RER RGR ROR RPA RPI RPL RPR RQA RQC RQI RQP RTB SPQ SQM "
        "SQR SSR SSU TCU UDM MFQ MFR EDR EQQ ERP PTR VQQ DOC DSR".split())),
    "MSH-11.1": ("0103", "processing ID", frozenset("D P T".split())),
    "PID-8": ("0001", "administrative sex", frozenset("F M O U A N C X".split())),
    "OBX-2": ("0125", "value type", frozenset(
        "AD CE CF CK CN CP CWE CX DT DTM ED FT ID MO NM PN RP SN ST TM TN TS TX XAD XCN XON XPN XTN NA CNE".split())),
    "OBX-11": ("0085", "observation result status", frozenset("C D F I N O P R S U W X".split())),
    "OBR-25": ("0123", "result status", frozenset("O I S A P C R F X Y Z".split())),
    "ORC-1": ("0119", "order control", frozenset(
        "AF CA CH CN CR DC DE DF DR FU HD HR LI NA NW OC OD OE OF OH OK OP OR PA PR PY RE RF RL RO RP RQ RR RU SC SN SR "
        "SS UA UC UD UF UH UM UN UR UX XO XR XX".split())),
    "MSA-1": ("0008", "acknowledgment code", frozenset("AA AE AR CA CE CR".split())),
}


def findings(text: str, version: str | None) -> list[Finding]:
    """Every value of the message that a receiver would refuse for its type, table or place."""
    d = delimiters_of(text)
    tree = build(text, version)
    out: list[Finding] = []
    for seg in tree.segments:
        out += _past_the_end(seg, tree.version)
        value_type = next((c.value for c in seg.children if c.label == "OBX-2"), "") if seg.label == "OBX" else ""
        for node in seg.children:
            if value_type and _base(node.label) == "OBX-5" and not node.children:  # its type is OBX-2's
                node.datatype = value_type
            out += _check(node, d.comp)
    return out


def _check(node: Node, comp: str) -> list[Finding]:
    if node.children:
        return [f for child in node.children for f in _check(child, comp)]
    out = []
    value = node.value.split(comp, 1)[0] if node.datatype == "TS" else node.value
    pattern = _PATTERNS.get(node.datatype)
    if pattern and value and value != '""' and not pattern.fullmatch(value):
        out.append(Finding(f"{_base(node.label)} not {node.datatype}",
                           f"{node.label} is not {_WORDS[node.datatype]} as its type {node.datatype} requires"))
    table = TABLES.get(_base(node.label)) or (TABLES.get(_base(node.label) + ".1") if not node.children else None)
    if table and value and value != '""' and value.upper() not in table[2]:
        out.append(Finding(f"{_base(node.label)} not in table {table[0]}",
                           f"{node.label} holds a code that is not in HL7 table {table[0]} ({table[1]})"))
    return out


def _base(label: str) -> str:
    """PID-3[2].1 → PID-3.1: the repetition does not change what a value must be."""
    return re.sub(r"\[\d+\]", "", label)


def _past_the_end(seg: Node, version: str) -> list[Finding]:
    if seg.label.startswith("Z") or not seg.children:
        return []
    defined = segment_ref(seg.label, version)
    if not defined:
        return []
    last = max(defined)
    beyond = sorted({int(_base(c.label).split("-")[1].split(".")[0]) for c in seg.children} - set(range(1, last + 1)))
    return [Finding(f"{seg.label} past its end", f"{seg.label}-{n} is past the end of {seg.label}, which has {last} "
                                                 f"fields in HL7 {version}") for n in beyond[:3]]
