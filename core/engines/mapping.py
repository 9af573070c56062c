"""A channel's message, as the engine keeps it, turned into what Lanewatch stores.

The source connector's raw content is the message received; each destination's sent
content is the message sent on, and its response the receiver's answer (an HL7 ACK pairs
with it as any other). The engine's statuses become queue items with its own words:
ERROR (a processing or response error), QUEUED (not delivered yet) and FILTERED. Content
is kept exactly as the engine gave it; content that is not HL7 v2 is kept as text under its
data type. Nothing here touches the store (core.sources.engine does)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.engines.xstream import ConnectorMessage, Content, EngineMessage
from core.signatures import Signature, normalise
from core.vocabulary import QueueKind

ROLES = {"received": 0, "sent": 1, "response": 2}
META_LIMIT = 1024  # connectors a channel may have (Mirth numbers them 0, 1, 2...)
ERROR_TEXT_LIMIT = 4000
_HL7_STARTS = ("MSH", "FHS", "BHS")
NAK_CODES = ("AE", "AR", "CE", "CR")


def position(engine_message_id: int, meta_data_id: int, role: str) -> int:
    """Where a content lies in its channel's source: one place each, so it is stored once."""
    return (engine_message_id * META_LIMIT + min(meta_data_id, META_LIMIT - 1)) * 4 + ROLES[role]


@dataclass
class Problem:
    kind: QueueKind
    reason: str
    signature: Signature


@dataclass
class Entry:
    """One content to store, with the engine's keys."""

    engine_message_id: int
    meta_data_id: int
    connector: str
    role: str  # received, sent, response
    status: str | None
    raw: bytes
    data_type: str | None  # None: HL7 v2; else the engine's data type (XML, JSON, RAW...)
    server_id: str | None
    received: datetime | None = None  # when the engine received the message
    expects_ack: bool = False
    duplicate_check: bool = True
    problem: Problem | None = None

    @property
    def at(self) -> int:
        return position(self.engine_message_id, self.meta_data_id, self.role)

    @property
    def key(self) -> tuple[int, int, str]:
        return self.engine_message_id, self.meta_data_id, self.role


def is_hl7(text: str) -> bool:
    return text.lstrip("\ufeff\r\n\t ")[:3] in _HL7_STARTS


def _data_type(text: str, declared: str | None, fallback: str | None) -> str | None:
    if is_hl7(text):
        return None
    kind = declared if declared and declared != "HL7V2" else fallback if fallback and fallback != "HL7V2" else None
    if kind:
        return kind
    head = text.lstrip()[:1]
    return "XML" if head == "<" else "JSON" if head in ("{", "[") else "RAW"


def ack_code(text: str) -> str | None:
    """MSA-1 of an HL7 ACK (a look at one segment; pairing reads the whole answer when it is stored)."""
    if not is_hl7(text):
        return None
    for segment in text.replace("\n", "\r").split("\r"):
        if segment.startswith("MSA") and len(segment) > 4:
            return segment[4:].split(segment[3], 2)[0]
    return None


def first_line(text: str | None) -> str:
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), "")


def _problem(channel: str, c: ConnectorMessage, answer_is_nak: bool) -> Problem | None:
    where = channel if c.meta_data_id == 0 else f"{channel} → {c.name or f'destination {c.meta_data_id}'}"
    error = c.error
    if c.status == "ERROR" or error:
        if answer_is_nak and not error:
            return None  # the NAK is the item (pairing queues it, with the receiver's own words)
        words = error or c.status_message or "the engine gives no error text"
        what = "response error" if c.response_error and not c.processing_error else "error"
        reason = f"{where}: the engine reports an {what}: {words.strip()[:ERROR_TEXT_LIMIT]}"
        return Problem(QueueKind.ENGINE_ERROR, reason, Signature(QueueKind.ENGINE_ERROR, where, normalise(first_line(words))))
    if c.status == "QUEUED":
        tries = f" after {c.send_attempts} attempt{'s' if c.send_attempts != 1 else ''}" if c.send_attempts else ""
        last = f" (last: {first_line(c.status_message)})" if c.status_message else ""
        return Problem(QueueKind.ENGINE_QUEUED, f"{where}: queued in the engine, not delivered yet{tries}{last}. It goes "
                       "when the destination takes it; it is cleared here when the engine says it was sent.",
                       Signature(QueueKind.ENGINE_QUEUED, where))
    if c.status == "FILTERED":
        which = "source filter" if c.meta_data_id == 0 else "destination's filter"
        return Problem(QueueKind.ENGINE_FILTERED, f"{where}: filtered by the channel's {which}; it went no further.",
                       Signature(QueueKind.ENGINE_FILTERED, where))
    return None


def _entry(m: EngineMessage, c: ConnectorMessage, role: str, content: Content, fallback: str | None, **kw) -> Entry:
    return Entry(m.message_id, c.meta_data_id, c.name or ("Source" if c.meta_data_id == 0 else f"Destination {c.meta_data_id}"),
                 role, c.status, content.text.encode("utf-8"), _data_type(content.text, content.data_type, fallback),
                 c.server_id or m.server_id, c.received or m.received, **kw)


def entries(m: EngineMessage, channel: str, data_type: str | None = None) -> list[Entry]:
    """What to store of one engine message, in order (received, then each destination's sent
    and response), each with the queue item it raises, if any. Encrypted content is not
    readable through the API: it is named, not stored as if it were the message."""
    out: list[Entry] = []
    source = m.source
    received_type = source.raw.data_type if source and source.raw else data_type
    if source is not None and source.raw is not None and not source.raw.encrypted:
        answer = source.response if source.response and not source.response.encrypted else None
        out.append(_entry(m, source, "received", source.raw, data_type, expects_ack=bool(answer and is_hl7(answer.text)),
                          duplicate_check=m.original_id is None,  # a reprocessed message is a copy on purpose
                          problem=_problem(channel, source, False)))
        if answer is not None:
            out.append(_entry(m, source, "response", answer, received_type))
    elif source is not None:
        problem = _problem(channel, source, False)
        if problem is not None:
            out.append(Entry(m.message_id, 0, source.name or "Source", "received", source.status, b"", "RAW",
                             source.server_id or m.server_id, source.received or m.received, problem=problem))
    for d in m.destinations:
        content = d.sent or d.encoded or d.raw
        answer = d.response if d.response and not d.response.encrypted else None
        nak = bool(answer and ack_code(answer.text) in NAK_CODES)
        problem = _problem(channel, d, nak)
        if content is None or content.encrypted:
            if problem is not None:  # nothing of its own to show: the item is about what the channel received
                target = next((e for e in out if e.role == "received" and e.problem is None), None)
                if target is not None:
                    target.problem = problem
                else:
                    out.append(Entry(m.message_id, d.meta_data_id, d.name or "", "sent", d.status, b"", "RAW",
                                     d.server_id or m.server_id, d.received or m.received, problem=problem))
            continue
        out.append(_entry(m, d, "sent", content, received_type, expects_ack=bool(answer and is_hl7(answer.text)),
                          duplicate_check=False, problem=problem))
        if answer is not None:
            out.append(_entry(m, d, "response", answer, received_type))
    return out
