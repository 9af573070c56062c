"""Path edits: only the named element changes, escapes are right, hl7apy reads the result."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.hl7.edit import EditError, Path, escape, get_value, set_value
from core.hl7.scan import Delimiters

MSG = ("MSH|^~\\&|LAB|L|EHR|E|20260101120000||ORU^R01^ORU_R01|C1|P|2.5.1\r\n"
       "PID|1||MRN1^^^NFM&1.2.3&ISO^MR~ALT9||DOE^JANE||19800101|F\r\n"
       "OBR|1|P1|F1|GLU^Glucose\r\n"
       "OBX|1|NM|GLU^Glucose||98|mg/dL\r\n"
       "OBX|2|NM|NA^Sodium||140|mmol/L\r\n")


@pytest.mark.parametrize(("path", "value", "line", "expected"), [
    ("PID-3.1", "MRN2", 1, "PID|1||MRN2^^^NFM&1.2.3&ISO^MR~ALT9||DOE^JANE||19800101|F"),
    ("PID-3[2].1", "ALT0", 1, "PID|1||MRN1^^^NFM&1.2.3&ISO^MR~ALT0||DOE^JANE||19800101|F"),
    ("PID-3.4.2", "2.16.840", 1, "PID|1||MRN1^^^NFM&2.16.840&ISO^MR~ALT9||DOE^JANE||19800101|F"),
    ("PID-3[3]", "NEW", 1, "PID|1||MRN1^^^NFM&1.2.3&ISO^MR~ALT9~NEW||DOE^JANE||19800101|F"),
    ("PID-13", "555", 1, "PID|1||MRN1^^^NFM&1.2.3&ISO^MR~ALT9||DOE^JANE||19800101|F|||||555"),
    ("OBX[2]-5", "141", 4, "OBX|2|NM|NA^Sodium||141|mmol/L"),
    ("OBR-4.2", "Glucose, fasting", 2, "OBR|1|P1|F1|GLU^Glucose, fasting"),
    ("MSH-10", "C2", 0, "MSH|^~\\&|LAB|L|EHR|E|20260101120000||ORU^R01^ORU_R01|C2|P|2.5.1"),
    ("PID-5.1", "O|B^R~I&E\\N", 1, "PID|1||MRN1^^^NFM&1.2.3&ISO^MR~ALT9||O\\F\\B\\S\\R\\R\\I\\T\\E\\E\\N^JANE||19800101|F"),
])
def test_edits_change_only_their_element(path, value, line, expected):
    out = set_value(MSG, path, value)
    before, after = MSG.split("\r\n"), out.split("\r\n")
    assert after[line] == expected
    assert [b for i, b in enumerate(before) if i != line] == [a for i, a in enumerate(after) if i != line]
    assert out.count("\r\n") == MSG.count("\r\n")  # segment endings kept as they were


def test_paths_parse_and_refuse():
    assert str(Path.parse("pid-3[2].1")) == "PID-3[2].1"
    assert str(Path.parse("OBX[2]-5.1.2")) == "OBX[2]-5.1.2"
    for bad in ("PID3", "PID-0", "MSH-2", "PID-3..1", "X-1"):
        with pytest.raises(EditError):
            Path.parse(bad)
    with pytest.raises(EditError, match="no ZZZ"):
        set_value(MSG, "ZZZ-1", "x")


def test_round_trip_through_hl7apy():
    from hl7apy.parser import parse_message

    out = set_value(MSG, "PID-5.1", "O'BRIEN & SONS")
    parsed = parse_message(out.replace("\r\n", "\r").strip(), find_groups=False)
    assert parsed.pid.pid_5.pid_5_1.value == "O'BRIEN \\T\\ SONS"
    assert parsed.pid.pid_5.pid_5_1.to_er7() == "O'BRIEN \\T\\ SONS"
    assert get_value(out, "PID-5.1") == "O'BRIEN \\T\\ SONS"
    d = Delimiters("|", "^~\\&")
    assert d.text(get_value(out, "PID-5.1")) == "O'BRIEN & SONS"


values = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
paths = st.sampled_from(["PID-3.1", "PID-3[2]", "PID-5.2", "PID-3.4.3", "OBX[2]-5", "OBX-6", "OBR-4.1", "PID-30.2"])


@settings(max_examples=300, deadline=None)
@given(paths, values)
def test_any_value_lands_whole_and_leaves_the_rest(path, value):
    out = set_value(MSG, path, value)
    d = Delimiters("|", "^~\\&")
    assert d.text(get_value(out, path)) == value
    assert get_value(out, path) == escape(value, d)
    p = Path.parse(path)
    seg_index = {"PID": 1, "OBR": 2, "OBX": 3 + p.occurrence - 1}[p.segment]
    before, after = MSG.split("\r\n"), out.split("\r\n")
    assert [b for i, b in enumerate(before) if i != seg_index] == [a for i, a in enumerate(after) if i != seg_index]


@pytest.mark.parametrize("path", ["PID-3[999999999].1", "PID-1000", "PID-3.100", "PID-3.1.100", "OBX[10000]-5"])
def test_numbers_past_what_hl7_holds_are_refused_at_once(path):
    import time

    t0 = time.monotonic()
    with pytest.raises(EditError, match="past what an HL7 message holds"):
        set_value("MSH|^~\\&|A|B|C|D|2026||ADT^A08|1|P|2.5\rPID|1||M1\r", path, "X")
    assert time.monotonic() - t0 < 0.1


def test_raw_text_from_a_file_is_read_in_the_messages_own_encoding(store):
    from core.commands.context import Context
    from core.commands.correct import Correct
    from core.ingest import Ingestor

    original = "MSH|^~\\&|A|B|C|D|2026||ADT^A08|1|P|2.5|||||DE|8859/1\rPID|1||M1||MÜLLER^JÖRG\r".encode("latin-1")
    [mid] = Ingestor(store).ingest_messages("f", [original], transport="file")
    corrected = original.replace(b"M1", b"M2").replace(b"\r", b"\n")  # an editor saved it with LF, in Latin-1
    preview = Correct(Context(store, actor="a@b")).preview(mid, raw_bytes=corrected)
    assert "MÜLLER^JÖRG" in preview.after and "||M2||" in preview.after and "\n" not in preview.after
