"""A FHIR write judged on its four facts: write class, the token's scopes, the endpoint's
CapabilityStatement (the corpus's real ones) and the practice's contract and write switch."""
from __future__ import annotations

import json

from core.fhir.exchange import interaction
from core.fhir.scopes import resource_class
from core.fhir.writes import Write, judge, writes_of
from tests.helpers.har import BASE, corpus_json

ENABLED = {"name": "ehr", "write_enabled": True, "contracted_writes": ["Observation", "DocumentReference.create"]}


def test_classes_come_from_the_resources_table_and_unknown_types_are_clinical():
    assert resource_class("Observation") == "clinical"
    assert resource_class("Appointment") == "clinical"
    assert resource_class("Organization") == "administrative"
    assert resource_class("SomethingNew") == "clinical"


def test_a_contracted_scoped_write_to_an_enabled_endpoint_raises_no_flag():
    j = judge([Write("Observation", "create")], ENABLED, "patient/Observation.write")
    assert (j.write_class, j.flags, j.scope_allows, j.contracted, j.enabled) == ("clinical", [], True, True, True)
    assert judge([Write("Observation", "create")], ENABLED, "patient/Observation.cu").flags == []  # SMART v2


def test_each_failing_fact_is_a_flag_in_words():
    j = judge([Write("MedicationRequest", "update")], {**ENABLED, "write_enabled": False}, "patient/Observation.write")
    assert j.flags == ["writes are not enabled on ehr",
                       "update MedicationRequest is not among the writes contracted for ehr",
                       "no scope of the token allows update MedicationRequest"]
    assert judge([Write("DocumentReference", "update")], ENABLED, None).contracted is False
    assert judge([Write("DocumentReference", "create")], ENABLED, None).contracted is True


def test_an_opaque_token_and_no_capability_statement_raise_no_flag():
    j = judge([Write("Observation", "create")], ENABLED, None)
    assert (j.scope_allows, j.capability_allows, j.flags) == (None, None, [])


def test_the_capability_statement_says_what_is_offered(corpora):
    cap = corpus_json(corpora, "capability-statements/cerner/cerner_millennium_R4_AUTH_METADATA.json")
    offered = {r["type"]: {i["code"] for i in r.get("interaction", [])} for r in cap["rest"][0]["resource"]}
    readonly = next(t for t, codes in offered.items() if "create" not in codes and "update" not in codes)
    j = judge([Write(readonly, "create")], {**ENABLED, "contracted_writes": [readonly], "capability": cap}, None)
    assert j.capability_allows is False and "does not offer create" in j.flags[-1]
    writable = next(t for t, codes in offered.items() if "create" in codes)
    j = judge([Write(writable, "create")], {**ENABLED, "contracted_writes": [writable], "capability": cap}, None)
    assert j.capability_allows is True


def test_a_transaction_is_judged_by_each_write_it_holds(corpora):
    obs = corpus_json(corpora, "us-core/examples/bmi.json")
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": obs, "request": {"method": "POST", "url": "Observation"}},
        {"request": {"method": "DELETE", "url": "Organization/1"}},
        {"request": {"method": "GET", "url": "Patient/example"}}]}
    writes = writes_of(interaction("POST", BASE, BASE), json.dumps(bundle).encode())
    assert writes == [Write("Observation", "create"), Write("Organization", "delete")]
    assert judge(writes, ENABLED, None).write_class == "clinical"
    assert writes_of(interaction("GET", BASE + "/Patient/1", BASE), b"") == []


def test_the_workstations_table_is_over_the_shipped_one_and_a_broken_one_is_passed_over(tmp_path):
    from core.fhir.scopes import RESOURCE_CLASSES, resource_classes

    (tmp_path / "mine.toml").write_text('administrative = "Appointment"\n', encoding="utf-8")
    assert resource_classes(RESOURCE_CLASSES, tmp_path / "mine.toml")["Appointment"] == "administrative"
    (tmp_path / "broken.toml").write_text('administrative = "Appointment\n', encoding="utf-8")
    assert resource_classes(RESOURCE_CLASSES, tmp_path / "broken.toml")["Appointment"] == "clinical"
