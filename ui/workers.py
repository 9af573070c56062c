"""Background work in the console, all of it (DESIGN.md, convention 4). Nothing here
touches a widget; results come back to the GUI thread through queued signals.

- `submit`: a plain function on Qt's thread pool (every store read a view makes, every
  command through ui.actions); its result, or a failure a person can read, comes back on
  the GUI thread. Callers that may be overtaken tag their work with a `Generation` and drop
  stale results (convention 5).
- `IngestThread`: the console's single writer of ingested files (one QThread for the
  window's life): the demo's logs and live feed, watched folders, files dropped in.
- `ListenThread`: the listening tap's asyncio loop on a QThread of its own; the listener
  journals and stores through its own threads, as `lanewatch listen` does.
- Below them, in core: a large file is framed in a second process (core.message_rows.RowWorker)
  and a resend runs one asyncio queue per destination inside its `submit` job.
- `SignalProgress`: core's progress protocol as a signal.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThread, QThreadPool, Signal, Slot

from core.changes import Changes
from core.demo import LiveFeed
from core.ingest import Ingestor
from core.progress import Progress
from core.sources.folder import FolderWatcher
from core.sources.listener import Listener
from core.store import indexer
from core.store.db import Store

log = logging.getLogger(__name__)


class _Relay(QObject):
    """Lives on the GUI thread; its signal crosses threads queued, then calls back there.

    The result waits on the relay and the signal carries no arguments: Python objects are
    never marshalled through a queued connection (PySide has dropped references doing so).
    """

    ready = Signal()

    def __init__(self, on_done: Callable[[Any], None], on_failed: Callable[[str], None] | None) -> None:
        super().__init__()
        self._on_done, self._on_failed = on_done, on_failed
        self.result: Any = None
        self.error: str | None = None
        self.ready.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @Slot()
    def _deliver(self) -> None:
        _pending.discard(self)
        if self.error is None:
            self._on_done(self.result)
        elif self._on_failed:
            self._on_failed(self.error)


_pending: set[_Relay] = set()  # relays stay alive until they have delivered


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.fn, self.relay = fn, relay

    def run(self) -> None:
        try:
            self.relay.result = self.fn()
        except Exception as exc:  # reported to the person, never raised into Qt
            log.warning("background work failed: %s", type(exc).__name__, exc_info=True)
            self.relay.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        try:
            self.relay.ready.emit()
        except RuntimeError:  # whoever asked is gone (a closed window): nobody is left to tell
            _pending.discard(self.relay)


def submit(fn: Callable[[], Any], on_done: Callable[[Any], None], on_failed: Callable[[str], None] | None = None,
           *, context: QObject, pool: QThreadPool | None = None) -> None:
    """Run fn() in the background; on_done(result) or on_failed(text) run on the GUI thread,
    unless `context` (the model or window that asked) has been deleted by then."""
    relay = _Relay(on_done, on_failed)
    relay.setParent(context)
    _pending.add(relay)
    (pool or QThreadPool.globalInstance()).start(_Job(fn, relay))


class SignalProgress(QObject, Progress):
    """Core's progress protocol (core.progress) as a signal: told on a worker thread, heard on
    the GUI thread (queued), so core never touches a widget."""

    moved = Signal(int, int)  # done, of how many

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.total, self.done = 0, 0

    def started(self, total: int) -> None:
        self.total, self.done = total, 0

    def advanced(self, _nbytes: int, items: int) -> None:
        self.done += items
        self.moved.emit(self.done, self.total)


class Generation:
    """A counter that makes older requests' results recognisably stale."""

    def __init__(self) -> None:
        self.value = 0

    def next(self) -> int:
        self.value += 1
        return self.value

    def current(self, token: int) -> bool:
        return token == self.value


class _Bridge(Progress):
    def __init__(self, thread: IngestThread) -> None:
        self.thread = thread
        self.total = self.done = 0

    def started(self, total_bytes: int) -> None:
        self.total, self.done = total_bytes, 0
        self.thread.progress.emit(0, total_bytes)

    def advanced(self, nbytes: int, messages: int) -> None:
        self.done += nbytes
        self.thread.progress.emit(self.done, self.total)

    def problem(self, text: str) -> None:
        self.thread.problem.emit(text)


