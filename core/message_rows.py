"""What a message's row holds, from its bytes alone: framing, keys, text, hashes, lane checks.

Nothing here touches the store, so a file's rows can be built in a second process while
the store takes the previous part (`RowWorker`): on a two-core workstation that is how a
large archive ingests at the store's pace rather than the scanner's. Where and when a
message arrived (source, clock) and what correlation decides are added by core.ingest.
"""
from __future__ import annotations

import gc
import hashlib
import pickle
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from core import spawned
from core.correlate import match_key
from core.direct import mail as direct_mail
from core.direct.files import frame_mail, is_mail, is_mbox
from core.documents import examine
from core.documents.ccda import is_cda
from core.fhir import exchange as fhir_exchange
from core.fhir import har
from core.hl7.encoding import decode
from core.hl7.framing import BATCH, JUNK, MESSAGE, frame
from core.hl7.scan import KEY_NAMES, scan, unparseable
from core.hl7.validate import catalogue, missing_required
from core.store.models import MESSAGE_KEY_LENGTHS

CHUNK = 4 << 20  # bytes read at a time; one part, one transaction
PART_MESSAGES = 20_000  # and at most this many messages a part: a file of tiny messages must not grow the heap
WORKER_MIN_BYTES = 32 << 20  # less than this to read, and a second process is not worth starting
_SEGMENT_START = re.compile(rb"([A-Z][A-Z0-9]{2})[|^~\\&#!]")

# Keys are clipped to their columns and lose NULs (PostgreSQL text cannot hold one); the
# original bytes are kept whole in `raw`, so nothing is lost.
_TEXT_KEYS = {name: length for name, length in MESSAGE_KEY_LENGTHS.items() if name in KEY_NAMES}


def describe_junk(raw: bytes) -> str:
    """Why bytes outside any message are not HL7, in words a person can act on (no PHI)."""
    head = raw.lstrip()[:200]
    size = f"{len(raw)} bytes kept"
    if not raw.strip(b"\x00 \t\r\n"):
        return f"only NUL bytes and whitespace, no message (a file preallocated or padded by its writer?); {size}"
    if head.startswith(b"<"):
        return f"XML, not pipe-delimited HL7 (the HL7 v2 XML encoding is not read); {size}"
    if head[:1] in (b"{", b"["):
        return f"JSON, not HL7 v2 (a FHIR resource?); {size}"
    if head.startswith(b"MSH"):
        return f"MSH segment without a field separator after it; {size}"
    seg = _SEGMENT_START.match(head)
    if seg:
        return f"segments outside any message (starting with {seg.group(1).decode()}): the MSH that should lead them is missing; {size}"
    return f"text that is not HL7 (no MSH segment); {size}"


def content_hash(raw: bytes) -> str:
    """sha256 of the message with every segment ending made CR: the same content, however stored."""
    return hashlib.sha256(raw.replace(b"\r\n", b"\r").replace(b"\n", b"\r").rstrip(b"\r")).hexdigest()


def message_row(raw: bytes, offset: int, *, junk: bool = False, reason: str | None = None,
                data_type: str | None = None, text: str | None = None) -> dict:
    """The columns the bytes decide: keys, parse state, display text, hashes, size, offset.
    Total: whatever the bytes, a row comes back (at worst unparseable, with the reason);
    `reason` stores the bytes as unparseable without reading them at all; `data_type` names
    content that is not HL7 v2 (an engine's XML, JSON...): it is kept as text, not judged,
    and `text` is what to index and show of it when not all of it (a mail's readable part)."""
    try:
        if data_type:
            row = unparseable(f"{data_type} content, kept as text")
            row["parse_state"] = "text"
        else:
            row = unparseable(reason) if reason else unparseable(describe_junk(raw)) if junk else _fit(scan(raw))
        row["text"] = text if text is not None else decode(raw, row["charset"])[0]  # once: the lane checks and the index read it
        if row["parse_state"] == "ok" and not row["ack_code"]:
            _check_required(row)
        if not data_type and row["parse_state"] != "unparseable" and (carried := examine.in_hl7(row["text"])):
            row["documents"] = [examine.row(body, name) for name, body in carried]  # an MDM's or ORU's OBX-5
    except Exception as exc:  # noqa: BLE001 - a bug here must cost one message its keys, never the message
        row = unparseable(f"Lanewatch could not read this message ({type(exc).__name__}); its bytes are kept as they came")
        row["text"] = raw.decode("latin-1")
    row.update(offset=offset, size=len(raw), raw=raw, sha256=hashlib.sha256(raw).hexdigest(),
               content_hash=content_hash(raw))
    return row


