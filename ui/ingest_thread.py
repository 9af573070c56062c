"""The console's single writer: ingests in the background and reports on the GUI thread.

In a demo workspace it first ingests the generated logs, then keeps a live feed going:
a few messages appended to the lane logs every few seconds and tailed like any folder.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QThread, Signal

from core.demo import LiveFeed
from core.ingest import Ingestor
from core.progress import Progress
from core.sources.folder import FolderWatcher
from core.store.db import Store


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


class IngestThread(QThread):
    progress = Signal(int, int)  # bytes done, bytes in all (0, 0 when idle)
    added = Signal(int)  # messages stored by a live look
    caught_up = Signal(int)  # the first pass is done: messages stored
    problem = Signal(str)

    def __init__(self, store: Store, folders: list[Path], *, live_feed: bool = False,
                 feed_every_s: float = 3.0, feed_count: int = 6, parent=None) -> None:
        super().__init__(parent)
        self.store, self.folders = store, folders
        self.live_feed, self.feed_every_s, self.feed_count = live_feed, feed_every_s, feed_count

    def run(self) -> None:
        ingestor = None
        try:
            ingestor = Ingestor(self.store, progress=_Bridge(self))
            summary = ingestor.ingest_paths(self.folders)
            ingestor.progress = Progress()  # live looks are small: the status bar shows their counts instead
            self.progress.emit(0, 0)
            self.caught_up.emit(summary.messages)
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
