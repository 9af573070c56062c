"""Ingest: files read into the store resumably, and messages received (a tap, a correction, a resend's answer)
stored through core.store.messages.store_messages, with their queue items.

Each chunk of a file is committed in one transaction together with the file's new offset,
so a crash or a kill leaves the store at a message boundary it can resume from: no
duplicate, no gap. Nothing here builds a parse tree (DESIGN.md, "Hot path").
"""
from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from core import labels
from core.gc_paused import gc_paused
from core.hl7.batch import BatchTracker
from core.hl7.framing import BATCH, MESSAGE
from core.message_rows import EXCHANGE, WORKER_MIN_BYTES, Part, RowWorker, mail_row, message_row, read_parts
from core.progress import Progress
from core.signatures import Signature, normalise
from core.sources.discover import Found, Passed, discover, error_folder, shown
from core.store import direct, direct_keys, documents, fhir, indexer, queue, sources
from core.store.db import Store, Tx
from core.store.messages import Stored, store_messages
from core.store.pairing import Pairing, sweep_missing
from core.vocabulary import ParseState, QueueKind

BULK_BYTES = 64 << 20  # this much to read at once and the load is staged (issue 21)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Summary:
    files: int = 0
    bytes: int = 0
    messages: int = 0
    unparseable: int = 0
    invalid: int = 0
    duplicates: int = 0
    acks: int = 0
    queued: int = 0
    unreadable: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # paths asked for that do not exist

    def add(self, rows: list[dict], queued: int) -> None:
        self.messages += len(rows)
        self.queued += queued
        unparseable, invalid = ParseState.UNPARSEABLE.value, ParseState.INVALID.value
        for r in rows:
            self.unparseable += r["parse_state"] == unparseable
            self.invalid += r["parse_state"] == invalid
            self.duplicates += r.get("duplicate_of") is not None
            self.acks += bool(r.get("is_ack"))


