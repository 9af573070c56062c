"""C-CDA documents read from HL7's own examples (../shared/corpora/cda): typed, their header
and section inventory, what their type requires and lacks, the CDA schema and the C-CDA
R2.1 Schematron; from files, Direct attachments and XDM packages; and any bytes at all."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.demo_direct import PRACTICE
from core.documents import ccda, validate
from core.ingest import Ingestor
from core.store import documents, queue
from core.vocabulary import QueueKind
from tests.helpers.ccda_rules import SCHEMATRON, required_sections
from tests.helpers.cli import run

EXAMPLES = "cda/hl7-c-cda-examples/Documents"
XSD = "cda/hl7-cda-core-2.0/schema/extensions/SDTC/infrastructure/cda/CDA_SDTC.xsd"
T0 = datetime(2026, 12, 1, 9, 0)


@pytest.fixture
def schemas(corpora, monkeypatch):
    monkeypatch.setenv(validate.XSD_ENV, str(corpora / XSD))
    monkeypatch.setenv(validate.SCHEMATRON_ENV, str(corpora / SCHEMATRON))
    return corpora


def test_the_required_sections_table_says_what_the_schematron_says(corpora):
    table = {d["template"]: d["required_sections"] for d in ccda.types().values()}
    from_schematron = required_sections(corpora)
    assert {k: v for k, v in table.items() if k in from_schematron} == from_schematron
    assert [s["name"] for s in table["2.16.840.1.113883.10.20.22.1.14"]][-1] == "Reason for Referral Section (V2)"


def test_every_whole_example_document_is_typed_with_its_sections(corpora):
    found = {p.parent.name if p.parent.name != "CCD 2" else "CCD 2": ccda.read(p.read_bytes())
             for p in sorted((corpora / EXAMPLES).rglob("*.xml"))}
    assert len(found) == 11 and all(d.type_template and d.sections and not d.problems for d in found.values())
    assert found["Referral Note"].type_name == "Referral Note" and found["Referral Note"].missing == []
    ccd = found["CCD 2"]
    assert ccd.type_name == "Continuity of Care Document (CCD)" and ccd.patient_name == "Isabella Jones"
    assert {s.title: s.state for s in ccd.sections}["MEDICATIONS"] == "null_flavor" and ccd.missing == []
    assert (ccd.custodian, ccd.effective_time) == ("Good Health HIE", datetime(2014, 10, 15, 15, 30, 26))


def test_a_fragment_is_not_a_document_and_a_document_without_its_sections_lacks_them(corpora):
    fragment = next((corpora / "cda/hl7-c-cda-examples/Allergies").rglob("*.xml")).read_bytes()
    assert not ccda.is_cda(fragment)
    ccd = (corpora / EXAMPLES / "CCD/CCD 2/CCD.xml").read_bytes()
    body, end = ccd.index(b"<structuredBody>") + len(b"<structuredBody>"), ccd.index(b"</structuredBody>")
    empty = ccd[:body] + ccd[end:]  # the same CCD with no sections at all
    assert ccda.read(empty).missing == [s["name"] for s in ccda.types()["2.16.840.1.113883.10.20.22.1.2"]["required_sections"]]


def test_the_schema_finds_what_is_wrong_in_the_referral_example(schemas):
    raw = (schemas / EXAMPLES / "Referral Note/Referral_Note.xml").read_bytes()
    result = validate.xsd(raw)
    [finding] = result.findings
    assert result.state == "invalid" and "'IND' is not a valid value" in finding.text and finding.line
    assert validate.xsd((schemas / EXAMPLES / "CCD/CCD 2/CCD.xml").read_bytes()).state == "valid"


def test_without_a_schema_a_document_is_read_and_not_checked_with_why(monkeypatch, corpora):
    monkeypatch.delenv(validate.XSD_ENV, raising=False)
    result = validate.xsd((corpora / EXAMPLES / "CCD/CCD 2/CCD.xml").read_bytes())
    assert result.state == "not_checked" and validate.XSD_ENV in result.note


def test_a_file_that_is_not_xml_says_so_with_no_schema_at_all(monkeypatch):
    monkeypatch.delenv(validate.SCHEMATRON_ENV, raising=False)
    [finding] = (result := validate.schematron(b"MSH|^~\\&|not a document")).findings
    assert result.state == "unreadable" and finding.rule == "not well-formed XML"


def test_the_schematron_runs_on_demand_with_its_rules(schemas):
    raw = (schemas / "cda/hl7-cda-ccda-2.1/examples/C-CDA_R2-1_CCD.xml").read_bytes()
    result = validate.schematron(raw)
    assert result.state in ("valid", "invalid") and "voc.xml" in result.note
    assert all(f.severity in ("error", "warning") and f.rule for f in result.findings)


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def _mail_with(attachments: list[tuple[str, str, bytes]]) -> bytes:
    import base64

    parts = "".join(f"--b1\r\nContent-Type: {ctype}; name=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n"
                    f"Content-Disposition: attachment; filename=\"{name}\"\r\n\r\n{base64.encodebytes(data).decode()}\r\n"
                    for name, ctype, data in attachments)
    return (f"From: {PRACTICE}\r\nTo: intake@direct.cardiology.example\r\nSubject: Referral\r\nDate: Tue, 01 Dec 2026 "
            f"09:00:00 +0000\r\nMessage-ID: <doc1@riverside>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
            f"boundary=\"b1\"\r\n\r\n{parts}--b1--\r\n").encode()


def test_documents_in_attachments_packages_and_files_are_stored_and_their_problems_queued(store, schemas, tmp_path):
    referral = (schemas / EXAMPLES / "Referral Note/Referral_Note.xml").read_bytes()
    ccd = (schemas / EXAMPLES / "CCD/CCD 2/CCD.xml").read_bytes()
    package = _zip({"IHE_XDM/SUBSET01/METADATA.XML": b"<x/>", "IHE_XDM/SUBSET01/DOC0001.XML": ccd})
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "referral.eml").write_bytes(_mail_with([("referral.xml", "application/xml", referral),
                                                                ("package.zip", "application/zip", package)]))
    (tmp_path / "in" / "summary.xml").write_bytes(ccd)
    Ingestor(store, now=lambda: T0).ingest_paths([tmp_path / "in"])
    found = sorted((d["part"] or "", d["type_name"], d["xsd_state"]) for d in documents.every(store))
    assert found == [("", "Continuity of Care Document (CCD)", "valid"),
                     ("package.zip/IHE_XDM/SUBSET01/DOC0001.XML", "Continuity of Care Document (CCD)", "valid"),
                     ("referral.xml", "Referral Note", "invalid")]
    [item] = queue.items(store, kinds=[QueueKind.DOCUMENT_INVALID])
    assert "Referral Note 'referral.xml'" in item["reason"] and "fails the CDA schema (line" in item["reason"]
    assert documents.get(store, documents.every(store)[0]["id"])["raw"] in (ccd, referral)


def test_documents_and_validate_headless(store, store_url, schemas, tmp_path, capsys):
    (tmp_path / "ref.xml").write_bytes((schemas / EXAMPLES / "Referral Note/Referral_Note.xml").read_bytes())
    Ingestor(store, now=lambda: T0).ingest_paths([tmp_path / "ref.xml"])
    code, out, _ = run(capsys, store_url, "documents", "--json")
    [doc] = [json.loads(line) for line in out.splitlines()]
    assert code == 4 and doc["type_name"] == "Referral Note" and doc["xsd_state"] == "invalid"
    code, out, _ = run(capsys, store_url, "validate", str(doc["id"]), "--no-schematron")
    assert code == 4 and out.startswith("schema: invalid\n") and "'IND' is not a valid value" in out
    code, _, err = run(capsys, store_url, "validate", str(tmp_path / "nothing.xml"))
    assert code == 1 and "nothing.xml: No such file or directory" in err


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000) | st.text(max_size=2000).map(lambda t: f"<ClinicalDocument xmlns='urn:hl7-org:v3'>{t}"
                                                              "</ClinicalDocument>".encode()))
def test_any_bytes_read_as_a_document_with_problems_never_an_exception(raw):
    doc = ccda.read(raw)
    assert isinstance(doc.problems, list) and doc.type_name
