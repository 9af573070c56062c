"""Queue items: what needs a person, why, and a signature that groups identical failures."""
from __future__ import annotations

import re
from datetime import datetime

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_WITH_DIGITS = re.compile(r"[^\s,;:()]*\d[^\s,;:()]*")
# what stays: HL7 itself and field references such as MSH-10, PID-3.1, OBX[2]-5
_KEPT = re.compile(r"(HL7|[A-Z][A-Z0-9]{2}(\[\d+\])?(-\d+(\[\d+\])?(\.\d+)*)?)")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Text with identifiers stripped: quoted values, numbers and IDs become '#'; field references stay."""
    text = _QUOTED.sub("#", text or "")
    text = _WITH_DIGITS.sub(lambda m: m.group(0) if _KEPT.fullmatch(m.group(0)) else "#", text)
    return _SPACES.sub(" ", text).strip()[:300]


def nak_signature(kind: str, interface: str | None, errors: list[dict] | None, ack_text: str | None) -> str:
    if errors:
        e = errors[0]
        words = normalise(e.get("text") or e.get("diagnostic") or e.get("user_text") or "")
        detail = (f"{e.get('code') or 'no code'}" + (f" at {e['location']}" if e.get("location") else "")
                  + (f": {words}" if words else ""))
    else:
        detail = normalise(ack_text or "no error text")
    return f"{kind} | {interface or '?'} | {detail}"


_GROUP_WORDS = {"duplicate": "from {}", "error_folder": "in the engine's {}/ folder", "missing_ack": "on {}"}


def group_title(signature: str, kind: str) -> str:
    """A group's signature as a line a person reads (its kind is shown beside it)."""
    rest = signature.split(" | ", 1)[-1]
    if kind in ("nak_error", "nak_reject"):
        lane, _, detail = rest.partition(" | ")
        return f"{detail} (on {lane})" if detail else rest
    if kind == "failed_resend":
        destination, _, state = rest.partition(" | ")
        return f"resend to {destination}: {state}" if state else rest
    return _GROUP_WORDS.get(kind, "{}").format(rest)


def describe_nak(code: str, errors: list[dict] | None, ack_text: str | None) -> str:
    what = {"AE": "The receiver answered AE (application error): fix the message, then resend.",
            "CE": "The receiver answered CE (commit error): fix the message, then resend.",
            "AR": "The receiver answered AR (application reject): it could not process the message; resend it unchanged once the receiver is fixed.",
            "CR": "The receiver answered CR (commit reject): it could not accept the message; resend it unchanged later."}.get(
        code, f"The receiver answered '{code}', which is not an HL7 acknowledgment code: ask its owner what it means.")
    details = [f"{e['location'] or 'ERR'} {e['code']} {e['text'] or e['diagnostic'] or e['user_text']}".strip() for e in errors or []]
    if ack_text:
        details.insert(0, ack_text)
    return what + (" Receiver said: " + "; ".join(details) if details else "")


def item(kind: str, reason: str, signature: str, *, message_id: int | None, source_id: int | None, now: datetime,
         at: datetime | None = None) -> dict:
    """A queue item row, ready for a bulk insert. `at` is when the failure happened (the NAK's
    time, the message's, the moment its ACK became overdue), so a chart of open items over
    time tells when things failed, not when they were read; never later than now."""
    return {
        "message_id": message_id, "source_id": source_id, "kind": kind, "reason": reason,
        "signature": signature[:400], "triage_state": "open", "owner": None, "note": None,
        "created_at": min(at, now) if at else now, "updated_at": now, "row_version": 1,
    }