class Ingestor:
    """Reads files into the store, resumably. One per thread; it holds pairing's caches for its run."""

    def __init__(self, store: Store, *, now: Callable[[], datetime] = utcnow, progress: Progress | None = None) -> None:
        self.store = store
        self.now = now
        self.progress = progress or Progress()
        self.pairing = Pairing(now)
        self.summary = Summary()
        self._worker: RowWorker | None = None
        self._said: set[str] = set()  # problems already told (a watcher meets them on every poll)
        self.bulk = False  # a bulk load: text and secondary indexes are left to core.store.indexer
        with store.begin() as conn:
            self.pairing.load(conn)

    # -- files ---------------------------------------------------------------------------
    def ingest_paths(self, paths: Iterable[str | Path]) -> Summary:
        """Ingest files and folders (recursively) once, then mark overdue ACKs missing."""
        files = self.files(paths)
        self.progress.started(sum(_size(f.path) for f in files))
        with gc_paused():
            try:
                opened = [(found, source) for found in files if (source := self._open(found.path)) is not None]
                to_read = sum(_size(found.path) - source["offset"] for found, source in opened)
                self._stage(to_read)
                worker = self._worker_for(to_read)  # a folder of many small files is as much work as one large one
                for found, source in opened:  # the row worker runs ahead across files, not only within one
                    if worker:
                        worker.submit(found.path, source["offset"], final=True)
                for found, source in opened:
                    self._read(found, source, worker, final=True, close_batches=True)
            finally:
                self.close()
                self.bulk = False  # what a watcher reads next is live traffic: indexed as it comes
            self.sweep()
        self.progress.finished()
        return self.summary

    def _stage(self, to_read: int) -> None:
        """A load this large is staged: text and the secondary indexes wait for core.store.indexer."""
        if to_read and to_read >= BULK_BYTES:
            with self.store.begin() as conn:
                indexer.defer(conn)
            self.bulk = True

    def files(self, paths: Iterable[str | Path]) -> list[Found]:
        """The files to read below paths; what is passed over is said (and queued when it is a fault)."""
        files = []
        for entry in discover(paths, skip=self.store.own_files):
            if isinstance(entry, Found):
                files.append(entry)
            elif entry.named and not entry.path.exists() and not entry.path.is_symlink():
                self.summary.missing.append(shown(entry.path))
                self.progress.problem(f"{shown(entry.path)}: does not exist")
            else:
                self._passed(entry)
        return files

    def ingest_file(self, found: Found, *, final: bool, close_batches: bool = False) -> int:
        """Read a file from its recorded offset; returns messages added. Never raises for a bad file."""
        source = self._open(found.path)
        if source is None:
            return 0
        return self._read(found, source, self._worker_for(_size(found.path) - source["offset"]), final, close_batches)

    def _open(self, path: Path) -> dict | None:
        """The file's source row when there is something new to read in it."""
        try:
            st = path.stat()
            with self.store.begin() as conn:
                source = sources.identify(conn, path, st, self.now())
        except OSError as exc:
            self._unreadable(path, exc)
            return None
        return source if st.st_size > source["offset"] else None

    def _read(self, found: Found, source: dict, worker: RowWorker | None, final: bool, close_batches: bool) -> int:
        path, added, entries = found.path, 0, 0
        self.summary.files += 1
        tracker = BatchTracker(source["batch"])
        in_error_folder = error_folder(path, found.root)
        requests = _Requests()
        try:
            for part in (worker.parts if worker else read_parts)(path, source["offset"], final):
                added += self._commit(source["id"], part, tracker, requests, close_batches and part.at_end,
                                      in_error_folder)
                self.progress.advanced(part.used, len(part.entries))
                self.summary.bytes += part.used
                entries += len(part.entries)
                if part.at_end and final and not entries and source["offset"] == 0 and part.offset:
                    self._no_message(path, source["id"], part.offset)
        except OSError as exc:
            self._unreadable(path, exc)
        if requests.passed:
            self._say(f"{shown(path.name)}: {requests.said()}")
        return added

    def _worker_for(self, to_read: int) -> RowWorker | None:
        """The row worker, when there is much to read (one that died is not started again)."""
        if to_read < WORKER_MIN_BYTES or (self._worker is not None and not self._worker.alive):
            return None
        self._worker = self._worker or RowWorker()
        return self._worker

    def close(self) -> None:
        """Stop the row worker, if one was started."""
        if self._worker is not None:
            self._worker.close()

    def _unreadable(self, path: Path, exc: OSError) -> None:
        self._file_problem(path, f"could not read the file: {exc.strerror or type(exc).__name__}",
                           exc.strerror or type(exc).__name__)

    def _passed(self, entry: Passed) -> None:
        """An entry discovery passed over: a line, and a queue item when someone must act."""
        if not entry.fault:
            self._say(f"{shown(entry.path.name)}: {entry.why}")
            return
        self._file_problem(entry.path, entry.why, entry.why.split(" (")[0].split(",")[0])

    def _say(self, line: str) -> bool:
        """Tell a problem once per run; False when it was told already."""
        if line in self._said:
            return False
        self._said.add(line)
        self.progress.problem(line)
        return True

    def _no_message(self, path: Path, source_id: int, size: int) -> None:
        """A file that held bytes but no message (whitespace only): said, not lost."""
        why = f"holds no HL7 message, only whitespace ({size:,} bytes)"
        self.progress.problem(f"{shown(path.name)}: {why}")
        with self.store.begin() as conn:
            self.summary.queued += queue.add(conn, [queue.new(
                QueueKind.UNPARSEABLE, f"The file {why}.", Signature(QueueKind.UNPARSEABLE, detail="a file with no message"),
                message_id=None, source_id=source_id, now=self.now())])

    def _file_problem(self, path: Path, reason: str, why: str) -> None:
        """A whole file's problem: its source marked, and one open queue item (a watcher that
        meets the same problem on every poll does not queue it again)."""
        if not self._say(f"{shown(path.name)}: {reason}"):
            return
        self.summary.unreadable.append(shown(path))
        now = self.now()
        with self.store.begin() as conn:
            src = sources.named(conn, shown(path), "file", now)
            sources.failed(conn, src["id"], reason)
            added = queue.add_unless_open(conn, queue.new(
                QueueKind.UNREADABLE_FILE, f"{reason[:1].upper()}{reason[1:]}.", Signature(QueueKind.UNREADABLE_FILE, detail=why),
                message_id=None, source_id=src["id"], now=now))
        self.summary.queued += added

    # -- bytes from elsewhere (a listener, the demo feed) -------------------------------
    def ingest_messages(self, source_name: str, messages: list[bytes], *, transport: str,
                        peer: str | list[str] | None = None, at: list[int] | None = None,
                        unread: str | None = None) -> list[int]:
        """`receive`, in a transaction of its own, with this run's pairing and summary."""
        with self.store.begin() as conn:
            stored = receive(conn, source_name, messages, self.pairing, now=self.now(), transport=transport, peer=peer,
                             at=at, unread=unread)
        self.summary.add(stored.rows, stored.queued)
        return stored.ids

    # -- the one write path --------------------------------------------------------------
    def _commit(self, source_id: int, part: Part, tracker: BatchTracker, requests: _Requests, close_batches: bool,
                in_error_folder: str | None) -> int:
        rows, issues, now = [], [], self.now()
        for kind, start, entry in part.entries:
            if kind == BATCH:
                problem = tracker.segment(entry, start)
                if problem:
                    issues.append(problem)
                continue
            if kind == MESSAGE:
                tracker.message()
            rows.append(stamp(entry, source_id, "file", None, now))
        if close_batches:
            issues += tracker.finish()
        exchanges = sum(kind == EXCHANGE for kind, _, _ in part.entries)
        try:
            with self.store.begin() as conn:
                stored = store_rows(conn, rows, self.pairing, now, defer_text=self.bulk)
                requests.count(exchanges, stored.passed)
                if exchanges and not requests.stored:
                    raise _NothingStoredError  # the file stays unread, to be read again once its endpoint is added
                self._committing(conn, source_id, part, rows, stored, tracker, issues, now, in_error_folder)
        except _NothingStoredError:
            return 0
        return len(rows)

    def _committing(self, conn: Tx, source_id: int, part: Part, rows: list[dict], stored: Stored, tracker: BatchTracker,
                    issues: list[str], now: datetime, in_error_folder: str | None) -> None:
        self.summary.add(rows, stored.queued)
        if in_error_folder and rows:
            self.summary.queued += queue.add(conn, [queue.new(
                QueueKind.ERROR_FOLDER, f"Found in the engine's error folder ({in_error_folder}/): the engine could "
                "not process or deliver it. Look at the engine's log for why, correct it if needed, then resend.",
                Signature(QueueKind.ERROR_FOLDER, in_error_folder), message_id=r["id"], source_id=source_id, now=now,
                at=r["event_time"]) for r in rows])
        self.summary.queued += queue.add(conn, [queue.new(
            QueueKind.BATCH_MISMATCH, i, Signature(QueueKind.BATCH_MISMATCH, detail=normalise(i.split(" (")[0])),
            message_id=None, source_id=source_id, now=now) for i in issues])
        sources.advance(conn, source_id, part.offset, now, batch=tracker.state, done=not part.more)

    def sweep(self) -> int:
        """Mark overdue pending messages missing; returns how many."""
        with self.store.begin() as conn:
            n = sweep_missing(conn, self.now()) + direct.sweep(conn, self.now())
        self.summary.queued += n
        return n


