"""A channel's message windows, read ahead of the store.

Storing a window is the poller's own work; fetching the next ones and turning their XML
into rows is not, and on a two-core workstation it is half the time. So while one window
is stored, the next are fetched (threads: the engine's answer is waited for with the GIL
released) and, for a long backlog, parsed and made into rows in a second process, as a
large file's rows are (core.message_rows.RowWorker). Nothing here touches the store: a
window read ahead and never stored (a stop, a gap, a message still being processed) is
simply dropped, and the cursor says where the next poll begins.
"""
from __future__ import annotations

import multiprocessing
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from core.engines import mapping
from core.engines.client import EngineClient
from core.engines.xstream import EngineMessage, messages
from core.message_rows import message_row

AHEAD = 2  # windows fetched and read while one is stored
WORKER_MIN_MESSAGES = 5_000  # a shorter backlog is not worth starting a second process for


class Seen(NamedTuple):
    """What the cursor needs of an engine message."""

    message_id: int
    processed: bool
    received: datetime | None


@dataclass
class Window:
    """A window's messages in id order, and what to store of them, each content with its row
    (built from its bytes alone: core.ingest.stamp adds where and when)."""

    seen: list[Seen]
    built: list[tuple[mapping.Entry, dict]]


def window_of(found: list[EngineMessage], channel: str, data_type: str | None) -> Window:
    found = sorted(found, key=lambda m: m.message_id)
    return Window([Seen(m.message_id, m.processed, m.received) for m in found],
                  [(e, message_row(e.raw, e.at, data_type=e.data_type))
                   for m in found for e in mapping.entries(m, channel, data_type)])


def read_window(body: bytes, channel: str, data_type: str | None) -> Window:
    """A window from the engine's answer (raises XStreamError); runs in the row process."""
    return window_of(messages(body), channel, data_type)


class RowProcess:
    """The second process windows are read in, started on first use; if it dies, windows
    are read here again (the answer is still in hand, so nothing is fetched twice)."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._broken = False
        self._starting = threading.Lock()  # windows are read ahead from two threads: one process
        self.read_there = 0  # windows the second process read

    def read(self, body: bytes, channel: str, data_type: str | None) -> Window:
        if not self._broken:
            try:
                with self._starting:
                    if self._pool is None:
                        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
                window = self._pool.submit(read_window, body, channel, data_type).result()
                self.read_there += 1
                return window
            except (BrokenProcessPool, OSError):
                self._broken = True
        return read_window(body, channel, data_type)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class Windows:
    """One channel's windows of at most `page` ids each, in order, from `low` up to `top`."""

    def __init__(self, client: EngineClient, channel: dict, page: int, rows: RowProcess | None) -> None:
        self.client, self.channel, self.page, self.rows = client, channel, page, rows

    def read(self, low: int, high: int) -> Window:
        body = self.client.messages_body(self.channel["channel_id"], low, high, limit=self.page)
        if self.rows is not None:
            return self.rows.read(body, self.channel["name"], self.channel.get("data_type"))
        return read_window(body, self.channel["name"], self.channel.get("data_type"))

    def upward(self, low: int, top: int, most: int | None) -> Iterator[tuple[int, int, Window]]:
        """(low, high, window) in id order, at most `most` of them, the next AHEAD read ahead.
        Leaving early cancels what was not started; what was started is dropped."""
        ahead: deque[tuple[int, int, Future]] = deque()
        left = most if most is not None else 1 << 62
        with ThreadPoolExecutor(AHEAD, thread_name_prefix="engine-read") as pool:
            try:
                while True:
                    while len(ahead) < AHEAD and low <= top and left > 0:
                        high = min(low + self.page - 1, top)
                        ahead.append((low, high, pool.submit(self.read, low, high)))
                        low, left = high + 1, left - 1
                    if not ahead:
                        return
                    lo, hi, future = ahead.popleft()
                    yield lo, hi, future.result()
            finally:
                for _, _, future in ahead:
                    future.cancel()
