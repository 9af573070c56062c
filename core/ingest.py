"""Ingest: bytes from files (or a listener) into the store, with correlation and queue items.

Each chunk of a file is committed in one transaction together with the file's new offset,
so a crash or a kill leaves the store at a message boundary it can resume from: no
duplicate, no gap. Nothing here builds a parse tree (DESIGN.md, "Hot path").
"""
from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, insert, text, update

from core import queue
from core.correlate import Correlator, sweep_missing
from core.hl7.batch import BatchTracker
from core.hl7.framing import BATCH, MESSAGE
from core.message_rows import WORKER_MIN_BYTES, Part, RowWorker, message_row, read_parts
from core.progress import Progress
from core.sources.files import identify, named_source
from core.store.bulk import insert_many
from core.store.db import Store
from core.store.models import Message, QueueItem, Source

M, Q, S = Message.__table__, QueueItem.__table__, Source.__table__
# folders where engines put what they could not process or deliver
ERROR_FOLDERS = frozenset(("error", "errors", "err", "failed", "failures", "rejected", "rejects", "dead_letter",
                           "deadletter", "dead-letter", "quarantine", "bad"))
_MESSAGE_COLUMNS = [c.name for c in M.columns]  # every row from _stamp and prepare carries them all


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

    def add(self, rows: list[dict], queued: int) -> None:
        self.messages += len(rows)
        self.queued += queued
        for r in rows:
            self.unparseable += r["parse_state"] == "unparseable"
            self.invalid += r["parse_state"] == "invalid"
            self.duplicates += r.get("duplicate_of") is not None
            self.acks += bool(r.get("is_ack"))