class _NothingStoredError(Exception):
    """A HAR part none of whose requests is to a known endpoint, from a file nothing was stored
    from yet: the transaction is rolled back and the file's offset stays where it was."""


class _Requests:
    """A HAR file's requests as its parts are stored: how many, and those passed over (to no
    known endpoint) by host."""

    def __init__(self) -> None:
        self.seen, self.stored, self.passed = 0, 0, Counter()

    def count(self, exchanges: int, passed: Counter | None) -> None:
        self.seen += exchanges
        self.stored += exchanges - sum((passed or {}).values())
        self.passed.update(passed or {})

    def said(self) -> str:
        hosts = ", ".join(f"{h} ({n:,})" for h, n in self.passed.most_common(5)) + (" …" if len(self.passed) > 5 else "")
        if not self.stored:
            return (f"none of its {self.seen:,} requests is to a FHIR endpoint Lanewatch knows ({hosts}); add the "
                    "endpoint (lanewatch endpoint add NAME BASE_URL) and ingest the file again")
        return f"{labels.plural(sum(self.passed.values()), 'request')} to hosts with no endpoint configured passed over: {hosts}"


def store_rows(conn: Tx, rows: list[dict], pairing: Pairing, now: datetime, *, defer_text: bool = False) -> Stored:
    """Store rows (core.message_rows, stamped) with what their lanes record beside them: a
    mail's facts, deliveries and pairing (core.store.direct), the documents they carry; in
    the caller's transaction. `queued` counts every item raised; `defer_text`: a bulk load's."""
    passed = fhir.prepare(conn, rows) if any("exchange" in r for r in rows) else None
    mails = [r for r in rows if "mail" in r]
    sealed = [r for r in mails if r["mail"].sealed]
    if sealed and (keys := direct_keys.load(conn)):  # rows are read where no key is: opened here, in this process
        for r in sealed:
            r.update(mail_row(r["raw"], r["offset"], keys))
    if mails:
        direct.prepare(conn, mails)
    stored = store_messages(conn, rows, pairing, defer_text=defer_text)
    if mails:
        stored.queued += queue.add(conn, direct.record(conn, mails, now))
    if any(r.get("documents") for r in rows):
        stored.queued += queue.add(conn, documents.record(conn, rows, now))
    if passed is not None:
        stored.queued += queue.add(conn, fhir.record(conn, rows, now))
        stored.passed = passed
    return stored


