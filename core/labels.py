"""Words for the states the store keeps as codes, shared by every view."""
from __future__ import annotations

import ssl

ACK_STATES = {
    "accepted": "Accepted", "accepted_with_warnings": "Accepted, warnings", "error": "Error (NAK)",
    "rejected": "Rejected (NAK)", "missing": "ACK missing", "pending": "Awaiting ACK", "not_expected": "No ACK expected",
    "unrecognised": "ACK code not recognised",
}
PARSE_STATES = {"ok": "OK", "invalid": "Invalid", "unparseable": "Unparseable"}
DIRECTIONS = {"inbound": "In", "outbound": "Out", "between": "—"}
INTERFACE_STATUS = {"ok": "OK", "warn": "Open items", "high": "Many open items", "quiet": "Quiet"}
QUEUE_KINDS = {
    "nak_error": "NAK: error", "nak_reject": "NAK: reject", "missing_ack": "ACK missing", "unparseable": "Unparseable",
    "invalid": "Invalid", "duplicate": "Duplicate", "batch_mismatch": "Batch count", "unreadable_file": "Unreadable file",
    "error_folder": "Error folder", "failed_resend": "Resend failed", "fhir_bulk_error": "FHIR bulk error",
}


def plural(n: int, word: str, words: str | None = None) -> str:
    """"1 item", "3 items", "1,204 messages": never "item(s)"."""
    return f"{n:,} {word if n == 1 else words or word + 's'}"


def ack_state(code: str | None) -> str:
    return ACK_STATES.get(code or "", code or "")


def parse_state(code: str | None) -> str:
    return PARSE_STATES.get(code or "", code or "")


def queue_kind(code: str) -> str:
    return QUEUE_KINDS.get(code, code)


def patient(row: dict) -> str:
    """A message's patient as one line: the first identifier, then "FAMILY, GIVEN MIDDLE"."""
    name = (row["patient_name"] or "").replace("^", ", ", 1).replace("^", " ").strip(", ")
    return " ".join(v for v in (row["patient_id"], name) if v)


def duration(seconds: float | None) -> str:
    """A span of time as an operator reads it: "42 s", "17 min", "3 h 05 min", "2 days 4 h"."""
    if seconds is None:
        return ""
    s = int(seconds)
    if s < 120:
        return f"{s} s"
    if s < 2 * 3600:
        return f"{s // 60} min"
    if s < 2 * 86400:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86400} days {s % 86400 // 3600} h"


def connection_problem(exc: BaseException) -> str:
    """Why a connection failed, in words; an untrusted certificate is named as such, wherever
    in the chain of causes it is (httpx and asyncio wrap it)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"its TLS certificate is not trusted ({seen.verify_message})"
        seen = seen.__cause__ or seen.__context__
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused (nothing listens on that port)"
    if isinstance(exc, TimeoutError):
        return "no answer to the connection attempt (a firewall, or the host is down)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    return type(exc).__name__
