"""Detail trees of real messages: several types and versions, names from the declared version."""
from __future__ import annotations

import pytest

from core.hl7.encoding import decode
from core.hl7.framing import MESSAGE, frame
from core.hl7.structure import build, find, names_version
from core.privacy import PHI_FIELDS

# (corpus file, type, declared version, a field to look at, its name in that version)
REAL = [
    ("hl7v2/hapi-hl7v2/ADT_A01.txt", "ADT", "2.4", "PID-5", "Patient Name"),
    ("hl7v2/microsoft-fhir-converter/ADT01-28.hl7", "ADT", "2.5.1", "PID-3", "Patient Identifier List"),
    ("hl7v2/microsoft-fhir-converter/MDM-T02-03.hl7", "MDM", "2.3", "TXA-2", "Document Type"),
    ("hl7v2/microsoft-fhir-converter/DFT-P03-01.hl7", "DFT", "2.8", "FT1-4", "Transaction Date"),
    ("hl7v2/linuxforhealth-hl7v2-fhir/from_tests/Hl7PatientFHIRConversionTest_L0499.hl7", "VXU", "2.3", "PID-7", "Date of Birth"),
    ("hl7v2/microsoft-fhir-converter/SIU-S12-01.hl7", "SIU", "2.8", "SCH-1", "Placer Appointment ID"),
    ("hl7v2/nhapi/from_tests/LegacyPipeParserV27Tests_L0017.hl7", "ORU", "2.7", "MSH-15", "Accept Acknowledgment Type"),
    ("hl7v2/hapi-hl7v2/from_tests/Hl7OverHttpEncoderTest_L0032.hl7", "ACK", "2.5", "MSA-1", "Acknowledgment Code"),
]


def first_message(corpora, rel: str) -> str:
    data = (corpora / rel).read_bytes()
    pieces, _ = frame(data, 0, final=True)
    p = next(p for p in pieces if p.kind == MESSAGE)
    return decode(data[p.start:p.end])[0]


@pytest.mark.parametrize(("rel", "kind", "version", "label", "name"), REAL, ids=[r[0].rsplit("/", 1)[1] for r in REAL])
def test_real_message_tree(corpora, rel, kind, version, label, name):
    text = first_message(corpora, rel)
    tree = build(text, version, PHI_FIELDS)
    lines = [s for s in text.replace("\r\n", "\r").replace("\n", "\r").split("\r") if s.strip()]
    assert [s.label for s in tree.segments] == [line[:3] for line in lines]
    assert tree.version == version and tree.note is None
    msh9 = find(tree, "MSH-9")
    assert msh9.name == "Message Type" and msh9.text.startswith(kind)
    node = find(tree, label) or find(tree, label + "[1]")
    assert node is not None, f"{label} missing"
    assert node.name.lower() == name.lower()
    assert node.datatype
    # nothing is lost: each segment's fields put back together give the line
    for seg, line in zip(tree.segments, lines):
        assert seg.value == line


def test_versions_differ_in_names():
    msg = "MSH|^~\\&|A|B|C|D|20200101||ADT^A01|1|P|{v}\rPID|1||123||DOE^JOHN"
    v23 = find(build(msg.format(v="2.3"), "2.3"), "PID-3")
    v25 = find(build(msg.format(v="2.5"), "2.5"), "PID-3")
    assert v23.name == "Patient ID Internal ID"
    assert v25.name == "Patient Identifier List"


def test_unknown_version_falls_back_with_a_note():
    assert names_version("2.9999") == ("2.5.1", "names from HL7 2.5.1 (the message declares 2.9999)")
    assert names_version("2.5.1^USA") == ("2.5.1", None)


def test_components_subcomponents_repetitions_and_escapes():
    tree = build("MSH|^~\\&|A|B|C|D|20200101||ADT^A01|1|P|2.5\rPID|1||123^^^MRN&1.2.3&ISO~456||O\\T\\BRIEN^JOHN", "2.5")
    assert [c.label for c in tree.segments[1].children] == ["PID-1", "PID-3[1]", "PID-3[2]", "PID-5"]
    authority = find(tree, "PID-3.4")
    assert authority.name == "Assigning Authority" and authority.datatype == "HD"
    assert [(s.label, s.name, s.text) for s in authority.children] == [
        ("PID-3.4.1", "Namespace ID", "MRN"), ("PID-3.4.2", "Universal ID", "1.2.3"), ("PID-3.4.3", "Universal ID Type", "ISO")]
    assert find(tree, "PID-5.1").text == "O&BRIEN" and find(tree, "PID-5.1").value == "O\\T\\BRIEN"


def test_z_segments_and_custom_delimiters():
    tree = build("MSH#*!@%#A#B#C#D#2020##ADT*A01#1#P#2.4\rZPI#x*y#", "2.4")
    assert find(tree, "MSH-2").value == "*!@%"
    z = tree.segments[1]
    assert z.label == "ZPI" and [c.label for c in z.children[0].children] == ["ZPI-1.1", "ZPI-1.2"]
    assert z.children[0].name == ""  # no standard name for a Z-segment, and no guess


def test_phi_fields_are_flagged_down_the_tree():
    tree = build("MSH|^~\\&|A|B|C|D|2020||ADT^A01|1|P|2.5\rPID|1||123^^^MRN||DOE^JOHN|||M", "2.5", PHI_FIELDS)
    assert find(tree, "PID-5").phi and find(tree, "PID-5.2").phi
    assert not find(tree, "PID-8").phi and not find(tree, "MSH-3").phi
