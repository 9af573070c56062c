"""The scope inventory against documents captured from real servers (../shared/corpora/fhir)."""
from __future__ import annotations

import json

import pytest

from core.fhir.capability import read_capability, read_smart_config
from core.fhir.inventory import build


def load(corpora, path):
    return json.loads((corpora / "fhir" / path).read_text(encoding="utf-8"))


def test_every_capability_and_smart_document_yields_an_inventory(corpora):
    caps = sorted((corpora / "fhir" / "capability-statements").rglob("*.json"))
    smarts = sorted((corpora / "fhir" / "smart-configuration").rglob("*.json"))
    assert len(caps) >= 19 and len(smarts) >= 5
    for c in caps:
        cap = read_capability(json.loads(c.read_text(encoding="utf-8")))
        assert cap.release in ("DSTU2", "STU3", "R4", "R4B", "R5"), c.name
        for s in smarts:
            inv = build(cap, read_smart_config(json.loads(s.read_text(encoding="utf-8"))),
                        requested="patient/*.read launch/patient", granted="patient/Patient.read")
            assert inv.rows() and inv.summary()["resource_types"] >= len(cap.resources)


def test_cerner_millennium_advertises_173_v1_scopes(corpora):
    smart = read_smart_config(load(corpora, "smart-configuration/cerner/cerner_millennium_R4_WELL_KNOWN.json"))
    inv = build(None, smart)
    scopes = inv.scopes["advertised"]
    assert len(scopes) == 173
    assert {s.version for s in scopes if s.kind == "resource"} == {1}
    assert {s.context for s in scopes if s.kind == "resource"} == {"patient", "user", "system"}
    assert sum(s.is_write for s in scopes) > 0 and not [s for s in scopes if s.kind == "unknown"]
    assert smart.syntax == {1}
    flagged = build(None, smart, requested="patient/Observation.rs").flags
    assert any(f.code == "syntax_not_accepted" and "accepts v1" in f.text for f in flagged)


def test_a_capture_mixing_v1_and_v2_scopes(corpora):
    smart = read_smart_config(load(corpora, "smart-configuration/lantern/authorization_cerner_smart_response.json"))
    scopes = build(None, smart).scopes["advertised"]
    assert len(scopes) == 117
    v1 = [s for s in scopes if s.version == 1]
    v2 = [s for s in scopes if s.version == 2]
    assert len(v1) > 100 and v2 and any(s.params for s in v2)
    assert sum(1 for s in v1 if s.interactions == "rs") == 61 and sum(1 for s in v1 if s.is_write) == 47
    assert smart.syntax == {2}  # it advertises v1 scopes yet declares only permission-v2: an inconsistency to show
    assert any(f.code == "syntax_not_accepted" for f in build(None, smart, requested="patient/Observation.read").flags)


def test_the_tsys_sandbox_system_wildcard_on_a_patient_app(corpora):
    smart = read_smart_config(load(corpora, "smart-configuration/lantern/fhir_sandbox_smart_response.json"))
    codes = {f.code for f in build(None, smart, requested="system/*.read", audience="patient").flags}
    assert {"wildcard", "system_on_patient_app"} <= codes


def test_versions_are_read_from_the_documents_not_their_names(corpora):
    cap = lambda p: read_capability(load(corpora, f"capability-statements/{p}"))  # noqa: E731
    assert cap("lantern/epic_capability_dstu2.json").release == "DSTU2"
    assert cap("lantern/epic_capability_stu3.json").release == "STU3"
    assert cap("lantern/careevolution_dstu2.json").release == "R4"  # named dstu2, an R4 statement
    bulk = cap("inferno-g10/CapabilityStatement-smart-bulk-data-server.json")
    assert any("acceptUnknown" in n for n in bulk.notes)
    cerner = cap("cerner/cerner_millennium_R4_AUTH_METADATA.json")
    assert cerner.oauth_uris["token"].endswith("/token") and "Patient" in cerner.resources


@pytest.fixture
def soarian(corpora):
    return read_capability(load(corpora, "capability-statements/cerner/cerner_soarian_R4_METADATA.json"))


def test_the_matrix_and_the_review_flags(soarian):
    smart = read_smart_config({"scopes_supported": ["user/Patient.read", "user/Observation.read"],
                               "capabilities": ["permission-v1", "permission-v2"]})
    observation = sorted(soarian.resources["Observation"].search_params)
    inv = build(soarian, smart, audience="provider",
                requested=["user/Patient.read", "user/Observation.rs?category=laboratory", "user/Observation.rs?colour=red",
                           "user/Condition.write", "user/Practitioner.write", "user/*.read"],
                granted="user/Patient.read user/Observation.rs user/Condition.write",
                needed="user/Observation.rs user/AllergyIntolerance.rs")
    by = {}
    for f in inv.flags:
        by.setdefault(f.code, []).append(f.scope)
    assert "category" in observation
    assert by["param_not_searchable"] == ["user/Observation.rs?colour=red"]
    assert "user/Condition.write" in by["clinical_write"] and "user/Practitioner.write" in by["administrative_write"]
    assert by["wildcard"] == ["user/*.read"]
    # the granular requests are covered by the broader grant: not narrowed
    assert set(by["silently_narrowed"]) == {"user/Practitioner.write", "user/*.read"}
    assert by["needed_not_granted"] == ["user/AllergyIntolerance.rs"]
    assert "user/Condition.write" in by["granted_not_supported"]  # Soarian has no Condition create/update/delete
    cell = inv.cells[("Patient", "r")]
    assert cell.supported and cell.contexts["granted"] == {"user"} and cell.contexts["advertised"] == {"user"}
    writes = inv.rows(writes_only=True)
    assert writes and all(r["interaction"] in "cud" for r in writes)


def test_reads_and_searches_are_never_flagged_as_writes():
    from core.fhir.inventory import build

    inv = build(None, None, requested=["user/Appointment.cruds", "user/Observation.*"])
    rows = {(r["resource"], r["interaction"]): r["flags"] for r in inv.rows()}
    for res in ("Appointment", "Observation"):
        for letter in "rs":
            assert not {"clinical_write", "administrative_write"} & set(rows[(res, letter)]), (res, letter)
        assert {"clinical_write", "administrative_write"} & set(rows[(res, "c")])
