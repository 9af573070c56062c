"""HAR files for tests and benchmarks, built from the shared FHIR corpus: the requests an app
makes (a US Core example it creates, a search it runs) and the answers a real EHR gives
(the corpus's OperationOutcomes for 400/404/422, CapabilityStatements), in HAR 1.2 shape."""
from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

BASE = "https://fhir.example.test/fhir/r4/ABCD"
TOKEN_URL = "https://fhir.example.test/oauth2/token"
START = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


def jwt(claims: dict) -> str:
    """An unsigned JWT holding `claims` (the HAR reader reads scopes, it never verifies)."""
    def part(d: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'RS384', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def entry(method: str, url: str, *, status: int, body: dict | str | None = None, answer: dict | str | None = None,
          token: str | None = None, headers: dict | None = None, answer_headers: dict | None = None,
          at: datetime = START, ms: float = 42.0, origin: str | None = "https://app.example.test") -> dict:
    """One HAR entry: a request with its JSON (or form) body and bearer token, and its answer."""
    req_headers = [{"name": "Accept", "value": "application/fhir+json"}]
    if token:
        req_headers.append({"name": "Authorization", "value": f"Bearer {token}"})
    if origin:
        req_headers.append({"name": "Origin", "value": origin})
    req_headers += [{"name": k, "value": v} for k, v in (headers or {}).items()]
    request = {"method": method, "url": url, "httpVersion": "HTTP/1.1", "headers": req_headers, "queryString": [],
               "cookies": [], "headersSize": -1, "bodySize": -1}
    if body is not None:
        text = body if isinstance(body, str) else json.dumps(body, indent=2)
        mime = "application/x-www-form-urlencoded" if isinstance(body, str) else "application/fhir+json"
        request["postData"] = {"mimeType": mime, "text": text}
    text = "" if answer is None else answer if isinstance(answer, str) else json.dumps(answer)
    response = {"status": status, "statusText": _STATUS.get(status, ""), "httpVersion": "HTTP/1.1",
                "headers": [{"name": "Content-Type", "value": "application/fhir+json"}]
                + [{"name": k, "value": v} for k, v in (answer_headers or {}).items()],
                "cookies": [], "content": {"size": len(text), "mimeType": "application/fhir+json", "text": text},
                "redirectURL": "", "headersSize": -1, "bodySize": len(text)}
    return {"startedDateTime": at.isoformat().replace("+00:00", "Z"), "time": ms, "request": request,
            "response": response, "cache": {}, "timings": {"send": 0, "wait": ms, "receive": 0}}


_STATUS = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           409: "Conflict", 412: "Precondition Failed", 422: "Unprocessable Entity", 429: "Too Many Requests",
           500: "Internal Server Error"}


def archive(entries: list[dict], creator: str = "Chrome DevTools") -> bytes:
    """A HAR 1.2 file's bytes, as a browser writes it (indented)."""
    return json.dumps({"log": {"version": "1.2", "creator": {"name": creator, "version": "131"},
                               "pages": [], "entries": entries}}, indent=2).encode()


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
