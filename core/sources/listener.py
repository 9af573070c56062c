"""A listening tap: receives MLLP traffic, journals every message, answers it, then stores it.

A message is acknowledged only once it is safe: written to the tap's spool (a local
journal, see `spool`) together with everything that arrived meanwhile (group commit, one
writer thread). The store then takes the journal in large batches on a thread of its own,
recording how far it got in the same transaction, so a crash loses nothing and doubles
nothing, and a store that is down or slow never stops the tap from answering. The ACK the
tap sends is journalled and stored too, so the message's ACK state reads as it would on
the wire.
"""
from __future__ import annotations

import asyncio
import itertools
import ssl
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from core.hl7 import ack
from core.ingest import receive, utcnow
from core.sources import spool
from core.store import sources
from core.store.db import Store, store_unavailable
from core.store.pairing import Pairing
from core.transport.mllp import MAX_SIZE, Problem, Server

ACK_MODES = ("AA", "AE", "AR", "none")
INGEST_BATCH = 2000  # journal records per store transaction
INGEST_IDLE_S = 0.25  # how often the store looks at the journal when nothing wakes it
RETRY_S = 5.0  # after the store failed


@dataclass
class TapStats:
    received: int = 0
    answered: int = 0
    stored: int = 0  # journal records (messages and the tap's ACKs) now in the store
    problems: list[str] = field(default_factory=list)


