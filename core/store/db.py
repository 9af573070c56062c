"""Opening a store: SQLite (WAL) in the user data folder by default, or any URL.

`--db URL` or LANEWATCH_DB selects another store; a `postgresql://` URL is served by
psycopg 3. Every open brings the schema to the newest Alembic revision.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from platformdirs import user_data_path
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


def data_folder() -> Path:
    """The user's Lanewatch data folder (platformdirs): the default store, a tap's journal."""
    return user_data_path("lanewatch", appauthor=False, ensure_exists=True)


def default_url() -> str:
    return f"sqlite:///{data_folder() / 'lanewatch.db'}"


def resolve_url(url: str | None = None) -> str:
    """The store to use: the given URL, else LANEWATCH_DB, else the default SQLite file."""
    url = url or os.environ.get("LANEWATCH_DB") or default_url()
    if "://" not in url:  # a plain path means a SQLite file
        url = f"sqlite:///{Path(url).expanduser().resolve()}"
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()


@dataclass
class Store:
    """An open store: its engine, a session factory and where it lives (for the status bar)."""

    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def location(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def own_files(self) -> frozenset[Path]:
        """The files of an SQLite store (with its WAL), which ingest must never read."""
        path = self.engine.url.database if self.dialect == "sqlite" else None
        if not path or path == ":memory:":
            return frozenset()
        base = Path(path).resolve()
        return frozenset(Path(f"{base}{suffix}") for suffix in ("", "-wal", "-shm", "-journal"))

    def close(self) -> None:
        self.engine.dispose()


def migrate(engine: Engine) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def open_store(url: str | None = None, *, upgrade: bool = True) -> Store:
    url = resolve_url(url)
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    if upgrade:
        migrate(engine)
    return Store(engine, sessionmaker(engine, expire_on_commit=False))
