"""Following an engine's channels into the store, from a cursor per channel.

Mirth lists a channel's messages newest first, so paging by offset over a growing channel
shifts under the reader: each call here asks for a closed window of message ids instead
(`minMessageId`..`maxMessageId`, at most `page_size` of them, with their content), and
`offset` is used only to find the oldest message past a pruned stretch. A window's
content, its queue items, its engine keys, the cursor's move and the audit entry for the
PHI read commit in one transaction, so a kill or a restart resumes at a window boundary
with no duplicate and no gap; a content already stored (another poller of a shared store)
is never stored twice (the window is held while it is stored, and each content has one
place in its channel's source). A message the engine is still processing stops the
cursor before it, until it is done or older than PROCESSING_GRACE.

Polite to the engine: calls are paced (`rate` a second), at most `concurrency` channels at
once, and text searches are never sent to it: they run on the store's own index.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core import secrets
from core.engines import mapping
from core.engines.client import EngineClient, EngineError
from core.engines.xstream import Channel, XStreamError
from core.ingest import stamp, utcnow
from core.sources.engine_windows import WORKER_MIN_MESSAGES, RowProcess, Window, Windows, window_of
from core.store import audit, engines, queue, sources
from core.store.db import Store
from core.store.messages import store_messages
from core.store.pairing import Pairing
from core.vocabulary import AuditAction, QueueKind, TriageState

PROCESSING_GRACE = timedelta(minutes=5)
RECHECK_QUEUED = 20  # queued messages asked about again per channel and poll
ACTOR = "lanewatch engine poller"


def owner(engine: dict) -> str:
    return f"engine:{engine['name']}"


def open_client(engine: dict, *, timeout: float = 30.0) -> EngineClient:
    """A client for a stored engine, with its password from the keyring."""
    password = secrets.get(owner(engine), "engine_password")
    if password is None:
        raise EngineError(f"no password is kept for {engine['name']}: set it with 'lanewatch engine set {engine['name']} "
                          "--password-stdin'")
    return EngineClient(engine["url"], engine["username"], password, ca_file=engine.get("ca_file"),
                        rate=engine.get("rate") or 0, timeout=timeout)


@dataclass
class ChannelPoll:
    name: str
    stored: int = 0  # contents stored (received, sent, responses)
    messages: int = 0  # engine messages read
    queued: int = 0  # queue items raised
    resolved: int = 0  # queued items the engine has since delivered
    cursor: int = 0
    top: int = 0
    problem: str | None = None


@dataclass
class EnginePoll:
    engine: str
    channels: list[ChannelPoll] = field(default_factory=list)
    requests: int = 0
    problem: str | None = None

    @property
    def stored(self) -> int:
        return sum(c.stored for c in self.channels)

    @property
    def queued(self) -> int:
        return sum(c.queued for c in self.channels)


class Poller:
    """Polls one engine: its channels' states and counts, then their new messages."""

    def __init__(self, store: Store, engine: dict, client: EngineClient, *, now: Callable[[], datetime] = utcnow,
                 stop: threading.Event | None = None, max_windows: int | None = None) -> None:
        self.store, self.engine, self.client, self.now = store, engine, client, now
        self.stop = stop or threading.Event()
        self.max_windows = max_windows  # a cycle's share per channel (None: until caught up)
        self.page = max(1, min(int(engine.get("page_size") or 50), 1000))
        self.rows = RowProcess()  # started only for a long backlog

    def run(self) -> EnginePoll:
        result = EnginePoll(self.engine["name"])
        try:
            found = self.channels()
        except (EngineError, XStreamError) as exc:
            result.problem, result.requests = str(exc), self.client.requests
            self._note_problem(result.problem)
            return result
        workers = max(1, int(self.engine.get("concurrency") or 1))
        try:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="engine-poll") as pool:
                result.channels = list(pool.map(self.poll_channel, found))
        finally:
            self.rows.close()
        result.requests = self.client.requests
        problems = [f"{c.name}: {c.problem}" for c in result.channels if c.problem]
        self._note_problem("; ".join(problems) or None)
        return result

    def _note_problem(self, problem: str | None) -> None:
        with self.store.begin() as conn:
            engines.change(conn, self.engine["id"], problem=problem, checked_at=self.now())

    # -- channels -------------------------------------------------------------------------
    def channels(self) -> list[dict]:
        """The engine's channels as stored rows, with their state and counts brought up to date."""
        listed: list[Channel] = self.client.channels()
        statuses = self.client.statuses()
        now = self.now()
        rows = []
        with self.store.begin() as conn:
            # a write first: it holds the engine's row (SQLite's write lock, PostgreSQL's row lock),
            # so two pollers of one store do not both make a channel they have not seen yet
            engines.change(conn, self.engine["id"], checked_at=now)
            for ch in listed:
                row = engines.channel(conn, self.engine, ch.channel_id, ch.name, destinations=ch.destinations,
                                      data_type=ch.inbound_data_type,
                                      source_id_for=lambda name: sources.named(conn, name, "engine", now)["id"], now=now)
                status = statuses.get(ch.channel_id)
                counts = status.statistics if status else None
                engines.set_status(conn, row, status.state if status else "UNDEPLOYED", {
                    "received": counts.received, "filtered": counts.filtered, "queued": max(counts.queued, status.queued),
                    "sent": counts.sent, "errored": counts.errored} if counts else {}, now)
                rows.append(row)
        return rows

    def poll_channel(self, ch: dict) -> ChannelPoll:
        out = ChannelPoll(ch["name"])
        try:
            self._follow(ch, out)
            self._recheck_queued(ch, out)
        except (EngineError, XStreamError) as exc:
            out.problem = str(exc)
        return out

    def _follow(self, ch: dict, out: ChannelPoll) -> None:
        out.top = top = self.client.max_message_id(ch["channel_id"])
        with self.store.read() as conn:
            cursor = engines.cursor(conn, ch["id"])
        windows = Windows(self.client, ch, self.page, self.rows if top - cursor >= WORKER_MIN_MESSAGES else None)
        left = self.max_windows
        while cursor < top and not self.stop.is_set() and (left is None or left > 0):
            for low, high, window in windows.upward(cursor + 1, top, left):
                left = None if left is None else left - 1
                if not window.seen:
                    cursor = self._skip_gap(ch, cursor, top)
                    break  # go on from past the gap
                take, upto = self._ready(window, high)
                if take.seen or upto > cursor:
                    cursor = self._store(ch, take, low, upto, out)
                if upto < high:  # a message still being processed: the rest waits for the next poll
                    out.cursor = cursor
                    return
                if self.stop.is_set():
                    break
            else:
                break
        out.cursor = cursor

    def _ready(self, window: Window, high: int) -> tuple[Window, int]:
        """What of a window can be taken now, and how far the cursor may go."""
        now = self.now()
        for i, m in enumerate(window.seen):
            if not m.processed and m.received is not None and now - m.received < PROCESSING_GRACE:
                return Window(window.seen[:i], [(e, r) for e, r in window.built if e.engine_message_id < m.message_id]), \
                    m.message_id - 1
        return window, high

    def _skip_gap(self, ch: dict, cursor: int, top: int) -> int:
        """An empty window (pruned, or deleted on the engine): go on at the oldest message past it."""
        cid = ch["channel_id"]
        left = self.client.count(cid, cursor + 1, top)
        oldest = self.client.messages(cid, cursor + 1, top, limit=1, offset=left - 1) if left else []
        to = oldest[0].message_id - 1 if oldest else top
        with self.store.begin() as conn:
            engines.lock_channel(conn, ch["id"], self.now())
            engines.advance(conn, ch["id"], to)
        return to

    def _store(self, ch: dict, window: Window, low: int, upto: int, out: ChannelPoll, *, recheck: bool = False) -> int:
        """Store a window's messages with their items and keys, and move the cursor, together."""
        now = self.now()
        with self.store.begin() as conn:
            cursor = engines.lock_channel(conn, ch["id"], now)
            if not recheck and cursor >= upto:
                return cursor  # another poller stored this window first
            have = engines.known(conn, ch["id"], low, upto)
            new = [(e, r) for e, r in window.built if e.key not in have and (recheck or e.engine_message_id > cursor)]
            rows = [self._row(ch, e, row, now) for e, row in new]
            stored = store_messages(conn, rows, Pairing(self.now))
            items, keys = [], []
            for (e, _), row in zip(new, rows):
                keys.append({"message_id": row["id"], "channel": ch["id"], "engine_message_id": e.engine_message_id,
                             "meta_data_id": e.meta_data_id, "connector": e.connector[:200], "role": e.role,
                             "status": e.status, "data_type": e.data_type, "server_id": e.server_id})
                if e.problem is not None:
                    items.append(queue.new(e.problem.kind, e.problem.reason, e.problem.signature, message_id=row["id"],
                                           source_id=ch["source_id"], now=now, at=row["event_time"]))
            if recheck:  # what changed on content stored before (a queued message now failed)
                items += [queue.new(e.problem.kind, e.problem.reason, e.problem.signature, message_id=have[e.key],
                                    source_id=ch["source_id"], now=now) for e, _ in window.built
                          if e.key in have and e.problem is not None and e.problem.kind != QueueKind.ENGINE_QUEUED]
            engines.record(conn, keys)
            if not ch.get("ends_named") and (first := next((r for r in rows if r["sending_app"] and not r["is_ack"]), None)):
                engines.name_ends(conn, ch["interface_id"], first)
                ch["ends_named"] = True
            out.queued += stored.queued + queue.add(conn, items)
            out.stored += len(rows)
            if not recheck:
                out.messages += len(window.seen)
                engines.advance(conn, ch["id"], upto)
                sources.advance(conn, ch["source_id"], mapping.position(upto + 1, 0, "received"), now)
            if rows:
                audit.append(conn, actor=ACTOR, action=AuditAction.READ_ENGINE, at=now, after={
                    "engine": self.engine["name"], "channel": ch["name"], "contents": len(rows),
                    "engine_messages": [window.seen[0].message_id, window.seen[-1].message_id]})
        return max(cursor, upto)

    def _row(self, ch: dict, e: mapping.Entry, row: dict, now: datetime) -> dict:
        row = stamp(row, ch["source_id"], "engine", e.connector[:255], now)
        if e.received is not None:
            row["received_at"] = e.received
            row["event_time"] = row["message_time"] or e.received
        row.update(interface=(ch["interface_id"], None, 300), expects_ack=e.expects_ack, duplicate_check=e.duplicate_check)
        return row

    def _recheck_queued(self, ch: dict, out: ChannelPoll) -> None:
        """Ask again about messages the engine had queued: once delivered (or failed), say so."""
        with self.store.read() as conn:
            waiting = engines.open_queued(conn, ch["id"], RECHECK_QUEUED)
        by_message: dict[int, list] = {}
        for w in waiting:
            by_message.setdefault(w.engine_message_id, []).append(w)
        for mid, items in by_message.items():
            if self.stop.is_set():
                return
            m = self.client.message(ch["channel_id"], mid)
            if m is None:
                continue
            now_status = {c.meta_data_id: c.status for c in m.connectors}
            self._store(ch, window_of([m], ch["name"], ch.get("data_type")), mid, mid, out, recheck=True)
            done = {w.id: w.row_version for w in items if now_status.get(w.meta_data_id) not in (None, "QUEUED")}
            if done:
                with self.store.begin() as conn:
                    words = {w.id: f"the engine reports it {now_status[w.meta_data_id]} now" for w in items if w.id in done}
                    queue.settle(conn, done, TriageState.RESOLVED, self.now(), words)
                    audit.append_many(conn, [dict(actor=ACTOR, action=AuditAction.RESOLVE, at=self.now(), item_id=i,
                                                  before={"triage_state": TriageState.OPEN},
                                                  after={"triage_state": TriageState.RESOLVED, "note": words[i]})
                                             for i in done])
                out.resolved += len(done)
