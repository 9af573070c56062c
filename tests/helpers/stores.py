"""Stores for tests and benchmarks: generated demo traffic, and closing them cleanly."""
from __future__ import annotations

import tempfile
from contextlib import contextmanager
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




@contextmanager
def server_database_with_password(admin_url: str):
    """An empty PostgreSQL database owned by a new role that signs in with a password (the
    server asks for one over TCP: .ci/postgres.sh): (host, port, database, role, password)."""
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(admin_url).set(drivername="postgresql")
    name, role, password = "lw_" + uuid.uuid4().hex[:12], "lw_" + uuid.uuid4().hex[:8], "pw-" + uuid.uuid4().hex
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        conn.execute(f'CREATE DATABASE "{name}" OWNER {role}')
    try:
        yield admin.host, admin.port, name, role, password
    finally:
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f"DROP ROLE IF EXISTS {role}")


def demo_queue_filled(folder: Path, newer_than: float = 0.0) -> bool:
    """Whether a demo window started with TMPDIR=folder has queued anything yet: its store
    (lanewatch-demo-*/demo.db), read from outside the process as it ingests."""
    import sqlite3

    for db in folder.glob("lanewatch-demo-*/demo.db"):
        if db.stat().st_mtime < newer_than:
            continue
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.5) as conn:
                if conn.execute("SELECT 1 FROM queue_items LIMIT 1").fetchone():
                    return True
        except sqlite3.Error:
            pass  # still being made, or locked for a moment
    return False


def schema_drift(conn) -> list:
    """How the store's schema differs from the models (empty: as the migrations make it). The
    full-text table is made by hand (FTS5 or trigram) and has no model, by design."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from core.store.models import Base

    diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    return [d for d in diff if not (d[0] == "remove_table" and d[1].name.startswith("message_text"))
            and not (d[0] == "remove_index" and d[1].table.name.startswith("message_text"))]
