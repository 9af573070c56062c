"""The recording tap against a real FHIR server on loopback over verified TLS: an app's calls
pass through unchanged (the corpus's OperationOutcomes byte for byte, a 429's Retry-After,
a reset as a 502 the app can read), every exchange is stored and judged like a HAR file's
without a credential, and a store that cannot be written loses nothing."""
from __future__ import annotations

import json
import ssl
import time
from datetime import datetime

import httpx2
import pytest

from core.commands.context import Context
from core.commands.endpoints import ConfigureEndpoint
from core.fhir.loopback import LoopbackFhirServer
from core.ingest import Ingestor
from core.sources.fhir_tap import FhirTap, TapError
from core.store import endpoints, fhir, messages, queue
from tests.helpers.har import corpus_json, jwt

NOW = datetime(2026, 12, 1, 9, 0)
SCOPES = "launch/patient patient/Patient.read patient/Observation.write"


@pytest.fixture
def ehr(certificate):
    with LoopbackFhirServer(tls=certificate) as server:
        yield server


def _tap(store, ehr, certificate, **kw) -> FhirTap:
    ConfigureEndpoint(Context(store, now=lambda: NOW)).run(
        "sandbox", base_url=ehr.base_url, write_enabled=True, contracted_writes=["Observation.create"])
    trust = ssl.create_default_context(cafile=certificate[0])  # the test's certificate authority, verified
    return FhirTap(store, endpoints.get(store, "sandbox"), verify=trust, now=lambda: NOW, **kw)


def _token(ehr) -> str:
    token = jwt({"scope": SCOPES, "client_id": "vitals-app", "exp": 1893456000})
    ehr.tokens[token] = time.time() + 300
    return token


def test_an_apps_calls_pass_through_and_are_recorded_without_a_credential(store, ehr, certificate, corpora):
    tap = _tap(store, ehr, certificate)
    base = tap.start()
    token = _token(ehr)
    obs = corpus_json(corpora, "us-core/examples/bmi.json")
    invalid = (corpora / "fhir" / "operation-outcome/inferno-g10/OperationOutcome-code-invalid.json").read_bytes()
    with httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as app:
        found = app.get("/Patient", params={"name": "Smith"})
        created = app.post("/Observation", json=obs)
        ehr.fail = [(422, {}, json.loads(invalid)), (429, {"Retry-After": "60"}, None), (0, {}, None)]
        refused = app.post("/Observation", json=obs)
        limited = app.post("/Observation", json=obs)
        reset = app.post("/Observation", json=obs)
    tap.close()

    assert found.status_code == 200 and found.json()["resourceType"] == "Bundle"
    assert created.status_code == 201 and created.headers["Location"].startswith(ehr.base_url + "/Observation/")
    assert ehr.written[0] == ("POST", obs)  # the body went on as the app sent it
    assert refused.status_code == 422 and refused.json() == json.loads(invalid)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "60"
    assert reset.status_code == 502 and "could not reach" in reset.json()["issue"][0]["diagnostics"]

    stored = fhir.exchanges(store, writes=False)
    assert len(stored) == 5 == tap.stats.stored
    assert {e["app"] for e in stored} == {"vitals-app"} and {e["endpoint"] for e in stored} == {"sandbox"}
    for e in stored:
        raw = messages.get(store, e["message_id"])["raw"]
        assert token.encode() not in raw and b"Authorization: [not stored]" in raw
    assert sorted(e["status"] or 0 for e in fhir.exchanges(store, failed=True)) == [0, 422, 429]
    items = [i for i in queue.items(store) if i["kind"] == "fhir_write_failed"]
    assert len(items) == 3
    assert any("Immunization.subpotentReason[0].coding[0]" in i["reason"] for i in items)
    assert any("Retry-After: 60" in i["reason"] for i in items)
    assert any("no response" in i["reason"] for i in items)


def test_the_tap_is_for_loopback_and_verified_tls_only(store, ehr, certificate):
    with pytest.raises(TapError, match="loopback only"):
        _tap(store, ehr, certificate, host="0.0.0.0")
    ConfigureEndpoint(Context(store, now=lambda: NOW)).run("plain", base_url="http://ehr.example.test/fhir")
    with pytest.raises(TapError, match="not https"):
        FhirTap(store, endpoints.get(store, "plain"))


def test_an_upstream_whose_certificate_is_not_trusted_is_not_talked_to(store, ehr, certificate):
    ConfigureEndpoint(Context(store, now=lambda: NOW)).run("sandbox", base_url=ehr.base_url)
    tap = FhirTap(store, endpoints.get(store, "sandbox"), now=lambda: NOW)  # the system's trust store only
    with httpx2.Client(base_url=tap.start()) as app:
        answer = app.get("/Patient")
    tap.close()
    assert answer.status_code == 502 and "certificate" in answer.json()["issue"][0]["diagnostics"]
    assert ehr.requests == []


def test_a_store_that_cannot_be_written_loses_nothing(store, ehr, certificate, tmp_path):
    tap = _tap(store, ehr, certificate)
    base = tap.start()
    token = _token(ehr)
    with store.begin() as conn:  # the store breaks under the tap: its messages table is gone
        conn.exec_driver_sql("ALTER TABLE messages RENAME TO messages_away")
    with httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as app:
        answers = [app.post("/Observation", json={"resourceType": "Observation", "status": "final"}) for _ in range(3)]
    deadline = time.monotonic() + 10
    while not tap.stats.problems and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [a.status_code for a in answers] == [201] * 3  # the app was answered all the same
    assert "3 recorded exchanges kept" in tap.stats.problems[-1]
    assert "INSERT" not in tap.stats.problems[-1]  # words, not the statement
    spilled = tap.close(spill=tmp_path)
    assert spilled is not None and token.encode() not in spilled.read_bytes()

    with store.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE messages_away RENAME TO messages")
    Ingestor(store, now=lambda: NOW).ingest_paths([spilled])
    stored = fhir.exchanges(store)
    assert [e["status"] for e in stored] == [201] * 3
    assert {e["app"] for e in stored} == {"vitals-app"}
    assert {e["scopes"] for e in stored} == {SCOPES}
    assert not [i for i in queue.items(store) if i["kind"] == "fhir_write_flagged"]
