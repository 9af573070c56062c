from __future__ import annotations

from core.hl7.structure import build, find
from core.privacy import MASK, PHI_FIELDS, mask, mask_text

MESSAGE = "\r".join([
    "MSH|^~\\&|ECW|NFM|QUEST|LAB|20260101||ADT^A01|C1|P|2.5.1",
    "PID|1||MRN1^^^NFM^MR||DOE^JANE||19800101|F|||1 MAIN ST^^SPRINGFIELD||(217)555-0100|||||ACCT9|123-45-6789",
    "NK1|1|DOE^JOHN|SPO|1 MAIN ST^^SPRINGFIELD|(217)555-0101",
    "IN1|1|PLAN1|INS1|ACME" + "|" * 11 + "|DOE^JANE|SEL|19800101|1 MAIN ST",
    "GT1|1|G1|DOE^JOHN||1 MAIN ST|(217)555-0101||19790101",
    "OBX|1|ST|GLU^Glucose||98|mg/dL",
])


def test_every_identifying_field_is_masked_and_nothing_else():
    masked = mask_text(MESSAGE)
    for secret in ("MRN1", "DOE", "19800101", "1 MAIN ST", "555-01", "123-45-6789", "ACCT9", "19790101"):
        assert secret not in masked
    lines = masked.split("\r")
    assert lines[0] == MESSAGE.split("\r")[0]
    assert lines[5] == "OBX|1|ST|GLU^Glucose||98|mg/dL"
    pid = lines[1].split("|")
    assert pid[3] == pid[5] == pid[7] == pid[11] == pid[13] == pid[19] == MASK
    assert pid[8] == "F"  # sex is not an identifier
    assert lines[2].split("|")[2] == MASK and lines[3].split("|")[16] == MASK and lines[4].split("|")[3] == MASK


def test_masking_keeps_the_structure_and_custom_delimiters():
    text = "MSH#^~\\&#A#B#C#D#2020##ADT^A01#1#P#2.5\rPID#1##MRN1##DOE^J"
    assert mask_text(text) == f"MSH#^~\\&#A#B#C#D#2020##ADT^A01#1#P#2.5\rPID#1##{MASK}##{MASK}"


def test_tree_table_and_raw_agree_on_what_is_identifying():
    tree = build(MESSAGE, "2.5.1", PHI_FIELDS)
    for label in ("PID-3.1", "PID-5.1", "PID-7", "PID-11.1", "PID-13", "PID-19", "NK1-2.1", "IN1-16.1", "GT1-3.1"):
        assert find(tree, label).phi, label
    assert mask("MRN1", True) == MASK and mask("MRN1", False) == "MRN1" and mask(None, True) is None


def test_words_about_a_message_lose_its_identifiers_and_keep_codes_and_references():
    from core.privacy import mask_words

    words = "101 at PID-3: patient MRN1 (DOE, JANE) born 19800101 not on file; retry on port 2575 for 3 items"
    masked = mask_words(words, MESSAGE)
    for secret in ("MRN1", "DOE", "JANE", "19800101"):
        assert secret not in masked
    for kept in ("101 at PID-3", "port 2575", "3 items", "not on file"):
        assert kept in masked
