"""HAR files for tests and benchmarks, built from the shared FHIR corpus: the requests an app
makes (a US Core example it creates, a search it runs) and the answers a real EHR gives
(the corpus's OperationOutcomes for 400/404/422, CapabilityStatements), in HAR 1.2 shape."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from core.demo_har import START, archive, entry, jwt

__all__ = ["BASE", "START", "TOKEN_URL", "app_session", "archive", "corpus_json", "entry", "jwt"]

BASE = "https://fhir.example.test/fhir/r4/ABCD"
TOKEN_URL = "https://fhir.example.test/oauth2/token"


def corpus_json(corpora: Path, relative: str) -> dict:
    return json.loads((corpora / "fhir" / relative).read_text(encoding="utf-8"))


def app_session(corpora: Path) -> list[dict]:
    """An app's session against the EHR: signs in, reads, searches and writes US Core
    resources; some writes succeed, others fail with the corpus's real OperationOutcomes."""
    scopes = "launch/patient patient/Patient.read patient/Observation.read patient/Observation.write"
    token = jwt({"scope": scopes, "client_id": "vitals-app", "exp": 1893456000})
    patient = corpus_json(corpora, "us-core/examples/patient-example.json")
    obs = corpus_json(corpora, "us-core/examples/bmi.json")
    med = corpus_json(corpora, "us-core/examples/medicationrequest-coded-oral-axid.json")
    invalid = corpus_json(corpora, "operation-outcome/inferno-g10/OperationOutcome-code-invalid.json")
    missing = corpus_json(corpora, "operation-outcome/cerner/millennium_R4_DOCUMENT_REFERENCE_NIL_STATUS.json")
    t = [START + timedelta(seconds=i) for i in range(20)]
    sign_in = "grant_type=authorization_code&code=SECRET-CODE&code_verifier=SECRET-VERIFIER&client_id=vitals-app"
    return [
        entry("POST", TOKEN_URL, status=200, body=sign_in, at=t[0],
              answer={"access_token": token, "token_type": "Bearer", "expires_in": 300, "scope": scopes,
                      "patient": "example", "refresh_token": "SECRET-REFRESH"}),
        entry("GET", f"{BASE}/Patient/example", status=200, answer=patient, token=token, at=t[1]),
        entry("GET", f"{BASE}/Observation?patient=example&category=vital-signs", status=200, token=token, at=t[2],
              answer={"resourceType": "Bundle", "type": "searchset", "total": 0}),
        entry("POST", f"{BASE}/Observation", status=201, body=obs, token=token, at=t[3],
              answer_headers={"Location": f"{BASE}/Observation/obs-1/_history/1", "ETag": 'W/"1"'}),
        entry("POST", f"{BASE}/Observation", status=422, body={**obs, "id": None} | {"status": "bogus"}, token=token,
              at=t[4], answer=invalid),
        entry("POST", f"{BASE}/Observation", status=422, body=obs, token=token, at=t[5], answer=invalid),
        entry("PUT", f"{BASE}/Observation/missing-1", status=404, body={**obs, "id": "missing-1"}, token=token, at=t[6],
              answer=missing),
        entry("POST", f"{BASE}/MedicationRequest", status=201, body=med, token=token, at=t[7],
              answer_headers={"Location": f"{BASE}/MedicationRequest/med-1/_history/1"}),
        entry("POST", f"{BASE}/Observation", status=429, body=obs, token=token, at=t[8], answer=""),
    ]
