"""What pairs with what: the keys correlation matches messages by, and what one ACK says.

Plain functions of a message's keys; the store's pairing (core.store.pairing) applies them
to batches of rows inside ingest's transaction.
"""
from __future__ import annotations

from core.vocabulary import AckState


def system(app: str | None, facility: str | None) -> str:
    return f"{app or ''}^{facility or ''}"


def pair_key(row: dict) -> str:
    """The unordered pair of systems a message travels between."""
    a = system(row["sending_app"], row["sending_facility"])
    b = system(row["receiving_app"], row["receiving_facility"])
    return f"{a}|{b}" if a <= b else f"{b}|{a}"


def match_key(row: dict) -> str:
    return system(row["sending_app"], row["sending_facility"]) + ">" + system(row["receiving_app"], row["receiving_facility"])


def answered_lane(ack: dict) -> str:
    """The lane an ACK answers, named as the sidebar names it: the ACK travels it backwards."""
    return f"{ack['receiving_app'] or '?'} → {ack['sending_app'] or '?'}"


def ack_state_for(code: str, ack_errors: list[dict] | None, app_ack_type: str | None) -> AckState:
    """What one ACK says of the message it answers (DESIGN.md, ACK state)."""
    if code == "AA":
        warn = any((e.get("severity") or "").upper() in ("W", "I") for e in ack_errors or [])
        return AckState.ACCEPTED_WITH_WARNINGS if warn else AckState.ACCEPTED
    if code in ("AE", "CE"):
        return AckState.ERROR
    if code in ("AR", "CR"):
        return AckState.REJECTED
    if code != "CA":  # XX, blank, anything HL7 does not define: never taken for an acceptance
        return AckState.UNRECOGNISED
    # CA: the commit ACK; the application ACK decides when one is still to come
    return AckState.PENDING if (app_ack_type or "").upper() in ("AL", "SU") else AckState.ACCEPTED
