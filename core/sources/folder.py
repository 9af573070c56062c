"""Tailing interface log folders: new, appended, rotated and renamed files.

Polling (not inotify) so it works the same on network shares, which is where engines
often write their logs. A file's last message is taken only once the file has been
still for `settle_s`: until then it may be half written.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

from core.ingest import Ingestor


class FolderWatcher:
    def __init__(self, ingestor: Ingestor, folders: list[Path], *, poll_s: float = 1.0, settle_s: float = 2.0,
                 sweep_s: float = 30.0) -> None:
        self.ingestor = ingestor
        self.folders = folders
        self.poll_s, self.settle_s, self.sweep_s = poll_s, settle_s, sweep_s
        self._sizes: dict[Path, tuple[int, float]] = {}  # size and when it last changed
        self._last_sweep = 0.0

    def poll_once(self) -> int:
        """One look at every file; returns messages added."""
        added = 0
        now = time.monotonic()
        for found in self.ingestor.files(self.folders):
            path = found.path
            try:
                size = path.stat().st_size
            except OSError:
                continue  # gone between the listing and the look
            seen = self._sizes.get(path)
            if seen is None or seen[0] != size:
                self._sizes[path] = (size, now)
            still = now - self._sizes[path][1] >= self.settle_s
            added += self.ingestor.ingest_file(found, final=still)
        if now - self._last_sweep >= self.sweep_s:
            self._last_sweep = now
            self.ingestor.sweep()
        return added

    def run(self, stop: threading.Event | None = None) -> None:
        stop = stop or threading.Event()
        try:
            while not stop.is_set():
                self.poll_once()
                stop.wait(self.poll_s)
        finally:
            self.ingestor.close()
