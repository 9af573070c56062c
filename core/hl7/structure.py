"""One message as a tree a person can read: segments → fields → components → subcomponents,
each with its name and data type in the message's HL7 version.

The tree is cut from the text itself, so every byte shows up where it is, also in a
message that breaks the standard or carries Z-segments; hl7apy supplies only the names
(DESIGN.md, "Hot path": built for the one message shown, never at ingest).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from hl7apy import SUPPORTED_LIBRARIES, load_reference
from hl7apy.exceptions import ChildNotFound

from core.hl7.scan import Delimiters

FALLBACK_VERSION = "2.5.1"
LONG_VALUE = 120  # characters shown before a value is shortened


@dataclass
class Node:
    label: str  # PID-3, PID-3[2], PID-3.4, PID-3.4.1
    name: str  # Patient Identifier List ("" when the version does not name it)
    datatype: str
    value: str  # as sent, escapes included
    text: str = ""  # the value with HL7 escapes turned back into the characters they stand for
    children: list[Node] = field(default_factory=list)
    phi: bool = False

    @property
    def shortened(self) -> bool:
        return len(self.value) > LONG_VALUE


@dataclass
class Tree:
    segments: list[Node]
    version: str  # the version whose names are shown
    note: str | None  # why another version's names are shown, if so


def names_version(declared: str | None) -> tuple[str, str | None]:
    """The hl7apy version to take names from, and a note when it is not the declared one."""
    v = (declared or "").strip().split("^")[0]
    if v in SUPPORTED_LIBRARIES:
        return v, None
    short = ".".join(v.split(".")[:2])
    if short in SUPPORTED_LIBRARIES:
        return short, f"names from HL7 {short} (the message declares {v})"
    return FALLBACK_VERSION, f"names from HL7 {FALLBACK_VERSION} (the message declares {v or 'no version'})"


@lru_cache(maxsize=512)
def segment_ref(name: str, version: str) -> dict[int, tuple]:
    try:
        ref = load_reference(name, "Segment", version)
    except (ChildNotFound, KeyError, ValueError):
        return {}
    if len(ref) < 2:  # a name hl7apy knows as something else (a data type's, say), not as a segment
        return {}
    return {int(child[0].rsplit("_", 1)[1]): tuple(child[1]) for child in ref[1]}


_ACRONYMS = re.compile(r"\b(Id|Pid|Obx|Obr|Orc|Msh|Msa|Err|Nk1|In1|Gt1|Pv1|Ssn|Npi|Hl7|Ack)\b")


def _title(long_name: str | None) -> str:
    words = (long_name or "").replace("_", " ").title().replace(" S ", "'s ").replace(" Or ", " or ").replace(" Of ", " of ")
    return _ACRONYMS.sub(lambda m: m.group(1).upper(), words)


def _children_ref(ref: tuple | list | None) -> list:
    if not ref or ref[0] != "sequence" or not ref[1]:
        return []
    return [tuple(c[1]) for c in ref[1]]


def build(text: str, version: str | None, phi_fields: dict[str, frozenset[int]] | None = None) -> Tree:
    """The tree of a decoded message (segments split on CR or LF)."""
    d = delimiters_of(text)
    names, note = names_version(version)
    segments = []
    for line in (s for s in text.replace("\r\n", "\r").replace("\n", "\r").split("\r") if s.strip()):
        segments.append(_segment(line, d, names, phi_fields or {}))
    return Tree(segments, names, note)


def is_segment(line: str, sep: str) -> bool:
    """Whether a line is a segment: three letters or digits, then the field separator or nothing."""
    return len(line) >= 3 and line[:3].isalnum() and (len(line) == 3 or line[3] == sep)


def delimiters_of(text: str) -> Delimiters:
    """The delimiters a message declares in MSH-1 and MSH-2 (the standard ones if it has none)."""
    if text.startswith("MSH") and len(text) > 4:
        sep = text[3]
        return Delimiters(sep, text[4:].split(sep, 1)[0][:4])
    return Delimiters("|", "^~\\&")


def _segment(line: str, d: Delimiters, version: str, phi_fields: dict[str, frozenset[int]]) -> Node:
    seg_id = line[:3]
    ref = segment_ref(seg_id, version) if seg_id.isalnum() else {}
    seg = Node(seg_id, "", "", line, line)
    parts = line.split(d.field)
    if seg_id == "MSH":  # MSH-1 is the field separator itself, MSH-2 the other delimiters
        parts = [seg_id, d.field, *parts[1:]]
    phi = phi_fields.get(seg_id, frozenset())
    for number, value in enumerate(parts[1:], start=1):
        if not value:
            continue
        fref = ref.get(number)
        name, dtype = (_title(fref[3]), fref[2] or "") if fref else ("", "")
        reps = [value] if (seg_id == "MSH" and number <= 2) else value.split(d.rep)
        for i, rep in enumerate(reps, start=1):
            if not rep and len(reps) > 1:
                continue
            label = f"{seg_id}-{number}" + (f"[{i}]" if len(reps) > 1 else "")
            node = Node(label, name, dtype, rep, d.text(rep), phi=number in phi)
            if not (seg_id == "MSH" and number <= 2):
                node.children = _components(label, rep, d, _children_ref(fref), node.phi)
            seg.children.append(node)
    return seg


def _components(label: str, value: str, d: Delimiters, refs: list, phi: bool) -> list[Node]:
    comps = value.split(d.comp)
    if len(comps) == 1 and d.sub not in value:
        return []
    out = []
    for i, comp in enumerate(comps, start=1):
        if not comp:
            continue
        ref = refs[i - 1] if i - 1 < len(refs) else None
        node = Node(f"{label.split('[')[0]}.{i}", _title(ref[3]) if ref else "", (ref[2] or "") if ref else "",
                    comp, d.text(comp), phi=phi)
        subs = comp.split(d.sub)
        if len(subs) > 1:
            srefs = _children_ref(ref)
            node.children = [Node(f"{node.label}.{j}", _title(srefs[j - 1][3]) if j - 1 < len(srefs) else "",
                                  (srefs[j - 1][2] or "") if j - 1 < len(srefs) else "", sub, d.text(sub), phi=phi)
                             for j, sub in enumerate(subs, start=1) if sub]
        out.append(node)
    return out


def find(tree: Tree, label: str) -> Node | None:
    """The node labelled so (first segment of that name), e.g. "PID-3.1"."""
    stack = list(tree.segments)
    while stack:
        node = stack.pop(0)
        if node.label == label:
            return node
        stack[:0] = node.children
    return None