class Listener:
    def __init__(self, store: Store, host: str = "127.0.0.1", port: int = 0, *, ack_mode: str = "AA",
                 tls: ssl.SSLContext | None = None, max_size: int = MAX_SIZE, idle_timeout: float = 60.0,
                 name: str | None = None, spool_folder: Path | None = None,
                 now: Callable[[], datetime] = utcnow) -> None:
        if ack_mode not in ACK_MODES:
            raise ValueError(f"ack mode must be one of {', '.join(ACK_MODES)}")
        self.store, self.ack_mode, self.now = store, ack_mode, now
        self.server = Server(self._handle, host, port, tls=tls, max_size=max_size, idle_timeout=idle_timeout,
                             on_problem=self._problem)
        self.name = name
        self.stats = TapStats()
        self.spool_folder = spool_folder or spool.folder_for(store)
        self.journal: spool.Spool | None = None
        self._pairing = Pairing(now)
        self._consumed = 0
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lanewatch-tap-journal")
        self._loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lanewatch-tap-store")
        self._pending: list[tuple[str, bytes, asyncio.Future | None]] = []
        self._flush: asyncio.Task | None = None
        self._pump: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self._ids = itertools.count(1)

    @property
    def peers(self) -> dict[str, int]:
        return dict(self.server.peers)

    async def start(self) -> int:
        """Listen; what an earlier run journalled but did not store is stored first."""
        loop = asyncio.get_running_loop()
        port = await self.server.start()
        self.name = self.name or f"mllp://{self.server.host}:{port}"
        self._consumed = await loop.run_in_executor(self._loader, self._recorded_position)
        self.journal = spool.Spool(self.spool_folder, self.name, self._consumed)
        self._pump = asyncio.create_task(self._store_journal())
        return port

    async def stored(self) -> None:
        """Wait until everything answered so far is in the store."""
        while self._pending or (self._flush and not self._flush.done()) or self._consumed < self.journal.end:
            self._wake.set()
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        await self.server.close()
        if self._flush:
            await self._flush
        if self._pump:
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._loader, self._store_all)
        except Exception as exc:  # noqa: BLE001 - still in the journal; the next start stores it
            self._problem(Problem("store", f"could not store the last messages yet: {_why(exc)}"))
        self._writer.shutdown(wait=True)
        self._loader.shutdown(wait=True)
        if self.journal:
            self.journal.close()

    def _problem(self, problem: Problem) -> None:
        self.stats.problems.append(f"{problem.peer}: {problem.text}")
        del self.stats.problems[:-200]

    async def _handle(self, message: bytes, peer: str) -> bytes | None:
        self.stats.received += 1
        answer = None
        if self.ack_mode != "none":
            code = self.ack_mode
            text = {"AE": "Test tap: answering AE as configured", "AR": "Test tap: answering AR as configured"}.get(code)
            if code == "AA" and not message.lstrip(b"\x00\xef\xbb\xbf").startswith(b"MSH"):
                code, text = "AR", "Not an HL7 message (no MSH segment): kept as it came, not processed"
            answer = ack.build(message, code, text, control_id=f"LW{self.now():%Y%m%d%H%M%S}{next(self._ids):06d}",
                               timestamp=f"{self.now():%Y%m%d%H%M%S}")
        done = asyncio.get_running_loop().create_future()
        host = peer.rsplit(":", 1)[0]
        self._pending.append((host, message, done))
        if answer is not None:
            self._pending.append((host, answer, None))
        if self._flush is None or self._flush.done():
            self._flush = asyncio.create_task(self._journal_pending())
        await done  # journalled (or failed, which raises: the peer gets no ACK and will resend)
        self.stats.answered += answer is not None
        return answer

    async def _journal_pending(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await loop.run_in_executor(self._writer, self.journal.append, [(peer, raw) for peer, raw, _ in batch])
            except Exception as exc:  # noqa: BLE001 - the disk is full or gone: no ACK goes out, the senders keep their messages
                for _, _, done in batch:
                    if done is not None and not done.done():
                        done.set_exception(exc)
                continue
            for _, _, done in batch:
                if done is not None and not done.done():
                    done.set_result(None)
            self._wake.set()

    async def _store_journal(self) -> None:
        """Move the journal into the store, a large batch at a time, for as long as the tap runs."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), INGEST_IDLE_S)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await loop.run_in_executor(self._loader, self._store_all)
            except Exception as exc:  # noqa: BLE001 - the store is down: it stays in the journal until it is back
                self._problem(Problem("store", f"could not store received messages, will retry: {_why(exc)}"))
                await asyncio.sleep(RETRY_S)

    def _recorded_position(self) -> int:
        with self.store.begin() as conn:
            return sources.named(conn, self.name, "mllp", self.now())["offset"]

    def _store_all(self) -> None:
        while self._consumed < self.journal.end:
            records = self.journal.read(self._consumed, INGEST_BATCH)
            if not records:
                return
            try:
                self._store(records)
            except Exception as exc:  # noqa: BLE001 - one record, or the store? One at a time says which
                if store_unavailable(exc):
                    raise
                self._pairing = Pairing(self.now)  # its caches may hold the failed transaction's rows
                for record in records:
                    self._store_isolating(record)
            self.journal.prune(self._consumed)

    def _store(self, records: list[spool.Record], unread: str | None = None) -> None:
        with self.store.begin() as conn:
            receive(conn, self.name, [r.raw for r in records], self._pairing, now=self.now(), transport="mllp",
                    unread=unread, peer=[r.peer for r in records], at=[r.position for r in records])
        self._consumed = records[-1].end
        self.stats.stored += len(records)

    def _store_isolating(self, record: spool.Record) -> None:
        """A record that cannot be stored as read is stored as its bytes alone (unparseable, in
        the queue, with why), so it never holds up what came after it. When even that fails
        the store itself is the trouble: the error goes up and the journal waits for it."""
        try:
            self._store([record])
        except Exception as exc:  # noqa: BLE001
            if store_unavailable(exc):
                raise
            why = f"Lanewatch could not store this message as read ({_why(exc)}); its bytes are kept as they came"
            self._pairing = Pairing(self.now)
            self._store([record], unread=why)
            self._problem(Problem(record.peer, f"a message could not be stored as read: kept as unparseable ({_why(exc)})"))


def _why(exc: Exception) -> str:
    """A store error in a line, without the statement's parameters (they hold PHI)."""
    cause = getattr(exc, "orig", None) or exc
    return f"{type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}"
