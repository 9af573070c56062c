"""The shared corpora: every file ingests, counts agree with INDEX.tsv, python-hl7 agrees."""
import csv
import re

import hl7
import pytest
from sqlalchemy import func, select

from core.hl7.framing import JUNK, MESSAGE, frame
from core.hl7.scan import scan
from core.ingest import Ingestor
from core.store.models import Message

# Where our message count differs from INDEX.tsv, and why (INDEX.tsv's counts are heuristic).
KNOWN_COUNT_DIFFERENCES = {
    # a HAPI parser-configuration guide that mentions "MSH MSH:9,12": not HL7, kept as unparseable
    "hl7v2/hapi-hl7v2/guide.txt": 0,
    # "MSHH0...": MSH with no field separator after it, kept as unparseable with that reason
    "hl7v2/nhapi/bad_inputs_fuzz/LegacyPipeParser/EncodingNotSupportedException/nullref1": 0,
}


# Where python-hl7 reads a message differently from us, and why we keep our reading.
KNOWN_DISAGREEMENTS = {
    # fuzzer output whose delimiters include letters, digits or DEL: python-hl7 also splits
    # on the subcomponent or repetition character, we take the component as written
    "hl7v2/nhapi/bad_inputs_fuzz/LegacyPipeParser/HL7Exception/sys2": "delimiters are digits",
    "hl7v2/nhapi/bad_inputs_fuzz/LegacyPipeParser/NoException/regex1": "delimiters are symbols of MSH-9",
    "hl7v2/nhapi/bad_inputs_fuzz/PipeParser/HL7Exception/id_000087_sig_02_src_000967_001832_op_splice_rep_2": "0 as a delimiter",
    "hl7v2/nhapi/bad_inputs_fuzz/PipeParser/HL7Exception/id_000176_sig_02_src_002656_002699_op_splice_rep_32": "0 as a delimiter",
    "hl7v2/nhapi/bad_inputs_fuzz/PipeParser/NoException/id_000168_sig_02_src_002426_002144_op_splice_rep_8": "0 as a delimiter",
    # a C# format template: MSH-2 is the placeholder "{0}", so "0" would be the repetition
    # separator and split MSH-10 "1234567890"; we read the control ID as written
    "hl7v2/nhapi/from_tests/EncodingCharactersTests_L0211.hl7": "MSH-2 is a template placeholder",
    # the extracted literal holds the two characters backslash and r after MSH-12; python-hl7
    # drops them as a bad escape, we keep them (and the version reads "2.3\\r")
    "hl7v2/python-hl7/test_mllp_001_message.hl7": "literal backslash-r",
    "hl7v2/python-hl7/test_mllp_002_lit.hl7": "literal backslash-r",
}


def index_rows(corpora):
    with open(corpora / "hl7v2" / "INDEX.tsv", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def test_message_counts_agree_with_index(corpora):
    differences = {}
    for row in index_rows(corpora):
        data = (corpora / row["path"]).read_bytes()
        pieces, used = frame(data)
        assert used == len(data) and b"".join(data[p.start:p.end] for p in pieces) == data
        found = sum(p.kind == MESSAGE for p in pieces)
        if found != int(row["messages"]):
            differences[row["path"]] = found
    assert differences == KNOWN_COUNT_DIFFERENCES


def test_every_file_ingests(store, corpora):
    summary = Ingestor(store).ingest_paths([corpora / "hl7v2"])
    assert summary.unreadable == []
    with store.read() as c:
        stored = c.execute(select(func.count()).select_from(Message)).scalar_one()
        unparseable = c.execute(select(Message.reason).where(Message.parse_state == "unparseable")).scalars().all()
    assert stored == summary.messages > 1500
    assert all(r for r in unparseable)  # each with a reason a person can act on
    # originals are byte-exact: what is stored is what the file holds at that offset
    with store.read() as c:
        sample = c.execute(select(Message.raw, Message.offset, Message.source_id).limit(200)).all()
        from core.store.models import Source
        paths = dict(c.execute(select(Source.id, Source.path)).all())
    for raw, offset, source_id in sample:
        with open(paths[source_id], "rb") as f:
            f.seek(offset)
            assert f.read(len(raw)) == raw


def _messages(corpora):
    for row in index_rows(corpora):
        data = (corpora / row["path"]).read_bytes()
        for p in frame(data)[0]:
            if p.kind == MESSAGE:
                yield row["path"], data[p.start:p.end]


def test_differential_against_python_hl7(corpora):
    """For every message python-hl7 parses, MSH-9, MSH-10, MSH-12 and PID-3 agree."""
    compared, refused, disagreements = 0, 0, []
    for path, raw in _messages(corpora):
        ours = scan(raw)
        text = re.sub(r"\r\n|\n", "\r", raw.decode("utf-8", "replace")).strip("\r")
        try:
            m = hl7.parse(text)
            theirs = (
                "^".join(x for x in (m.extract_field("MSH", 1, 9, 1, 1), m.extract_field("MSH", 1, 9, 1, 2)) if x) or None,
                m.extract_field("MSH", 1, 10) or None,
                m.extract_field("MSH", 1, 12, 1, 1) or None,
                (m.extract_field("PID", 1, 3, 1, 1) or None) if _has(m, "PID") else None,
            )
        except Exception:
            refused += 1
            assert ours["parse_state"] in ("ok", "invalid", "unparseable")
            assert ours["parse_state"] == "ok" or ours["reason"]
            continue
        compared += 1
        mine = (ours["message_type"], ours["control_id"], ours["version"], ours["patient_id"])
        if mine != theirs and not _escapes_differ(mine, theirs) and path not in KNOWN_DISAGREEMENTS:
            disagreements.append((path, mine, theirs))
    assert compared > 1400, (compared, refused)
    assert disagreements == []


def _has(m, seg):
    try:
        m.segment(seg)
        return True
    except KeyError:
        return False


def _escapes_differ(mine, theirs):
    """python-hl7 returns fields as written; we unescape \\S\\, \\T\\ and kin. Same value then."""
    return all(a == b or (b and "\\" in b) for a, b in zip(mine, theirs))


@pytest.mark.parametrize("folder", ["nhapi/bad_inputs_fuzz"])
def test_fuzzer_crashers_are_accounted_for(corpora, folder):
    for path in (corpora / "hl7v2" / folder).rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            pieces, _ = frame(data)
            for p in pieces:
                if p.kind in (MESSAGE, JUNK):
                    k = scan(data[p.start:p.end]) if p.kind == MESSAGE else {"parse_state": "unparseable", "reason": "junk"}
                    assert k["parse_state"] == "ok" or k["reason"]