def _fit(row: dict) -> dict:
    for name, length in _TEXT_KEYS.items():
        value = row[name]
        if value and (len(value) > (length or 1 << 30) or "\x00" in value):
            row[name] = value.replace("\x00", "")[: length or None]
    if row["reason"] and "\x00" in row["reason"]:
        row["reason"] = row["reason"].replace("\x00", "")
    return row


def _check_required(row: dict) -> None:
    """The lane catalogue's required fields: a message missing one is invalid, with the rule it broke."""
    rules = catalogue().rules(row["message_type"], match_key(row))
    findings = missing_required(row["text"], rules) if rules else []
    if findings:
        row.update(parse_state="invalid", reason="; ".join(f.text for f in findings),
                   rules="; ".join(f.rule for f in findings))


MAIL = "mail"  # a Direct message, MDN or DSN (core.direct): its row carries the Mail read from it
DOCUMENT = "document"  # a CDA document file: its row carries the document's row
MAIL_KINDS = {"message": "Direct", "mdn": "MDN", "dsn": "DSN"}  # message_type of each


def mail_row(raw: bytes, offset: int, keys: list | None = None) -> dict:
    """A mail's row: kept as text (the privacy screen hides it whole), keyed by its headers,
    and the Mail itself under "mail" for core.store.direct to record (it is no column).
    `keys` (core.direct.smime.Key) open a message encrypted to the practice."""
    try:
        found = direct_mail.read(raw, keys)
    except Exception as exc:  # noqa: BLE001 - as message_row: a bug costs the keys, never the message
        return message_row(raw, offset, reason=f"Lanewatch could not read this mail ({type(exc).__name__}); its bytes "
                                                "are kept as they came")
    row = message_row(raw, offset, data_type="Direct", text=found.text)
    row.update(reason="; ".join(found.problems)[:2000] or None, message_type=MAIL_KINDS[found.kind],
               control_id=_clip(found.message_id, "control_id"), sending_app=_clip(found.sender, "sending_app"),
               receiving_app=_clip(found.recipients[0] if found.recipients else None, "receiving_app"),
               message_time=found.sent_at, mail=found,
               documents=[examine.row(body, name) for name, body in found.documents])
    found.documents = []  # their bytes go on in the documents' rows
    return row


def document_row(raw: bytes, offset: int) -> dict:
    """A CDA document file's row: kept as text, keyed by the document's id, and the document's own row."""
    row = message_row(raw, offset, data_type="CDA")
    doc = examine.row(raw, None)
    row.update(reason=None, message_type="CDA", control_id=_clip(doc["document_id"], "control_id"),
               sending_app=_clip(doc["custodian"], "sending_app"), message_time=doc["effective_time"], documents=[doc])
    return row


EXCHANGE = "exchange"  # a FHIR exchange (core.fhir.exchange): its row carries the Exchange and where its bodies lie


def exchange_row(ex: fhir_exchange.Exchange, offset: int) -> dict:
    """A FHIR exchange's row: its stored text (credentials left out), keyed by what it did and
    to whom (its endpoint, and the judgement of its write, are core.store.fhir's to add)."""
    raw, request_at, response_at = fhir_exchange.render(ex)
    text = raw.decode("utf-8", "replace")
    row = message_row(raw, offset, data_type="FHIR", text=text)
    resource = fhir_exchange.json_body(ex.request_body)
    answered = fhir_exchange.json_body(ex.response_body)
    about = resource if resource and resource.get("resourceType") != "Bundle" else answered
    row.update(reason=None, sending_app=_clip(ex.app, "sending_app"), message_time=_utc(ex.started_at),
               patient_id=_clip(fhir_exchange.patient_of(about), "patient_id"),
               patient_name=_clip(fhir_exchange.patient_name(about), "patient_name"),
               exchange=ex, bodies=(request_at, response_at), resource=resource)
    return row


