"""A listening tap: receives MLLP traffic, stores every message, then answers it.

A message is acknowledged only once it is committed, so an AA means "it is in the store".
Messages arriving together are committed together (group commit) by one writer thread,
which keeps the store's single-writer rule and lets many peers send at once. The ACK the
tap sends is stored too, so the message's ACK state reads as it would on the wire.
"""
from __future__ import annotations

import asyncio
import itertools
import ssl
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from core.hl7 import ack
from core.ingest import Ingestor, utcnow
from core.store.db import Store
from core.transport.mllp import MAX_SIZE, Problem, Server

ACK_MODES = ("AA", "AE", "AR", "none")
BATCH_WAIT_S = 0.0  # the writer commits at once; what arrives meanwhile waits for the next commit


@dataclass
class TapStats:
    received: int = 0
    answered: int = 0
    problems: list[str] = field(default_factory=list)


class Listener:
    def __init__(self, store: Store, host: str = "127.0.0.1", port: int = 0, *, ack_mode: str = "AA",
                 tls: ssl.SSLContext | None = None, max_size: int = MAX_SIZE, idle_timeout: float = 60.0,
                 name: str | None = None, now: Callable[[], datetime] = utcnow) -> None:
        if ack_mode not in ACK_MODES:
            raise ValueError(f"ack mode must be one of {', '.join(ACK_MODES)}")
        self.store, self.ack_mode, self.now = store, ack_mode, now
        self.server = Server(self._handle, host, port, tls=tls, max_size=max_size, idle_timeout=idle_timeout,
                             on_problem=self._problem)
        self.name = name
        self.stats = TapStats()
        self._ingestor = Ingestor(store, now=now)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lanewatch-tap-writer")
        self._pending: list[tuple[bytes, str, asyncio.Future]] = []
        self._flush: asyncio.Task | None = None
        self._ids = itertools.count(1)

    @property
    def peers(self) -> dict[str, int]:
        return dict(self.server.peers)

    async def start(self) -> int:
        port = await self.server.start()
        self.name = self.name or f"mllp://{self.server.host}:{port}"
        return port

    async def close(self) -> None:
        await self.server.close()
        if self._flush:
            await self._flush
        self._writer.shutdown(wait=True)

    def _problem(self, problem: Problem) -> None:
        self.stats.problems.append(f"{problem.peer}: {problem.text}")
        del self.stats.problems[:-200]

    async def _handle(self, message: bytes, peer: str) -> bytes | None:
        self.stats.received += 1
        answer = None
        if self.ack_mode != "none":
            code = self.ack_mode
            text = {"AE": "Test tap: answering AE as configured", "AR": "Test tap: answering AR as configured"}.get(code)
            answer = ack.build(message, code, text, control_id=f"LW{self.now():%Y%m%d%H%M%S}{next(self._ids):06d}",
                               timestamp=f"{self.now():%Y%m%d%H%M%S}")
        done = asyncio.get_running_loop().create_future()
        self._pending.append((message, peer, done))
        if answer is not None:
            self._pending.append((answer, peer, None))
        if self._flush is None or self._flush.done():
            self._flush = asyncio.create_task(self._commit_soon())
        await done  # stored (or failed, which raises: the peer gets no ACK and will resend)
        self.stats.answered += answer is not None
        return answer

    async def _commit_soon(self) -> None:
        await asyncio.sleep(BATCH_WAIT_S)
        while self._pending:
            batch, self._pending = self._pending, []
            loop = asyncio.get_running_loop()
            try:
                await loop.run_in_executor(self._writer, self._store, batch)
            except Exception as exc:  # the store is down: no ACK goes out, the senders keep their messages
                for _, _, done in batch:
                    if done is not None and not done.done():
                        done.set_exception(exc)
                continue
            for _, _, done in batch:
                if done is not None and not done.done():
                    done.set_result(None)

    def _store(self, batch: list[tuple[bytes, str, asyncio.Future | None]]) -> None:
        self._ingestor.ingest_messages(self.name, [raw for raw, _, _ in batch], transport="mllp",
                                       peer=[peer.rsplit(":", 1)[0] for _, peer, _ in batch])
