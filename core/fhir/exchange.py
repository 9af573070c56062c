"""One FHIR exchange: a request and its response, however it was seen (a HAR file, the
recording tap), with what an analyst asks of it: which interaction on which resource, did
it write, what did the server answer, and the OperationOutcome's words.

An exchange is stored as text an analyst reads (`render`): the request line and headers,
the request body byte for byte, then the status line, headers and the response body byte
for byte. Authorization, cookies and other credentials are never part of it; the token's
scopes are read from it (a JWT's `scope` claim) and the token itself is dropped.
"""
from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from core.fhir.outcome import STATUS_WORDS, outcome_text

SECRET_HEADERS = frozenset(("authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"))
SECRET_FIELDS = frozenset(("access_token", "refresh_token", "id_token", "client_secret", "client_assertion", "code",
                           "code_verifier", "password", "assertion", "device_code"))
WRITES = frozenset(("create", "update", "patch", "delete", "transaction"))
NOT_STORED = "[not stored]"
_TYPE = re.compile(r"^[A-Z][A-Za-z]+$")


@dataclass
class Exchange:
    """A request and its response as seen. `status` 0: no response came (a reset, a timeout)."""

    method: str
    url: str
    started_at: datetime | None
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: bytes = b""
    status: int = 0
    status_text: str = ""
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes = b""
    duration_ms: float | None = None
    scopes: str | None = None  # what the bearer token granted, when it said
    app: str | None = None  # who made the call (a HAR's creator, a token's client_id)
    problem: str | None = None  # why a response is missing, in words

    def header(self, name: str, response: bool = True) -> str | None:
        name = name.lower()
        return next((v for k, v in (self.response_headers if response else self.request_headers) if k.lower() == name), None)


@dataclass(frozen=True)
class Interaction:
    name: str  # read, vread, search, history, create, update, patch, delete, transaction, batch, operation, capabilities
    resource_type: str | None
    resource_id: str | None = None
    operation: str | None = None  # $export, $everything...
    conditional: bool = False  # an If-None-Exist create, or an update/delete by search

    @property
    def is_write(self) -> bool:
        return self.name in WRITES

    def words(self) -> str:
        what = self.operation or self.name
        return f"{what} {self.resource_type}" if self.resource_type else what


def interaction(method: str, url: str, base_url: str, request_headers: list[tuple[str, str]] = ()) -> Interaction:
    """The FHIR REST interaction a request is (FHIR R4 http.html), from its method and its
    path below the endpoint's base."""
    method = method.upper()
    parts = urlsplit(url)
    below = unquote(parts.path)[len(urlsplit(base_url).path.rstrip("/")):].strip("/")
    segs = [s for s in below.split("/") if s]
    query = bool(parts.query)
    if segs and segs[-1].startswith("$"):
        rtype = segs[0] if _TYPE.match(segs[0]) else None
        return Interaction("operation", rtype, segs[1] if len(segs) == 3 else None, operation=segs[-1])
    if not segs:
        if method == "POST":
            return Interaction("transaction", "Bundle")  # or a batch: decided from the body (judge)
        return Interaction("search", None)
    if segs == ["metadata"]:
        return Interaction("capabilities", "CapabilityStatement")
    rtype = segs[0] if _TYPE.match(segs[0]) else None
    rid = segs[1] if len(segs) > 1 and not segs[1].startswith("_") else None
    if method == "GET":
        if len(segs) >= 4 and segs[2] == "_history":
            return Interaction("vread", rtype, rid)
        if "_history" in segs:
            return Interaction("history", rtype, rid)
        return Interaction("read", rtype, rid) if rid else Interaction("search", rtype)
    if method == "POST":
        if len(segs) > 1 and segs[1] == "_search":
            return Interaction("search", rtype)
        conditional = any(k.lower() == "if-none-exist" for k, _ in request_headers)
        return Interaction("create", rtype, conditional=conditional)
    if method in ("PUT", "PATCH", "DELETE"):
        name = {"PUT": "update", "PATCH": "patch", "DELETE": "delete"}[method]
        return Interaction(name, rtype, rid, conditional=rid is None and query)
    return Interaction(method.lower(), rtype, rid)


# -- what the bodies say ---------------------------------------------------------------
def json_body(body: bytes) -> dict | None:
    """A body as a JSON object, or None (empty, not JSON, not an object)."""
    if not body or body.lstrip()[:1] != b"{":
        return None
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


@dataclass(frozen=True)
class Answer:
    """What a response says: success or not, its OperationOutcome's issues in words."""

    ok: bool
    words: str  # '' for a clean success
    issues: tuple[dict, ...] = ()  # [{severity, code, text, expression}]
    retry_after: str | None = None


def answer(ex: Exchange) -> Answer:
    """Whether the server did what was asked: a 2xx without an error or fatal issue."""
    doc = json_body(ex.response_body)
    issues = tuple(_issues(doc)) if doc and doc.get("resourceType") == "OperationOutcome" else ()
    failing = any(i["severity"] in ("error", "fatal") for i in issues)
    if ex.status == 0:
        return Answer(False, f"no response: {ex.problem or 'the connection was reset or timed out'}")
    ok = 200 <= ex.status < 300 and not failing
    head = "" if 200 <= ex.status < 300 else f"HTTP {ex.status}: {STATUS_WORDS.get(ex.status) or ex.status_text or 'refused'}"
    said = outcome_text(doc) if issues else ""
    if ex.status == 429:
        wait = ex.header("Retry-After")
        head += f" (Retry-After: {wait})" if wait else " (no Retry-After)"
    words = "; ".join(w for w in (head, said if (not ok or failing or any(i["severity"] == "warning" for i in issues))
                                  else "") if w)
    return Answer(ok, words, issues, ex.header("Retry-After") if ex.status == 429 else None)


