"""Stores for tests and benchmarks: generated demo traffic, and closing them cleanly."""
from __future__ import annotations

import tempfile
from pathlib import Path


def settle_workers() -> None:
    """Let background queries (Qt's thread pool) finish before their store closes: a query
    still holding a connection to a disposed engine would leak it."""
    import sys

    if "PySide6.QtCore" in sys.modules:
        from PySide6.QtCore import QThreadPool

        QThreadPool.globalInstance().waitForDone(30_000)


def demo_store(url: str, root: Path, count: int, *, seed: int = 7):
    """A store holding `count` messages of generated demo traffic."""
    from datetime import datetime

    from core.demo import workspace
    from core.ingest import Ingestor
    from core.store.db import open_store

    now = datetime(2026, 11, 24, 12, 0)
    store = open_store(url)
    Ingestor(store, now=lambda: now).ingest_paths([workspace(root, count, seed=seed, now=now)])
    return store


def workdir_store(workdir: str | None, count: int, prefix: str):
    """A benchmark's store: the one in `workdir` if it holds one, else `count` generated messages
    in it (or in a new temporary folder)."""
    from core.store.db import open_store

    work = Path(workdir or tempfile.mkdtemp(prefix=prefix))
    db = work / "store.db"
    return open_store(f"sqlite:///{db}") if db.exists() else demo_store(f"sqlite:///{db}", work, count)