def _utc(when: datetime | None) -> datetime | None:
    """A time as the store keeps it: UTC, without a zone."""
    return when and when.replace(tzinfo=None) - (when.utcoffset() or timedelta(0))


def har_parts(buf: bytes, base: int, final: bool, most: int = PART_MESSAGES, chunk: int = CHUNK) -> Iterator[Part]:
    """A HAR file's exchanges from `base` on, once it is final (an archive is written once),
    in parts of at most `most` entries and about `chunk` bytes; each part ends where its last
    entry ends, so a part committed with its offset resumes after it (the archive is walked
    from its start, for the tokens it hands out, and the entries before `base` were taken)."""
    if not final or not buf.strip():
        yield Part([], 0, base, bool(buf), True)
        return
    walked = (e for e in har.entries(buf) if e.start >= base)
    try:
        first = next(walked, None)  # the archive as a whole is checked before the first entry comes
    except ValueError as exc:
        yield Part([(JUNK, base, message_row(buf[base:], base, reason=f"A HAR file that cannot be read: {exc}"))],
                   len(buf) - base, len(buf), False, True)
        return
    taken, found = base, [first] if first else []
    for e in walked:
        if len(found) == most or found[-1].end - taken >= chunk:
            yield _har_part(buf, found, taken, found[-1].end)
            taken, found = found[-1].end, []
        found.append(e)
    yield _har_part(buf, found, taken, len(buf))


def _har_part(buf: bytes, found: list[har.Entry], taken: int, end: int) -> Part:
    entries = [(EXCHANGE, e.start, exchange_row(e.exchange, e.start)) if e.exchange else
               (JUNK, e.start, message_row(buf[e.start:e.end], e.start, reason=e.problem)) for e in found]
    return Part(entries, end - taken, end, False, end == len(buf))


def _clip(value: str | None, column: str) -> str | None:
    return value.replace("\x00", "")[: _TEXT_KEYS.get(column) or MESSAGE_KEY_LENGTHS[column]] if value else None


@dataclass
class Part:
    """One read of a file, framed: its pieces in order, and how far the file is now read."""

    entries: list[tuple[str, int, dict | bytes]]  # (MESSAGE or JUNK, start, row) or (BATCH, start, segment bytes)
    used: int  # bytes this part consumed
    offset: int  # where reading resumes after it
    more: bool  # bytes remain that could not be framed yet (a message still being written)
    at_end: bool  # the last part: the file's end was reached


def _parts(buf: bytes, base: int, pieces: list, used: int, last: bool, most: int) -> Iterator[Part]:
    """One read's pieces as parts of at most `most` entries; each part ends where its last
    piece ends, so a part committed with its offset resumes exactly after it."""
    taken = base  # absolute position the previous part ended at
    entries: list[tuple[str, int, dict | bytes]] = []
    for i, p in enumerate(pieces):
        raw = buf[p.start - base : p.end - base]
        if p.kind in (MESSAGE, JUNK):
            entries.append((p.kind, p.start, message_row(raw, p.start, junk=p.kind == JUNK)))
        elif p.kind == BATCH:
            entries.append((BATCH, p.start, raw))
        if len(entries) >= most and i < len(pieces) - 1:
            yield Part(entries, p.end - taken, p.end, True, False)
            taken, entries = p.end, []
    yield Part(entries, base + used - taken, base + used, used < len(buf), last)