def index_behind(store: Store, stopped: Callable[[], bool], tell: Callable[[str], None]) -> None:
    """Stage two, if a bulk load (this one, or one cut short before) left text and indexes to
    build: how far behind it is told as it goes, and at the end."""
    with store.read() as conn:
        behind = indexer.behind(conn)
    if not behind.caught_up:
        tell(behind.words())
        tell(indexer.catch_up(store, stopped=stopped, told=lambda b: tell(b.words())).words())


class IngestThread(QThread):
    progress = Signal(int, int)  # bytes done, bytes in all (0, 0 when idle)
    added = Signal(int)  # messages stored by a live look
    caught_up = Signal(int)  # the first pass is done: messages stored
    indexing = Signal(str)  # how far behind the indexes a bulk load left are (core.store.indexer)
    problem = Signal(str)

    prepared = Signal(object)  # what `prepare` made (Changes), once it is there

    def __init__(self, store: Store, folders: list[Path], *, live_feed: bool = False,
                 feed_every_s: float = 3.0, feed_count: int = 6,
                 prepare: Callable[[], tuple[list[Path], Changes]] | None = None, parent=None) -> None:
        super().__init__(parent)
        self.store, self.folders, self.prepare = store, folders, prepare
        self.live_feed, self.feed_every_s, self.feed_count = live_feed, feed_every_s, feed_count

    def run(self) -> None:
        ingestor = None
        try:
            if self.prepare is not None:  # the demo makes its workspace here, behind a window that is already up
                self.folders, changes = self.prepare()
                self.prepared.emit(changes)
            ingestor = Ingestor(self.store, progress=_Bridge(self))
            summary = ingestor.ingest_paths(self.folders)
            ingestor.progress = Progress()  # live looks are small: the status bar shows their counts instead
            self.progress.emit(0, 0)
            self.caught_up.emit(summary.messages)
            index_behind(self.store, self.isInterruptionRequested, self.indexing.emit)
            watcher = FolderWatcher(ingestor, self.folders, settle_s=0.0, sweep_s=30.0)
            feed = LiveFeed(self.folders[0]) if self.live_feed else None
            while not self.isInterruptionRequested():
                if feed:
                    feed.append(self.feed_count)
                added = watcher.poll_once()
                if added:
                    self.added.emit(added)
                self._pause(self.feed_every_s if feed else 1.0)
        except Exception as exc:  # never takes the console down; the status bar says what stopped
            self.problem.emit(f"ingest stopped: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}")
        finally:
            if ingestor is not None:
                ingestor.close()

    def _pause(self, seconds: float) -> None:
        for _ in range(max(1, int(seconds * 10))):
            if self.isInterruptionRequested():
                return
            self.msleep(100)

    def stop(self) -> None:
        self.requestInterruption()
        self.wait(10_000)


class ListenThread(QThread):
    started_on = Signal(int)  # the port
    activity = Signal(int, int, object)  # received, answered, peers (list of "host:port")
    problem = Signal(str)

    def __init__(self, store: Store, host: str, port: int, ack_mode: str, parent=None) -> None:
        super().__init__(parent)
        self.store, self.host, self.port, self.ack_mode = store, host, port, ack_mode
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    def run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._serve())
        except OSError as exc:
            self.problem.emit(f"could not listen on {self.host}:{self.port}: {exc.strerror or exc}")
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        tap = Listener(self.store, self.host, self.port, ack_mode=self.ack_mode)
        self.port = await tap.start()  # the port asked for, or the one the system chose for 0
        self.started_on.emit(self.port)
        shown = None
        try:
            while not self._stop.is_set():
                now = (tap.stats.received, tap.stats.answered, sorted(tap.peers), len(tap.stats.problems))
                if now != shown:
                    shown = now
                    self.activity.emit(now[0], now[1], now[2])
                    if tap.stats.problems and now[3] != (shown[3] if shown else 0):
                        self.problem.emit(tap.stats.problems[-1])
                try:
                    await asyncio.wait_for(self._stop.wait(), 0.5)
                except TimeoutError:
                    pass
        finally:
            await tap.close()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self.isRunning():
            self._loop.call_soon_threadsafe(self._stop.set)
        self.wait(10_000)
