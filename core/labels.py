"""Words shared by every view: counts, patients, durations, connection problems. The
words of states and kinds are in core.vocabulary, with the states."""
from __future__ import annotations

import ssl

from core.vocabulary import AckState, ParseState


def plural(n: int, word: str, words: str | None = None) -> str:
    """"1 item", "3 items", "1,204 messages": never "item(s)"."""
    return f"{n:,} {word if n == 1 else words or word + 's'}"


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
        if isinstance(seen, OSError) and (seen.errno or isinstance(seen, TimeoutError)):
            exc = seen  # the system's own error, under a library's wrapping
        seen = seen.__cause__ or seen.__context__
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused (nothing listens on that port)"
    if isinstance(exc, TimeoutError):
        return "no answer to the connection attempt (a firewall, or the host is down)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    return type(exc).__name__


# a Direct message's ACK state in the document lane's words (core.store.direct.summarise sets it)
_DIRECT_ACK = {"accepted": "Processed (MDN)", "error": "Failed (MDN)", "rejected": "Not delivered (DSN)",
               "missing": "MDN timed out", "pending": "Awaiting MDN"}


_FHIR_ANSWER = {"accepted": "Taken", "accepted_with_warnings": "Taken, warnings", "error": "Refused",
                "missing": "No answer"}


def is_fhir(row: dict) -> bool:
    """Whether a message row is a FHIR exchange (core.store.fhir: "FHIR create Observation")."""
    return row["parse_state"] == ParseState.TEXT and (row["message_type"] or "").startswith("FHIR ")


def parse(row: dict) -> str:
    """The Parse column of a message row; mail and FHIR exchanges are kept as text too, but
    are read as such, not failed as HL7."""
    if row["parse_state"] == ParseState.TEXT and row["message_type"] in ("Direct", "MDN", "DSN"):
        return "Mail"
    if is_fhir(row):
        return "FHIR"
    return ParseState.label(row["parse_state"])


def ack(row: dict) -> str:
    """The ACK column of a message row: an answer's code, else the state of its answer."""
    if row["is_ack"]:
        return row["message_type"] if row["message_type"] in ("MDN", "DSN") else f"ACK {row['ack_code'] or ''}".strip()
    if row["message_type"] == "Direct" and row["ack_state"] in _DIRECT_ACK:
        return _DIRECT_ACK[row["ack_state"]]
    if is_fhir(row) and row["ack_state"] in _FHIR_ANSWER:
        return _FHIR_ANSWER[row["ack_state"]]
    return AckState.label(row["ack_state"])
