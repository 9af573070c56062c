"""Opening a store: SQLite (WAL) in the user data folder by default, or any URL.

`--db URL` or LANEWATCH_DB selects another store; a `postgresql://` URL is served by
psycopg 3. Every open brings the schema to the newest Alembic revision.

A store is made only when asked (`create`: the default store on first run, `--init`, the
demo); a database that is not a Lanewatch store, or one a newer Lanewatch wrote, is refused
untouched; a corrupt, unwritable or unreachable one is a `StoreError` that names the file
(or server), the cause and what to do. SQL parameters never appear in an error's text:
they are the messages' contents.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from platformdirs import user_data_path
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")
Tx = Connection  # an open transaction (Store.begin) or read (Store.read): what core hands to core.store's functions


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
    def file(self) -> Path | None:
        """An SQLite store's file; None for a server's store (or one in memory)."""
        path = self.engine.url.database if self.dialect == "sqlite" else None
        return Path(path).resolve() if path and path != ":memory:" else None

    @property
    def own_files(self) -> frozenset[Path]:
        """The files of an SQLite store (with its WAL), which ingest must never read."""
        base = self.file
        if base is None:
            return frozenset()
        return frozenset(Path(f"{base}{suffix}") for suffix in ("", "-wal", "-shm", "-journal"))

    def begin(self):
        """A transaction: committed when the block ends, rolled back when it raises."""
        return self.engine.begin()

    def read(self):
        """A connection for reading (its implicit transaction is rolled back at the end)."""
        return self.engine.connect()

    def close(self) -> None:
        self.engine.dispose()


class StoreError(Exception):
    """A store that cannot be used, in one line: what, where, and what to do. `creatable`:
    there is nothing there yet, so making a new store there is a way on."""

    def __init__(self, text: str, *, creatable: bool = False) -> None:
        super().__init__(text)
        self.creatable = creatable


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def migrate(engine: Engine) -> None:
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def open_store(url: str | None = None, *, upgrade: bool = True, create: bool = True) -> Store:
    """Open (and bring up to date) a store; `create=False` refuses to make a new one."""
    url = resolve_url(url)
    where = make_url(url).render_as_string(hide_password=True)
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:":
            where = path
            if not create and not Path(path).exists():
                raise StoreError(f"There is no Lanewatch store at {path}: check the path, or create one there with --init.",
                                 creatable=True)
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    try:
        _check(engine, where, create)
        if upgrade:
            migrate(engine)
    except StoreError:
        engine.dispose()
        raise
    except (SQLAlchemyError, OSError) as exc:
        engine.dispose()
        raise StoreError(_words(exc, where)) from None
    return Store(engine, sessionmaker(engine, expire_on_commit=False))


def store_unavailable(exc: BaseException) -> bool:
    """The store itself is the trouble (down, unreachable, locked), not what was being stored:
    such work waits and is tried again; it is never recorded as a fault of its data."""
    return isinstance(exc, OperationalError | InterfaceError | DisconnectionError | OSError)


def _check(engine: Engine, where: str, create: bool) -> None:
    """Refuse, untouched, a database that is not ours or that a newer Lanewatch wrote."""
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() \
            if "alembic_version" in tables else None
    if not tables:
        if not create:
            raise StoreError(f"{where} is empty, not a Lanewatch store: create one there with --init.", creatable=True)
        return
    if version is None or "messages" not in tables:
        shown = ", ".join(sorted(tables)[:4]) + ("…" if len(tables) > 4 else "")
        raise StoreError(f"{where} is a database, but not a Lanewatch store (its tables: {shown}); nothing was changed. "
                         "Point --db at a Lanewatch store, or at a new file with --init.")
    scripts = ScriptDirectory.from_config(_config())
    try:
        known = scripts.get_revision(version) is not None
    except Exception:  # noqa: BLE001 - alembic says "no such revision" in several ways
        known = False
    if not known:
        raise StoreError(f"{where} was written by a newer Lanewatch (schema {version}; this one knows up to "
                         f"{scripts.get_current_head()}): update Lanewatch, or open another store.")


def describe_store_error(exc: Exception, url: str | None = None) -> str:
    """A store that failed mid-work, as one line: where (no password) and why, without the
    statement or its parameters."""
    parsed = make_url(resolve_url(url))
    return _words(exc, parsed.database if parsed.drivername.startswith("sqlite") else parsed.render_as_string(hide_password=True))


def _words(exc: Exception, where: str) -> str:
    """A database error as one line a person can act on (no statement, no parameters)."""
    cause = str(getattr(exc, "orig", None) or exc).splitlines()[0] if str(exc) else type(exc).__name__
    low = cause.lower()
    if "file is not a database" in low or "malformed" in low or "corrupt" in low:
        return f"{where} is damaged or is not an SQLite database ({cause}): restore it from a backup, or open another store."
    if "readonly" in low or "read-only" in low or "permission denied" in low or "unable to open" in low:
        return f"Lanewatch cannot write to {where} ({cause}): check the file's and its folder's permissions, or open another store."
    if "connection" in low or "could not translate host" in low or "timeout" in low:
        return f"The store at {where} cannot be reached ({cause}): is the server running, and is the address right?"
    if "password" in low or "authentication" in low:
        return f"The store at {where} refused the sign-in ({cause}): check the user and the password in the keyring."
    return f"The store at {where} cannot be opened ({cause})."