class Ingestor:
    """Turns bytes into stored messages. One per thread; it owns a correlator cache."""

    def __init__(self, store: Store, *, now: Callable[[], datetime] = utcnow, progress: Progress | None = None) -> None:
        self.store = store
        self.now = now
        self.progress = progress or Progress()
        self.correlator = Correlator(now)
        self.summary = Summary()
        self._fts = self._fts_writer()
        self._worker: RowWorker | None = None
        with store.engine.begin() as conn:
            self.correlator.load(conn)

    # -- files ---------------------------------------------------------------------------
    def ingest_paths(self, paths: Iterable[str | Path]) -> Summary:
        """Ingest files and folders (recursively) once, then mark overdue ACKs missing."""
        files = list(expand(paths, skip=self.store.own_files))
        self.progress.started(sum(_size(f) for f in files))
        try:
            opened = [(path, source, self._worker_for(path, source["offset"]))
                      for path in files if (source := self._open(path)) is not None]
            for path, source, worker in opened:  # the row worker runs ahead across files, not only within one
                if worker:
                    worker.submit(path, source["offset"], final=True)
            for path, source, worker in opened:
                self._read(path, source, worker, final=True, close_batches=True)
        finally:
            self.close()
        self.sweep()
        self.progress.finished()
        return self.summary

    def ingest_file(self, path: Path, *, final: bool, close_batches: bool = False) -> int:
        """Read a file from its recorded offset; returns messages added. Never raises for a bad file."""
        source = self._open(path)
        if source is None:
            return 0
        return self._read(path, source, self._worker_for(path, source["offset"]), final, close_batches)

    def _open(self, path: Path) -> dict | None:
        """The file's source row when there is something new to read in it."""
        try:
            st = path.stat()
            with self.store.engine.begin() as conn:
                source = identify(conn, path, st, self.now())
        except OSError as exc:
            self._unreadable(path, exc)
            return None
        return source if st.st_size > source["offset"] else None

    def _read(self, path: Path, source: dict, worker: RowWorker | None, final: bool, close_batches: bool) -> int:
        added = 0
        self.summary.files += 1
        tracker = BatchTracker(source["batch"])
        in_error_folder = error_folder(path)
        try:
            for part in (worker.parts if worker else read_parts)(path, source["offset"], final):
                added += self._commit(source["id"], part, tracker, close_batches and part.at_end, in_error_folder)
                self.progress.advanced(part.used, len(part.entries))
                self.summary.bytes += part.used
        except OSError as exc:
            self._unreadable(path, exc)
        return added

    def _worker_for(self, path: Path, offset: int) -> RowWorker | None:
        """The row worker, when there is much to read (one that died is not started again)."""
        if _size(path) - offset < WORKER_MIN_BYTES or (self._worker is not None and not self._worker.alive):
            return None
        self._worker = self._worker or RowWorker()
        return self._worker

    def close(self) -> None:
        """Stop the row worker, if one was started."""
        if self._worker is not None:
            self._worker.close()

    def _unreadable(self, path: Path, exc: OSError) -> None:
        reason = f"could not read the file: {exc.strerror or type(exc).__name__}"
        self.summary.unreadable.append(str(path))
        self.progress.problem(f"{path.name}: {reason}")
        now = self.now()
        with self.store.engine.begin() as conn:
            src = named_source(conn, str(path), "file", now)
            conn.execute(update(S).where(S.c.id == src["id"]).values(state="error", error=reason))
            conn.execute(insert(Q), [queue.item("unreadable_file", reason, f"unreadable_file | {exc.strerror or type(exc).__name__}",
                                                message_id=None, source_id=src["id"], now=now)])
        self.summary.queued += 1

    # -- bytes from elsewhere (a listener, the demo feed) -------------------------------
    def ingest_messages(self, source_name: str, messages: list[bytes], *, transport: str,
                        peer: str | list[str] | None = None, conn: Connection | None = None,
                        at: list[int] | None = None) -> list[int]:
        """Store whole messages received as they are (one MLLP frame each); returns their ids.

        `peer` is where they came from: one for all, or one per message (a tap's batch mixes
        peers). `at` is where each lies in the source (a tap's journal), which is then read to
        the end of the last; without it, positions run on from the source's offset. With `conn`,
        inside the caller's transaction (a correction commits with its audit entry)."""
        if not messages:
            return []
        if conn is None:
            with self.store.engine.begin() as own:
                return self.ingest_messages(source_name, messages, transport=transport, peer=peer, conn=own, at=at)
        src = named_source(conn, source_name, transport, self.now())
        if at is None:
            at = list(itertools.accumulate((len(m) for m in messages[:-1]), initial=src["offset"]))
        upto = at[-1] + len(messages[-1])
        now = self.now()
        peers = peer if isinstance(peer, list) else [peer] * len(messages)
        rows = [_stamp(message_row(raw, offset), src["id"], transport, came_from, now)
                for raw, came_from, offset in zip(messages, peers, at, strict=True)]
        ids = self._store_rows(conn, rows)
        conn.execute(update(S).where(S.c.id == src["id"]).values(offset=upto, size=upto, last_seen=now))
        return ids

    # -- the one write path --------------------------------------------------------------
    def _commit(self, source_id: int, part: Part, tracker: BatchTracker, close_batches: bool,
                in_error_folder: str | None = None) -> int:
        rows, issues, now = [], [], self.now()
        for kind, start, entry in part.entries:
            if kind == BATCH:
                problem = tracker.segment(entry, start)
                if problem:
                    issues.append(problem)
                continue
            if kind == MESSAGE:
                tracker.message()
            rows.append(_stamp(entry, source_id, "file", None, now))
        if close_batches:
            issues += tracker.finish()
        with self.store.engine.begin() as conn:
            self._store_rows(conn, rows)
            if in_error_folder and rows:
                conn.execute(insert(Q), [queue.item(
                    "error_folder", f"Found in the engine's error folder ({in_error_folder}/): the engine could not "
                    "process or deliver it. Look at the engine's log for why, correct it if needed, then resend.",
                    f"error_folder | {in_error_folder}", message_id=r["id"], source_id=source_id, now=now) for r in rows])
                self.summary.queued += len(rows)
            if issues:
                conn.execute(insert(Q), [queue.item("batch_mismatch", i, "batch_mismatch | " + queue.normalise(i.split(" (")[0]),
                                                    message_id=None, source_id=source_id, now=now) for i in issues])
                self.summary.queued += len(issues)
            conn.execute(update(S).where(S.c.id == source_id)
                         .values(offset=part.offset, batch=tracker.state, last_seen=now,
                                 state="active" if part.more else "done"))
        return len(rows)

    def _store_rows(self, conn: Connection, rows: list[dict]) -> list[int]:
        if not rows:
            return []
        self.correlator.prepare(conn, rows)
        ids = self._allocate_ids(conn, len(rows))
        for row, new_id in zip(rows, ids):
            row["id"] = new_id
        items = self.correlator.correlate(conn, rows)
        insert_many(conn, M, rows, _MESSAGE_COLUMNS)
        self._fts(conn, rows)
        if items:
            conn.execute(insert(Q), items)
        self.summary.add(rows, len(items))
        return ids

    def _allocate_ids(self, conn: Connection, n: int) -> list[int]:
        """Ids for n new messages, taken before the insert so it can be one executemany."""
        if self.store.dialect == "postgresql":
            return list(conn.execute(text("SELECT nextval(pg_get_serial_sequence('messages', 'id')) "
                                          "FROM generate_series(1, :n)"), {"n": n}).scalars())
        # SQLite: a write first takes the database's single write lock, so the largest id
        # read next cannot be taken by another writer before this transaction commits
        conn.execute(update(S).where(S.c.id == -1).values(offset=0))
        top = conn.execute(text("SELECT coalesce(max(id), 0) FROM messages")).scalar_one()
        return list(range(top + 1, top + 1 + n))

    def _fts_writer(self) -> Callable[[Connection, list[dict]], None]:
        if self.store.dialect == "sqlite":
            sql = "INSERT INTO message_text(rowid, body) VALUES (?, ?)"
            return lambda conn, rows: conn.exec_driver_sql(sql, [(r["id"], r["text"]) for r in rows])
        sql = "INSERT INTO message_text (message_id, body) VALUES (%s, %s)"
        return lambda conn, rows: conn.exec_driver_sql(sql, [(r["id"], r["text"].replace("\x00", "")) for r in rows])

    def sweep(self) -> int:
        """Mark overdue pending messages missing; returns how many."""
        with self.store.engine.begin() as conn:
            n = sweep_missing(conn, self.now())
        self.summary.queued += n
        return n


def _stamp(row: dict, source_id: int, transport: str, peer: str | None, now: datetime) -> dict:
    """A row from core.message_rows, with where and when it arrived and correlation still to come."""
    row.update(source_id=source_id, received_at=now, transport=transport, peer=peer, duplicate_of=None,
               ack_result=None, ack_id=None, answers_id=None, event_time=row["message_time"] or now,
               parent_id=None, version_no=1)
    return row


def error_folder(path: Path) -> str | None:
    """The name of the error folder a file lies in (errors/, rejected/, dead_letter/...), if any."""
    return next((part for part in reversed(path.parent.parts) if part.lower() in ERROR_FOLDERS), None)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def expand(paths: Iterable[str | Path], skip: frozenset[Path] = frozenset()) -> Iterable[Path]:
    """Files named, and every file below folders named, in a stable order; hidden files
    and `skip` (the store's own files, should it live in a watched folder) left out."""
    for p in map(Path, paths):
        if p.is_dir():
            for root, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    if not name.startswith(".") and (Path(root) / name).resolve() not in skip:
                        yield Path(root) / name
        elif p.resolve() not in skip:
            yield p
