"""Words for the states the store keeps as codes, shared by every view."""
from __future__ import annotations

ACK_STATES = {
    "accepted": "Accepted", "accepted_with_warnings": "Accepted, warnings", "error": "Error (NAK)",
    "rejected": "Rejected (NAK)", "missing": "ACK missing", "pending": "Awaiting ACK", "not_expected": "No ACK expected",
}
PARSE_STATES = {"ok": "OK", "invalid": "Invalid", "unparseable": "Unparseable"}
DIRECTIONS = {"inbound": "In", "outbound": "Out", "between": "—"}
INTERFACE_STATUS = {"ok": "OK", "problems": "Problems", "quiet": "Quiet"}


def ack_state(code: str | None) -> str:
    return ACK_STATES.get(code or "", code or "")


def parse_state(code: str | None) -> str:
    return PARSE_STATES.get(code or "", code or "")