def _issues(doc: dict):
    for issue in doc.get("issue") or []:
        if isinstance(issue, dict):
            details = issue.get("details") if isinstance(issue.get("details"), dict) else {}
            text = details.get("text") or next((c.get("display") or c.get("code") for c in details.get("coding") or []
                                                if isinstance(c, dict)), None) or issue.get("diagnostics") or ""
            yield {"severity": str(issue.get("severity") or "error"), "code": str(issue.get("code") or "unknown"),
                   "text": " ".join(str(text).split()),
                   "expression": [str(e) for e in issue.get("expression") or issue.get("location") or []]}


def identifier(resource: dict | None) -> str | None:
    """A resource's first business identifier as a search token (system|value): what a
    conditional create is keyed on."""
    ids = (resource or {}).get("identifier")
    ids = ids if isinstance(ids, list) else [ids] if isinstance(ids, dict) else []
    for i in ids:
        if isinstance(i, dict) and i.get("value"):
            return f"{i.get('system', '')}|{i['value']}" if i.get("system") else str(i["value"])
    return None


def patient_of(resource: dict | None) -> str | None:
    """The patient a resource is about: its own id for a Patient, else its subject or patient reference."""
    if not resource:
        return None
    if resource.get("resourceType") == "Patient":
        return f"Patient/{resource['id']}" if resource.get("id") else identifier(resource)
    for key in ("subject", "patient", "beneficiary"):
        ref = resource.get(key)
        if isinstance(ref, dict) and ref.get("reference"):
            return str(ref["reference"])
    return None


def patient_name(resource: dict | None) -> str | None:
    """A Patient resource's first name as HL7 writes it (FAMILY^GIVEN), for the privacy screen."""
    if not resource or resource.get("resourceType") != "Patient":
        return None
    for n in resource.get("name") or []:
        if isinstance(n, dict) and (n.get("family") or n.get("given")):
            return f"{n.get('family', '')}^{' '.join(map(str, n.get('given') or []))}"
    return None


# -- as stored ---------------------------------------------------------------------------
def render(ex: Exchange) -> tuple[bytes, tuple[int, int], tuple[int, int]]:
    """The exchange as stored text, and where each body lies in it (start, length): the
    bodies are the bytes as they came; credentials are left out, named as not stored."""
    head = _head(f"{ex.method} {ex.url} HTTP/1.1", ex.request_headers)
    out = bytearray(head)
    req = (len(out), len(ex.request_body))
    out += ex.request_body
    status = f"HTTP/1.1 {ex.status} {ex.status_text}".rstrip() if ex.status else f"(no response: {ex.problem or 'none came'})"
    out += (b"\r\n\r\n" if ex.request_body else b"") + _head(status, ex.response_headers)
    resp = (len(out), len(ex.response_body))
    out += ex.response_body
    return bytes(out), req, resp


def _head(first: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [first] + [f"{k}: {NOT_STORED if k.lower() in SECRET_HEADERS else v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "replace")


def scopes_of(token: str | None) -> tuple[str | None, str | None]:
    """(scopes, client) a bearer token says it grants, when it is a JWT (read, never verified:
    this is a record of what an app held, not a sign-in); (None, None) for an opaque token."""
    if not token or token.count(".") != 2:
        return None, None
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None, None
    if not isinstance(claims, dict):
        return None, None
    scope = claims.get("scope") or claims.get("scp")
    scope = " ".join(map(str, scope)) if isinstance(scope, list) else scope
    client = claims.get("client_id") or claims.get("azp")
    return (str(scope) if scope else None), (str(client) if client else None)


def bearer(headers: list[tuple[str, str]]) -> str | None:
    value = next((v for k, v in headers if k.lower() == "authorization"), "")
    return value[7:].strip() if value[:7].lower() == "bearer " else None


def without_secrets(ex: Exchange, client: str | None = None) -> None:
    """A sign-in (a token request, or anything that hands out a token in its body) with
    every secret's value replaced, in place; the app and scopes it names are kept."""
    if not ((ex.method == "POST" and b"grant_type" in ex.request_body) or b'"access_token"' in ex.response_body):
        return
    granted = json_body(ex.response_body) or {}
    form = dict(parse_qsl(ex.request_body.decode("utf-8", "replace")))
    ex.app = client or form.get("client_id") or ex.app
    ex.scopes = str(granted["scope"]) if granted.get("scope") else ex.scopes
    ex.request_body, ex.response_body = redact(ex.request_body), redact(ex.response_body)


def redact(body: bytes) -> bytes:
    """A sign-in body with every secret's value replaced: a form or a JSON object."""
    doc = json_body(body)
    if doc is not None:
        return json.dumps({k: NOT_STORED if k in SECRET_FIELDS else v for k, v in doc.items()}).encode()
    try:
        fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return body if not body else NOT_STORED.encode()
    return urlencode([(k, NOT_STORED if k in SECRET_FIELDS else v) for k, v in fields]).encode()