def open_sealed(conn: Tx, now: datetime) -> int:
    """Mail stored sealed (encrypted to a certificate whose key was not here yet) read again
    with the keys the store has now, in the caller's transaction, and recorded as if it had
    just arrived (core.store.direct.reopen). The bytes stay as they came. Returns how many
    were opened."""
    keys = direct_keys.load(conn)
    if not keys:
        return 0
    rows = []
    for r in direct.sealed(conn):
        row = mail_row(r.raw, r.offset, keys)
        if "mail" in row and not row["mail"].sealed:
            rows.append(row | {"id": r.id, "source_id": r.source_id, "event_time": r.event_time})
    if not rows:
        return 0
    items = direct.reopen(conn, rows, now)
    if any(r.get("documents") for r in rows):
        items += documents.record(conn, rows, now)
    queue.add(conn, items)
    return len(rows)


def receive(conn: Tx, source_name: str, messages: list[bytes], pairing: Pairing, *, now: datetime, transport: str,
            peer: str | list[str] | None = None, at: list[int] | None = None, unread: str | None = None,
            corrects: tuple[int, int] | None = None) -> Stored:
    """Store whole messages received as they are (one MLLP frame each, a correction's text)
    from a source that is not a file, in the caller's transaction.

    `peer` is where they came from: one for all, or one per message (a tap's batch mixes
    peers). `at` is where each lies in the source (a tap's journal), which is then read to
    the end of the last; without it, positions run on from the source's offset. `unread`
    stores the bytes as unparseable for that reason, without reading them (a record that
    could not be stored as read). `corrects` (the parent's id and version number) stores a
    correction: a new version of that message, waiting for no ACK until it is resent."""
    if not messages:
        return Stored()
    src = sources.named(conn, source_name, transport, now)
    if at is None:
        at = list(itertools.accumulate((len(m) for m in messages[:-1]), initial=src["offset"]))
    peers = peer if isinstance(peer, list) else [peer] * len(messages)
    rows = [stamp(message_row(raw, offset, reason=unread), src["id"], transport, came_from, now)
            for raw, came_from, offset in zip(messages, peers, at, strict=True)]
    if corrects is not None:
        for row in rows:
            row.update(parent_id=corrects[0], version_no=corrects[1] + 1, expects_ack=False)
    stored = store_rows(conn, rows, pairing, now)  # an MDM carries its documents over MLLP too
    upto = at[-1] + len(messages[-1])
    sources.advance(conn, src["id"], upto, now, size=upto)
    return stored


def stamp(row: dict, source_id: int, transport: str, peer: str | None, now: datetime) -> dict:
    """A row from core.message_rows, with where and when it arrived and correlation still to come."""
    row.update(source_id=source_id, received_at=now, transport=transport, peer=peer, duplicate_of=None,
               ack_result=None, ack_id=None, answers_id=None, event_time=row["message_time"] or now,
               parent_id=None, version_no=1)
    return row


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
