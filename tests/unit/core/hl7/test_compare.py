"""Comparing messages field by field, and two sets keyed by a field path."""
from hypothesis import given, settings
from hypothesis import strategies as st

from core.deidentify import Deidentifier
from core.hl7.compare import compare, compare_sets, differences
from core.hl7.framing import MESSAGE, frame
from core.privacy import PHI_FIELDS

LEFT = ("MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.5\rPID|1||123^^^H^MR~456^^^S^SS||DOE^JOHN\rOBR|1|ORD1\r"
        "OBX|1|NM|GLU||105|mg/dL||H\rOBX|2|NM|NA||140")
RIGHT = ("MSH|^~\\&|A|B|C|D|20240102||ORU^R01|2|P|2.5\rPID|1||456^^^S^SS~123^^^H^MR||DOE^JON\rOBR|1|ORD1\r"
         "NTE|1||hi\rOBX|1|NM|GLU||106|mg/dL||H\rOBX|2|NM|NA||140")


def test_fields_are_aligned_by_segment_and_broken_down_to_what_differs():
    found = {r.path: (r.left, r.right) for r in differences(LEFT, RIGHT)}
    assert found == {
        "MSH-7": ("20240101", "20240102"), "MSH-10": ("1", "2"),
        "PID-5.2": ("JOHN", "JON"),  # the identifiers in another order differ in nothing
        "NTE-1": (None, "1"), "NTE-3": (None, "hi"),  # a segment one side lacks shifts nothing after it
        "OBX[1]-5": ("105", "106"),
    }
    same = {r.path for r in compare(LEFT, RIGHT) if r.same}
    assert {"OBX[2]-5", "OBR-2", "PID-3", "MSH-9"} <= same
    assert not any(r.path.startswith("MSH-7") for r in differences(LEFT, RIGHT, ignore=["MSH-7"]))


def test_repetitions_that_differ_are_paired_in_order_after_the_equal_ones():
    a = "MSH|^~\\&|A|B|C|D|1||ADT^A08|1|P|2.5\rPID|1||1^^^H^MR~2^^^H^PI~3^^^H^AN"
    b = "MSH|^~\\&|A|B|C|D|1||ADT^A08|1|P|2.5\rPID|1||3^^^H^AN~9^^^H^MR"
    found = {r.path: (r.left, r.right) for r in differences(a, b)}
    assert found == {"PID-3[1].1": ("1", "9"), "PID-3[2]": ("2^^^H^PI", "")}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="AB1^~&|", max_size=8), max_size=12), st.lists(st.text(alphabet="AB1^~&|", max_size=8), max_size=12))
def test_a_message_is_the_same_as_itself_and_differences_are_symmetric(xs, ys):
    a = "MSH|^~\\&|A|B|C|D|1||ADT^A08|1|P|2.5\rPID|" + "|".join(xs) + "\rZZ1|" + "|".join(ys)
    b = "MSH|^~\\&|A|B|C|D|1||ADT^A08|1|P|2.5\rPID|" + "|".join(ys) + "\rNTE|" + "|".join(xs)
    assert differences(a, a) == []
    assert sorted((r.segment, r.number, r.left or "", r.right or "") for r in differences(a, b)) == \
        sorted((r.segment, r.number, r.right or "", r.left or "") for r in differences(b, a))


def test_on_the_corpus_a_de_identified_copy_differs_only_where_it_should(corpora):
    ids, compared = Deidentifier(key=b"k" * 32), 0
    for path in sorted((corpora / "hl7v2").rglob("*.hl7"))[:400]:
        data = path.read_bytes()
        for piece in frame(data)[0]:
            if piece.kind != MESSAGE:
                continue
            text = data[piece.start:piece.end].decode("latin-1")
            assert differences(text, text) == []
            for r in differences(text, ids.message(text)):
                # identifiers, free text, Z-segments, or dates (moved): never anything else
                assert r.number in PHI_FIELDS.get(r.segment, ()) or r.segment.startswith("Z") or \
                    r.segment in ("NTE", "OBX", "OBR", "MSA", "ERR") or (r.left or "")[:2] in ("19", "20") or \
                    not r.right, (path.name, r)
            compared += 1
    assert compared > 300


def test_two_sets_keyed_by_a_field_are_matched_only_left_only_right_and_different():
    def order(n, value="105", extra=""):
        return f"MSH|^~\\&|A|B|C|D|2024010{n}||ORM^O01|{n}|P|2.5\rORC|NW|ORD{n}\rOBX|1|NM|GLU||{value}{extra}"

    left = [(1, order(1)), (2, order(2)), (3, order(3)), (4, "MSH|^~\\&|A|B|C|D|1||ORM^O01|9|P|2.5\rORC|NW|")]
    right = [(11, order(1)), (12, order(2, "106")), (15, order(5))]
    found = compare_sets(left, right, "ORC-2", ignore=["MSH-7", "MSH-10"])
    assert found.summary() == {"key": "ORC-2", "matched": 2, "matched_but_different": 1, "only_left": 1,
                               "only_right": 1, "without_key": 1, "fields": {"OBX-5": 1}}
    assert found.pairs == [{"key": "ORD2", "left": 2, "right": 12, "fields": ["OBX-5"]}]
    assert found.only_left == [("ORD3", 3)] and found.only_right == [("ORD5", 15)] and found.no_key == [4]
