"""Signatures group identical failures: identifiers out, field references kept."""
from __future__ import annotations

from core.ingest import Ingestor
from core.signatures import Signature, normalise
from core.store import queue
from core.vocabulary import QueueKind

BAD = ["hl7v2/nhapi/bad_inputs_fuzz",
       "hl7v2/cdc-prime-reportstream/test/resources/fhirengine/translation/FHIR_to_HL7/output-invalid.hl7"]


def test_normalise_strips_identifiers_and_keeps_field_references():
    assert normalise("Patient MRN12345 not found at PID-3.1") == "Patient # not found at PID-3.1"
    assert normalise("Value '20260101' too long in OBX[2]-5; 3 line(s) are not HL7 segments") == \
        "Value # too long in OBX[2]-5; # line(s) are not HL7 segments"
    assert normalise("MSH-10 (message control ID) is empty") == "MSH-10 (message control ID) is empty"


def test_nak_signatures_ignore_the_patient_and_order():
    a = Signature.of_nak(QueueKind.NAK_ERROR, "3", [{"code": "101", "location": "PID^1^3",
                                                    "text": "Required field missing for MRN100001"}], None)
    b = Signature.of_nak(QueueKind.NAK_ERROR, "3", [{"code": "101", "location": "PID^1^3",
                                                    "text": "Required field missing for MRN200002"}], None)
    assert a == b
    assert a.render() == "nak_error | 3 | 101 at PID^1^3: Required field missing for #"
    assert Signature.parse(a.render()) == a


def test_bad_corpus_inputs_group_sensibly(store, corpora):
    Ingestor(store).ingest_paths([corpora / p for p in BAD])
    items = queue.items(store)
    groups = queue.groups(store)
    assert len(items) >= 30 and len(groups) <= len(items) // 3
    assert sum(g["items"] for g in groups) == len(items)
    for g in groups:  # one kind per group, and the signature says which
        assert g["signature"].startswith(g["kind"] + " | ")
    by_signature = {g["signature"]: g["items"] for g in groups}
    assert by_signature["invalid | MSH-9 (message type) is empty; MSH-10 (message control ID) is empty"] >= 10


def test_files_in_an_error_folder_are_queued(store, tmp_path):
    from core.demo import write_logs

    write_logs(tmp_path / "logs", 50)
    Ingestor(store).ingest_paths([tmp_path / "logs"])
    items = queue.items(store, kinds=["error_folder"])
    assert {i["source"].rsplit("/", 2)[-2] for i in items} == {"errors"}
    assert len(items) == 2 and all(i["signature"] == "error_folder | errors" for i in items)
    assert "could not process or deliver" in items[0]["reason"]


def group_title(signature: str) -> str:
    return Signature.parse(signature).title()


def test_group_titles_read_as_sentences():
    assert group_title("nak_error | ECW → QUEST | 101 at PID-3: Required field missing") == \
        "101 at PID-3: Required field missing (on ECW → QUEST)"
    assert group_title("missing_ack | ECW → IIS") == "on ECW → IIS"
    assert group_title("error_folder | errors") == "in the engine's errors/ folder"
    assert group_title("invalid | required PID-3 missing") == "required PID-3 missing"
    assert group_title("failed_resend | 10.0.0.5:6661 | unknown") == "resend to 10.0.0.5:6661: unknown"


def test_signatures_read_back_as_they_were_written():
    for text in ("nak_reject | A → B | AR at PID-3", "missing_ack | ECW → IIS", "unparseable | a file with no message",
                 "batch_mismatch | BTS-1 says # messages", "fhir_bulk_error | loop | Patient # not found",
                 "duplicate | LAB"):
        assert Signature.parse(text).render() == text
    assert Signature.parse("unparseable | x | y").detail == "x | y"  # a rule may hold the separator
