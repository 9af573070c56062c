"""Corrections are checked for what receivers NAK: each of these passed the preview before."""
from __future__ import annotations

import pytest

from core.commands.context import Context
from core.commands.correct import Correct
from core.hl7 import checks
from core.ingest import Ingestor

ORU = ("MSH|^~\\&|QUEST|QUEST_LAB|ECW|NFM|20260101120000||ORU^R01^ORU_R01|C1|P|2.5.1\r"
       "PID|1||MRN1^^^NFM^MR||DOE^JANE||19800101|F\r"
       "OBR|1|P1|F1|GLU^Glucose|||20260101110000|||||||||||||||||F\r"
       "OBX|1|NM|GLU^Glucose||98|mg/dL||N|||F\r")


@pytest.fixture
def message(store):
    [mid] = Ingestor(store).ingest_messages("lab", [ORU.encode()], transport="file")
    return Correct(Context(store, actor="a@b")), mid


def test_the_message_as_it_arrived_is_clean():
    assert checks.findings(ORU, "2.5.1") == []


@pytest.mark.parametrize(("path", "value", "words"), [
    ("OBR-7", "notadate", "OBR-7 is not a date and time"),
    ("MSH-9.1", "ZZZ", "MSH-9.1 holds a code that is not in HL7 table 0076"),
    ("PID-3.1", "", "PID-3 is required on this lane and has an empty PID-3.1"),
    ("PID-99.1", "x", "PID-99 is past the end of PID, which has 39 fields"),
    ("OBX-5", "ninety", "OBX-5 is not a number"),
    ("PID-8", "Q", "PID-8 holds a code that is not in HL7 table 0001"),
    ("OBX-11", "Z", "OBX-11 holds a code that is not in HL7 table 0085"),
])
def test_what_a_receiver_would_nak_is_found_in_the_preview(message, path, value, words):
    correct, mid = message
    preview = correct.preview(mid, [(path, value)], structural=False)
    assert any(words in f.text for f in preview.findings), [f.text for f in preview.findings]


def test_findings_quote_no_value(message):
    correct, mid = message
    preview = correct.preview(mid, [("PID-7", "MARGARET")], structural=False)
    assert preview.findings and not any("MARGARET" in f.text for f in preview.findings)
