"""Bulk export against the loopback server, with ndjson and OperationOutcomes from the corpora."""
from __future__ import annotations

import json

import pytest

from core import secrets
from core.commands.context import Context
from core.commands.endpoints import queue_bulk_errors
from core.fhir.bulk import follow, kick_off
from core.fhir.client import FhirClient, FhirError
from core.fhir.loopback import LoopbackFhirServer, key_pair
from core.store import queue


def test_export_polls_as_asked_counts_outputs_and_queues_its_errors(store, corpora):
    fhir = corpora / "fhir"
    allergies = (fhir / "bulk-ndjson/smart-sample-bulk-10-patients/AllergyIntolerance.000.ndjson").read_text()
    outcomes = [json.loads((fhir / "operation-outcome" / p).read_text()) for p in
                ("inferno-g10/OperationOutcome-code-invalid.json", "cerner/soarian_R4_BULK_STATUS_REQUEST_ERROR.json")]
    private, public = key_pair()
    with LoopbackFhirServer(public_key_pem=public) as server:
        server.files = {"AllergyIntolerance.000.ndjson": allergies,
                        "errors.ndjson": "\n".join(json.dumps(o) for o in outcomes) + "\n"}
        secrets.put("fhir:loop", "private_key", private)
        endpoint = {"name": "loop", "base_url": server.base_url, "auth": "backend", "client_id": "lanewatch",
                    "token_url": server.token_url, "alg": "RS384", "scopes_requested": "system/*.rs"}
        waits, seen = [], []
        with FhirClient(endpoint) as client:
            job = kick_off(client, types=["AllergyIntolerance"])
            follow(client, job, sleep=waits.append, on_progress=lambda j: seen.append(j.progress))
        assert job.state == "complete" and waits == [1.0, 1.0] and seen == ["1 of 3 types", "2 of 3 types"]
        [out] = job.outputs
        assert (out.type, out.count) == ("AllergyIntolerance", sum(1 for line in allergies.splitlines() if line.strip()))
        assert len(job.errors) == 2 and all("error" in e or "fatal" in e for e in job.errors)
    assert queue_bulk_errors(Context(store), "loop", job) == 2
    items = queue.items(store, kinds=["fhir_bulk_error"])
    assert len(items) == 2 and all(i["reason"].startswith("Bulk export from loop: ") for i in items)
    assert all("_jobs/1" in i["source"] for i in items)


def test_a_refused_kick_off_reads_as_words():
    with LoopbackFhirServer() as server, FhirClient({"name": "loop", "base_url": server.base_url, "auth": "none"}) as client:
        server.fail = [(403, {}, {"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "forbidden", "diagnostics": "export not allowed for this client"}]})]
        with pytest.raises(FhirError, match="the export did not start: HTTP 403: forbidden.*export not allowed"):
            kick_off(client)