def read_parts(path: Path, offset: int, final: bool, chunk: int | None = None,
               part_messages: int = PART_MESSAGES) -> Iterator[Part]:
    """A file's pieces from offset on, one part per chunk read, or per `part_messages`
    messages when they are many and small (raises OSError)."""
    chunk = chunk or CHUNK
    with open(path, "rb") as f:
        head = f.read(8192)
        mail, document, archive = is_mail(head), is_cda(head), har.is_har(head)
        if archive:  # read whole: its entries are found by walking it from its start
            f.seek(0)
            yield from har_parts(f.read(), offset, final, part_messages, chunk)
            return
        f.seek(offset)
        buf, base = b"", offset
        while True:
            data = f.read(chunk)
            last = not data
            buf += data
            if document:
                if last:
                    yield _document_part(buf, base, final)
                    return
                continue
            if mail:
                part = _mail_part(buf, base, final and last, last)
                if part is not None:
                    yield part
                    buf, base = buf[part.used:], part.offset
                if last:
                    return
                continue
            pieces, used = frame(buf, base, final=final and last)
            if pieces or last:
                yield from _parts(buf, base, pieces, used, last, part_messages)
                buf, base = buf[used:], base + used
            if last:
                return


def _mail_part(buf: bytes, base: int, final: bool, last: bool) -> Part | None:
    """A mail file's messages framed so far, as one part (an mbox is read on as it grows;
    a file of one message is read whole)."""
    if not last and not is_mbox(buf):
        return None
    pieces, used = frame_mail(buf, base, final=final)
    if not pieces and not last:
        return None
    entries = [(MAIL, start, mail_row(buf[start - base:end - base], start)) for start, end in pieces]
    return Part(entries, used, base + used, used < len(buf), last)


def _document_part(buf: bytes, base: int, final: bool) -> Part:
    """A CDA file, read whole once it is final (settled, or read once)."""
    if not final or not buf.strip():
        return Part([], 0, base, bool(buf), True)
    return Part([(DOCUMENT, base, document_row(buf, base))], len(buf), base + len(buf), False, True)


class RowWorker:
    """A second process that reads and frames files and builds their rows, a part ahead of
    the store. Parts come over a pipe whose sending end only the worker holds, so a worker
    that dies reads as the end of the pipe; reading then goes on in this process from the
    last part received, and nothing is lost or doubled."""

    def __init__(self) -> None:
        self._parts, their_parts = spawned.context.Pipe(duplex=False)
        their_requests, self._requests = spawned.context.Pipe(duplex=False)
        self._process = spawned.context.Process(target=_serve, args=(their_requests, their_parts), daemon=True,
                                    name="lanewatch-rows")
        self._process.start()
        their_parts.close()
        their_requests.close()
        self._asked: deque[tuple[str, int, bool]] = deque()

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    def submit(self, path: Path, offset: int, final: bool) -> None:
        """Ask for a file's parts; they are taken, in the order asked, with parts()."""
        try:
            self._requests.send((str(path), offset, final, CHUNK))
            self._asked.append((str(path), offset, final))
        except OSError:
            self.close()  # gone already: parts() reads here

    def parts(self, path: Path, offset: int, final: bool) -> Iterator[Part]:
        key = (str(path), offset, final)
        if not self._asked:
            self.submit(path, offset, final)
        if not self._asked or self._asked.popleft() != key:  # gone, or not what was asked next: read it here
            self.close()
            yield from read_parts(path, offset, final)
            return
        settled = False
        try:
            while True:
                try:
                    item = self._parts.recv()
                except (EOFError, OSError, pickle.UnpicklingError):  # the worker died, perhaps mid-part
                    self.close()
                    settled = True
                    yield from read_parts(path, offset, final)
                    return
                if item is None or isinstance(item, OSError):
                    settled = True
                    if item is None:
                        return
                    raise item
                offset = item.offset
                yield item
        finally:
            if not settled:  # left in the middle of a file: what the worker still sends is stale
                self.close()

    def close(self) -> None:
        spawned.stop(self._process, self._requests, 5)
        self._requests.close()
        self._parts.close()
        self._asked.clear()


def _serve(requests, parts) -> None:
    """The worker's loop: a file's parts for each request, then None (or the OSError). The
    process does nothing else, so the cyclic collector stays off (core.gc_paused says why)."""
    gc.disable()
    while True:
        try:
            request = requests.recv()
        except EOFError:
            return
        if request is None:
            return
        path, offset, final, chunk = request
        try:
            for part in read_parts(Path(path), offset, final, chunk):
                parts.send(part)
            parts.send(None)
        except BrokenPipeError:
            return  # nobody reads any more
        except OSError as exc:
            parts.send(OSError(exc.errno, exc.strerror))
