"""Signatures group identical failures: identifiers out, field references kept."""
from __future__ import annotations

from core.ingest import Ingestor
from core.queue import nak_signature, normalise
from core.store import queries

BAD = ["hl7v2/nhapi/bad_inputs_fuzz",
       "hl7v2/cdc-prime-reportstream/test/resources/fhirengine/translation/FHIR_to_HL7/output-invalid.hl7"]


def test_normalise_strips_identifiers_and_keeps_field_references():
    assert normalise("Patient MRN12345 not found at PID-3.1") == "Patient # not found at PID-3.1"
    assert normalise("Value '20260101' too long in OBX[2]-5; 3 line(s) are not HL7 segments") == \
        "Value # too long in OBX[2]-5; # line(s) are not HL7 segments"
    assert normalise("MSH-10 (message control ID) is empty") == "MSH-10 (message control ID) is empty"


def test_nak_signatures_ignore_the_patient_and_order():
    a = nak_signature("nak_error", "3", [{"code": "101", "location": "PID^1^3", "text": "Required field missing for MRN100001"}], None)
    b = nak_signature("nak_error", "3", [{"code": "101", "location": "PID^1^3", "text": "Required field missing for MRN200002"}], None)
    assert a == b == "nak_error | 3 | 101 at PID^1^3: Required field missing for #"


def test_bad_corpus_inputs_group_sensibly(store, corpora):
    Ingestor(store).ingest_paths([corpora / p for p in BAD])
    items = queries.queue_items(store)
    groups = queries.queue_groups(store)
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
    items = queries.queue_items(store, kinds=["error_folder"])
    assert {i["source"].rsplit("/", 2)[-2] for i in items} == {"errors"}
    assert len(items) == 2 and all(i["signature"] == "error_folder | errors" for i in items)
    assert "could not process or deliver" in items[0]["reason"]


def test_group_titles_read_as_sentences():
    from core.queue import group_title

    assert group_title("nak_error | ECW → QUEST | 101 at PID-3: Required field missing", "nak_error") == \
        "101 at PID-3: Required field missing (on ECW → QUEST)"
    assert group_title("missing_ack | ECW → IIS", "missing_ack") == "on ECW → IIS"
    assert group_title("error_folder | errors", "error_folder") == "in the engine's errors/ folder"
    assert group_title("invalid | required PID-3 missing", "invalid") == "required PID-3 missing"
