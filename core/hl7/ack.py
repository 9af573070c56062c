"""ACKs in words: what MSA-1 and each ERR say, for a person who has no specification open."""
from __future__ import annotations

ACK_CODES = {
    "AA": "Application accept: the receiver processed the message.",
    "AE": "Application error: the receiver found something wrong in the message; fix it, then resend.",
    "AR": "Application reject: the receiver could not process the message (its own problem, or a message it cannot "
          "take at all); resend unchanged once the receiver is fixed.",
    "CA": "Commit accept: the receiver has safely stored the message; an application ACK may follow.",
    "CE": "Commit error: the receiver would not store the message because of an error in it.",
    "CR": "Commit reject: the receiver would not store the message (unsupported type, version or processing ID).",
}

# HL7 table 0357 (message error condition codes)
ERROR_CODES = {
    "0": "Message accepted", "100": "Segment sequence error", "101": "Required field missing",
    "102": "Data type error", "103": "Table value not found", "104": "Value too long",
    "200": "Unsupported message type", "201": "Unsupported event code", "202": "Unsupported processing ID",
    "203": "Unsupported version ID", "204": "Unknown key identifier", "205": "Duplicate key identifier",
    "206": "Application record locked", "207": "Application internal error",
}

# HL7 table 0516 (error severity)
SEVERITIES = {"E": "Error", "W": "Warning", "I": "Information", "F": "Fatal error"}


def explain(ack_code: str | None, ack_text: str | None, errors: list[dict] | None) -> list[str]:
    """One line for MSA, then one per ERR."""
    lines = []
    if ack_code:
        lines.append(f"MSA-1 {ack_code}: {ACK_CODES.get(ack_code, 'not a code HL7 defines')}")
    if ack_text:
        lines.append(f"MSA-3 text: {ack_text}")
    for e in errors or []:
        lines.append(explain_error(e))
    return lines


def explain_error(e: dict) -> str:
    severity = SEVERITIES.get((e.get("severity") or "").upper(), "Error" if not e.get("severity") else e["severity"])
    code = e.get("code") or ""
    meaning = e.get("text") or ERROR_CODES.get(code, "")
    where = f" at {e['location']}" if e.get("location") else ""
    parts = [f"{severity}{where}: {code} {meaning}".replace("  ", " ").rstrip(": ")]
    for key, label in (("diagnostic", "diagnostic"), ("user_text", "for the user"), ("app_code", "application code")):
        if e.get(key):
            parts.append(f"{label}: {e[key]}")
    return " — ".join(parts)


def build(message: bytes, code: str = "AA", text: str | None = None, *, control_id: str,
          timestamp: str) -> bytes:
    """An ACK for a message, in its delimiters, charset-neutral (ASCII), from its MSH.

    Sender and receiver are swapped, MSH-9 is ACK^<trigger>^ACK, MSA-2 is the message's
    MSH-10. A message whose MSH cannot be read still gets an answer (an AR/AE with empty
    header fields) so the sender is not left waiting.
    """
    from core.hl7.structure import delimiters_of

    head = message.split(b"\r", 1)[0].split(b"\n", 1)[0].decode("latin-1")
    d = delimiters_of(head)
    f = head.split(d.field) if head.startswith("MSH") else ["MSH"]
    get = lambda i: f[i] if i < len(f) else ""  # noqa: E731  (MSH-n is f[n-1])
    trigger = get(8).split(d.comp)[1] if d.comp in get(8) else ""
    msh = d.field.join(["MSH", get(1) or "^~\\&", get(4), get(5), get(2), get(3), timestamp, "",
                        f"ACK{d.comp}{trigger}{d.comp}ACK", control_id, get(10) or "P", get(11) or "2.5"])
    msa = d.field.join(["MSA", code, get(9)] + ([text.replace(d.field, " ")] if text else []))
    return (msh + "\r" + msa + "\r").encode("latin-1", errors="replace")
