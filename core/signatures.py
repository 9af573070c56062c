"""Why a queue item needs a person, in words, and the signature that groups identical failures."""
from __future__ import annotations

import re
from dataclasses import dataclass

from core.vocabulary import NAK_KINDS, QueueKind

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


_NO_LANE = frozenset((QueueKind.UNPARSEABLE, QueueKind.INVALID, QueueKind.BATCH_MISMATCH, QueueKind.UNREADABLE_FILE))
_GROUP_WORDS = {QueueKind.DUPLICATE: "from {}", QueueKind.ERROR_FOLDER: "in the engine's {}/ folder",
                QueueKind.MISSING_ACK: "on {}"}


@dataclass(frozen=True)
class Signature:
    """What groups identical failures: the kind, where it happened (an interface's lane, a
    resend destination, a sender, an engine folder, an endpoint) and the normalised error.
    Stored rendered ("kind | lane | detail"); a part that is empty is left out."""

    kind: QueueKind
    lane: str = ""
    detail: str = ""

    def render(self) -> str:
        return " | ".join(p for p in (self.kind.value, self.lane, self.detail) if p)[:400]

    def __str__(self) -> str:
        return self.render()

    @classmethod
    def parse(cls, text: str) -> Signature:
        """A stored signature read back (one of an unknown kind keeps its text as the detail)."""
        kind_text, _, rest = text.partition(" | ")
        kind = QueueKind.of(kind_text)
        if kind is None:
            return cls(QueueKind.INVALID, "", text)
        if kind in _NO_LANE:
            return cls(kind, "", rest)
        lane, _, detail = rest.partition(" | ")
        return cls(kind, lane, detail)

    @classmethod
    def of_nak(cls, kind: QueueKind, lane: str | None, errors: list[dict] | None, ack_text: str | None) -> Signature:
        """A NAK's signature: its first ERR (code, location, words) or its MSA-3, normalised."""
        if errors:
            e = errors[0]
            words = normalise(e.get("text") or e.get("diagnostic") or e.get("user_text") or "")
            detail = (f"{e.get('code') or 'no code'}" + (f" at {e['location']}" if e.get("location") else "")
                      + (f": {words}" if words else ""))
        else:
            detail = normalise(ack_text or "no error text")
        return cls(kind, lane or "?", detail)

    def title(self) -> str:
        """The group as a line a person reads (its kind is shown beside it)."""
        if self.kind in NAK_KINDS or self.kind == QueueKind.ENGINE_ERROR:  # the words first, then where
            return f"{self.detail} (on {self.lane})" if self.detail else self.lane
        if self.kind == QueueKind.FAILED_RESEND:
            return f"resend to {self.lane}: {self.detail}" if self.detail else self.lane
        if self.kind in _NO_LANE:
            return self.detail
        return _GROUP_WORDS.get(self.kind, "{}").format(" | ".join(p for p in (self.lane, self.detail) if p))


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
