"""A FHIR server's answer in words: HTTP statuses an operator meets (401, 403, 404, 429,
5xx) and the issues of an OperationOutcome."""
from __future__ import annotations

import httpx2

from core import secrets

STATUS_WORDS = {
    400: "the server could not understand the request",
    401: "not authorised: the token is missing, expired or refused",
    403: "forbidden: the token does not grant this (check the scopes)",
    404: "not found",
    406: "the server cannot answer in FHIR JSON",
    408: "the server timed out",
    410: "gone: the resource was deleted",
    422: "the server refused the content as invalid",
    429: "rate limited: too many requests",
    500: "the server failed (internal error)",
    502: "a gateway in front of the server failed",
    503: "the server is unavailable (down or overloaded)",
    504: "a gateway in front of the server timed out",
}


def outcome_text(doc: dict) -> str:
    """An OperationOutcome's issues, one sentence each: severity, code, what and where."""
    parts = []
    for issue in doc.get("issue") or []:
        if not isinstance(issue, dict):
            continue
        details = issue.get("details") if isinstance(issue.get("details"), dict) else {}
        what = (details.get("text") or next((c.get("display") or c.get("code") for c in details.get("coding") or []
                                             if isinstance(c, dict)), None) or issue.get("diagnostics") or "")
        what = " ".join(str(what).split())
        where = ", ".join(issue.get("expression") or issue.get("location") or [])
        parts.append(f"{issue.get('severity', 'error')} ({issue.get('code', 'unknown')}): {what or 'no details'}"
                     + (f" at {where}" if where else ""))
    return "; ".join(parts) or "an OperationOutcome with no issues"


def retry_after_s(response: httpx2.Response) -> float | None:
    """Retry-After in seconds (a number or an HTTP date), if the server said."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from datetime import UTC, datetime
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None


def describe(response: httpx2.Response) -> str:
    """What went wrong with this answer, in words; '' for a success."""
    if response.is_success:
        return ""
    words = STATUS_WORDS.get(response.status_code) or (
        "the server failed" if response.status_code >= 500 else "the request was refused")
    text = f"HTTP {response.status_code}: {words}"
    wait = retry_after_s(response)
    if wait is not None:
        text += f" (the server asks to wait {wait:.0f} s)"
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        text += f"; {outcome_text(body)}"
    elif isinstance(body, dict) and body.get("error"):  # an OAuth error (RFC 6749)
        text += f"; {body['error']}" + (f": {body['error_description']}" if body.get("error_description") else "")
    elif response.status_code == 401 and "invalid_token" in response.headers.get("WWW-Authenticate", ""):
        text += "; the server says the token is invalid"
    return secrets.scrub(text)  # a server may echo the request, secret and all
