"""HAR files written as a browser's developer tools write them (HAR 1.2): the builders the
tests and benchmarks use, and the demo workspace's own, a patient portal app's day against
the demo FHIR server: sign-ins, reads, searches and writes, some taken, some refused with an
OperationOutcome, one rate limited, and writes the practice never contracted for.

The people in it are the demo's invented patients; no token in it is signed.
"""
from __future__ import annotations

import base64
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.demo import FAMILY, GIVEN

APP = "portal-app"
APP_ORIGIN = "https://portal.northside-fm.example"
START = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # when a built entry happened, unless told
SCOPES = ("launch/patient openid fhirUser patient/*.read patient/Observation.write patient/MedicationRequest.write")
_STATUS = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           409: "Conflict", 412: "Precondition Failed", 422: "Unprocessable Entity", 429: "Too Many Requests",
           500: "Internal Server Error"}


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


def archive(entries: list[dict], creator: str = "Chrome DevTools") -> bytes:
    """A HAR 1.2 file's bytes, as a browser writes it (indented)."""
    return json.dumps({"log": {"version": "1.2", "creator": {"name": creator, "version": "131"},
                               "pages": [], "entries": entries}}, indent=2).encode()


# -- the demo's portal app --------------------------------------------------------------------
def write(folder: Path, base_url: str, token_url: str, now: datetime, *, visits: int = 36, seed: int = 11) -> Path:
    """The portal app's last day against the demo server, as `folder`/portal-app.har."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "portal-app.har"
    path.write_bytes(archive(session(base_url, token_url, now, visits=visits, seed=seed), creator="Firefox"))
    return path


def session(base_url: str, token_url: str, now: datetime, *, visits: int, seed: int) -> list[dict]:
    """`visits` patients over the last day, each signing in, reading their chart and
    recording a reading; every few visits a write is refused, rate limited or not one the
    practice contracted for."""
    rng = random.Random(seed)
    start = (now.replace(tzinfo=UTC) if now.tzinfo is None else now) - timedelta(hours=24)  # the store's clock is UTC
    entries: list[dict] = []

    def ms() -> float:  # how long the server took
        return round(rng.uniform(60, 420), 1)

    for v in range(visits):
        at = start + timedelta(minutes=40 * v + rng.randint(0, 20))
        pid = f"pt-{1000 + v}"
        token = jwt({"scope": SCOPES, "client_id": APP, "patient": pid, "exp": int((at + timedelta(hours=1)).timestamp())})
        t = iter(at + timedelta(seconds=s) for s in range(0, 600, 3))
        sign_in = f"grant_type=authorization_code&code=demo-code-{v}&code_verifier=demo-verifier-{v}&client_id={APP}"
        entries.append(entry("POST", token_url, status=200, body=sign_in, at=next(t), ms=ms(), origin=APP_ORIGIN,
                             answer={"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": SCOPES,
                                     "patient": pid}))
        call = {"token": token, "origin": APP_ORIGIN}
        entries.append(entry("GET", f"{base_url}/Patient/{pid}", status=200, at=next(t), ms=ms(),
                             answer=_patient(pid, rng), **call))
        entries.append(entry("GET", f"{base_url}/Observation?patient={pid}&category=vital-signs", status=200,
                             at=next(t), ms=ms(), answer={"resourceType": "Bundle", "type": "searchset", "total": 0},
                             **call))
        reading = _weight(pid, at, rng)
        if v % 9 == 4:
            entries.append(entry("POST", f"{base_url}/Observation", status=429, body=reading, at=next(t), ms=ms(),
                                 answer_headers={"Retry-After": "60"}, answer=_outcome(
                                     "throttled", "Too many requests for this practice: 250 a minute"), **call))
        if v % 5 == 2:
            bad = json.loads(json.dumps(reading))
            bad["valueQuantity"]["code"] = "kgs"
            entries.append(entry("POST", f"{base_url}/Observation", status=422, body=bad, at=next(t), ms=ms(),
                                 answer=_outcome("code-invalid", "Unknown unit 'kgs' for system http://unitsofmeasure.org",
                                                 "Observation.valueQuantity.code"), **call))
        n = len(entries)
        entries.append(entry("POST", f"{base_url}/Observation", status=201, body=reading, at=next(t), ms=ms(),
                             answer_headers={"Location": f"{base_url}/Observation/wt-{n}/_history/1", "ETag": 'W/"1"'},
                             **call))
        if v % 7 == 3:
            entries.append(entry("PUT", f"{base_url}/Observation/wt-{n}", status=412, at=next(t), ms=ms(),
                                 body={**reading, "id": f"wt-{n}"}, headers={"If-Match": 'W/"1"'}, answer=_outcome(
                                     "conflict", "The resource was changed since version 1 (now version 2)"), **call))
        if v % 8 == 6:
            entries.append(entry("POST", f"{base_url}/MedicationRequest", status=201, body=_refill(pid, at), at=next(t),
                                 ms=ms(), answer_headers={"Location": f"{base_url}/MedicationRequest/mr-{n}/_history/1"},
                                 **call))
    return entries


def _patient(pid: str, rng: random.Random) -> dict:
    return {"resourceType": "Patient", "id": pid,
            "identifier": [{"system": "urn:oid:2.16.840.1.113883.3.564.1", "value": f"MRN{100000 + int(pid[3:])}"}],
            "name": [{"family": rng.choice(FAMILY).title(), "given": [rng.choice(GIVEN).title()]}],
            "gender": rng.choice(("female", "male")), "birthDate": f"{rng.randint(1940, 2005)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"}


def _weight(pid: str, at: datetime, rng: random.Random) -> dict:
    return {"resourceType": "Observation", "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "vital-signs"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
            "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": at.isoformat().replace("+00:00", "Z"),
            "valueQuantity": {"value": round(rng.uniform(50, 110), 1), "unit": "kg",
                              "system": "http://unitsofmeasure.org", "code": "kg"}}


def _refill(pid: str, at: datetime) -> dict:
    return {"resourceType": "MedicationRequest", "status": "draft", "intent": "order",
            "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                      "code": "314076", "display": "lisinopril 10 MG Oral Tablet"}]},
            "subject": {"reference": f"Patient/{pid}"}, "authoredOn": at.date().isoformat(),
            "note": [{"text": "Refill requested by the patient in the portal"}]}


def _outcome(code: str, text: str, expression: str | None = None) -> dict:
    issue = {"severity": "error", "code": code, "details": {"text": text}}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}
