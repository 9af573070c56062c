"""A listening tap: receives MLLP traffic, journals every message, answers it, then stores it.

A message is acknowledged only once it is safe: written to the tap's spool (a local
journal, see `spool`) together with everything that arrived meanwhile (group commit, one
writer thread). The store then takes the journal in large batches in a process of its own
(`tap_loader`), recording how far it got in the same transaction, so a crash loses nothing
and doubles nothing, and a store that is down or slow never stops the tap from answering. The ACK the
tap sends is journalled and stored too, so the message's ACK state reads as it would on
the wire.
"""
from __future__ import annotations

import asyncio
import itertools
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from queue import SimpleQueue

from core.hl7 import ack
from core.ingest import utcnow
from core.sources import spool
from core.sources.tap_loader import JournalLoader, LoaderError, LoaderProcess
from core.store.db import Store
from core.transport.mllp import MAX_SIZE, Problem, Server

ACK_MODES = ("AA", "AE", "AR", "none")
LOAD_EVERY_S = 0.2  # how often the store takes what the journal has (a larger batch is cheaper a message)
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
                 now: Callable[[], datetime] = utcnow, loader_process: bool | None = None) -> None:
        """`loader_process`: store in a process of its own (the default whenever the store can
        be opened there again, that is unless it is in memory) or on a thread of this one."""
        if ack_mode not in ACK_MODES:
            raise ValueError(f"ack mode must be one of {', '.join(ACK_MODES)}")
        self.store, self.ack_mode, self.now = store, ack_mode, now
        self.server = Server(self._handle, host, port, tls=tls, max_size=max_size, idle_timeout=idle_timeout,
                             on_problem=self._problem)
        self.name = name
        self.stats = TapStats()
        self.spool_folder = spool_folder or spool.folder_for(store)
        self.journal: spool.Spool | None = None
        self.loader_process = (store.file is not None or store.dialect != "sqlite") if loader_process is None \
            else loader_process
        self.loader: JournalLoader | LoaderProcess | None = None
        self._writes: SimpleQueue[list | None] = SimpleQueue()  # batches for the journal's writer thread
        self._writer: threading.Thread | None = None
        self._writing = False  # a batch is with the writer: what comes meanwhile is the next group
        self._stamp: tuple[datetime | None, str] = (None, "")
        self._loading = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lanewatch-tap-store")
        self._pending: list[tuple[str, bytes, asyncio.Future | None]] = []
        self._pump: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self._ids = itertools.count(1)

    @property
    def peers(self) -> dict[str, int]:
        return dict(self.server.peers)

    async def start(self) -> int:
        """Listen; what an earlier run journalled but did not store is stored straight away."""
        loop = asyncio.get_running_loop()
        port = await self.server.start()
        self.name = self.name or f"mllp://{self.server.host}:{port}"
        self.loader = self._new_loader()
        try:
            consumed = await loop.run_in_executor(self._loading, self.loader.position)
        except LoaderError:
            await self.server.close()
            await loop.run_in_executor(self._loading, self.loader.close)
            raise
        self.journal = spool.Spool(self.spool_folder, self.name, consumed)
        self._writer = threading.Thread(target=self._write_journal, args=(loop,), name="lanewatch-tap-journal",
                                        daemon=True)
        self._writer.start()
        self._pump = asyncio.create_task(self._store_journal())
        return port

    async def stored(self) -> None:
        """Wait until everything answered so far is in the store."""
        while self._pending or self._writing or self.loader.consumed < self.journal.end:
            self._wake.set()
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        await self.server.close()
        while self._writing:  # the last group commit
            await asyncio.sleep(0.005)
        if self._pump:
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._loading, self._load)
        except LoaderError as exc:  # still in the journal; the next start stores it
            self._problem(Problem("store", f"could not store the last messages yet: {exc}"))
        await loop.run_in_executor(self._loading, self.loader.close)
        if self._writer:
            self._writes.put(None)
            self._writer.join()
        self._loading.shutdown(wait=True)
        if self.journal:
            self.journal.close()

    def _problem(self, problem: Problem) -> None:
        self._say(f"{problem.peer}: {problem.text}")

    def _say(self, line: str) -> None:
        self.stats.problems.append(line)
        del self.stats.problems[:-200]

    async def _handle(self, message: bytes, peer: str) -> bytes | None:
        self.stats.received += 1
        answer = None
        if self.ack_mode != "none":
            code = self.ack_mode
            text = {"AE": "Test tap: answering AE as configured", "AR": "Test tap: answering AR as configured"}.get(code)
            if code == "AA" and not message.lstrip(b"\x00\xef\xbb\xbf").startswith(b"MSH"):
                code, text = "AR", "Not an HL7 message (no MSH segment): kept as it came, not processed"
            stamp = self._timestamp()
            answer = ack.build(message, code, text, control_id=f"LW{stamp}{next(self._ids):06d}", timestamp=stamp)
        done = asyncio.get_running_loop().create_future()
        host = peer.rsplit(":", 1)[0]
        self._pending.append((host, message, done))
        if answer is not None:
            self._pending.append((host, answer, None))
        if not self._writing:
            self._journal_next()
        await done  # journalled (or failed, which raises: the peer gets no ACK and will resend)
        self.stats.answered += answer is not None
        return answer

    def _timestamp(self) -> str:
        """Now as an HL7 timestamp, formatted once a second (it is on every answer's path)."""
        now = self.now().replace(microsecond=0)
        if now != self._stamp[0]:
            self._stamp = (now, f"{now:%Y%m%d%H%M%S}")
        return self._stamp[1]

    # -- group commit: the loop hands what arrived to the writer thread, which appends and
    # syncs it while the next group gathers, then hands it back to be answered
    def _journal_next(self) -> None:
        batch, self._pending = self._pending, []
        self._writing = True
        self._writes.put(batch)

    def _write_journal(self, loop: asyncio.AbstractEventLoop) -> None:
        """The writer thread."""
        while (batch := self._writes.get()) is not None:
            try:
                self.journal.append([(peer, raw) for peer, raw, _ in batch])
                failed = None
            except Exception as exc:  # noqa: BLE001 - the disk is full or gone: no ACK goes out, the senders keep their messages
                failed = exc
            loop.call_soon_threadsafe(self._journalled, batch, failed)

    def _journalled(self, batch: list, failed: Exception | None) -> None:
        for _, _, done in batch:
            if done is not None and not done.done():
                if failed is None:
                    done.set_result(None)
                else:
                    done.set_exception(failed)
        self._writing = False
        if self._pending:
            self._journal_next()

    async def _store_journal(self) -> None:
        """Move the journal into the store, a large batch at a time, for as long as the tap runs."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), LOAD_EVERY_S)  # stored() hurries it
            except TimeoutError:
                pass
            self._wake.clear()
            if self.loader.consumed >= self.journal.end:
                continue
            try:
                await loop.run_in_executor(self._loading, self._load)
            except LoaderError as exc:  # the store is down: it stays in the journal until it is back
                self._problem(Problem("store", f"could not store received messages, will retry: {exc}"))
                await asyncio.sleep(RETRY_S)

    def _new_loader(self) -> JournalLoader | LoaderProcess:
        if self.loader_process:
            return LoaderProcess(self.store.engine.url.render_as_string(hide_password=False), self.name,
                                 self.spool_folder, self.now)
        return JournalLoader(self.store, self.name, self.spool_folder, self.now)

    def _load(self) -> None:
        """Everything journalled so far into the store (on the loading thread). A loader
        process that died is replaced first; the new one resumes from the store's offset."""
        if isinstance(self.loader, LoaderProcess) and not self.loader.alive:
            self._say("store: the store process had ended; another was started, resuming from the store's offset")
            self.loader.close()
            self.loader = self._new_loader()
            self.loader.position()
        stored = self.loader.stored
        try:
            self.loader.load_to(self.journal.end)
        finally:
            self.stats.stored += self.loader.stored - stored
            for line in self.loader.problems:
                self._say(line)
            self.loader.problems.clear()
