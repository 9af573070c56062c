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

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core import secrets, workstation
from core.workstation import data_folder

MIGRATIONS = Path(__file__).with_name("migrations")
Tx = Connection  # an open transaction (Store.begin) or read (Store.read): what core hands to core.store's functions


# the newest migration: a store already there opens without loading Alembic at all (a faster
# start); tests/unit/store/test_migrations.py checks it against the migrations themselves
SCHEMA_HEAD = "0021"
PASSWORD = "store_password"  # the kind of secret a server store's password is kept as


def default_file() -> Path:
    """This workstation's own store: an SQLite file in the data folder."""
    return data_folder() / "lanewatch.db"


def default_url() -> str:
    return f"sqlite:///{default_file()}"


def named_url(url: str | None = None) -> str | None:
    """The store asked for: the given URL, else LANEWATCH_DB, else this workstation's setting."""
    return url or os.environ.get("LANEWATCH_DB") or workstation.store_url()


def first_run(url: str | None = None) -> bool:
    """No store is named and the default one is not made yet: the welcome page's moment."""
    return named_url(url) is None and not default_file().exists()


@dataclass(frozen=True)
class Place:
    """Where a store lives, taken apart for a form: a file, or a server's database."""

    server: bool
    path: Path | None = None
    host: str = ""
    port: int | None = None
    database: str = ""
    user: str = ""

    @property
    def is_default(self) -> bool:
        return not self.server and self.path == default_file()


def place(url: str | None = None) -> Place:
    parsed = make_url(resolve_url(url))
    if parsed.drivername.startswith("sqlite"):
        return Place(False, Path(parsed.database).resolve() if parsed.database and parsed.database != ":memory:" else None)
    return Place(True, None, parsed.host or "", parsed.port, parsed.database or "", parsed.username or "")


def server_url(host: str, port: int, database: str, user: str) -> str:
    """A PostgreSQL store's URL without its password (that is kept in the keyring)."""
    return make_url("postgresql://").set(host=host, port=port, database=database,
                                         username=user or None).render_as_string(hide_password=True)


def password_owner(url: str) -> str:
    """How a server store's password is named in the keyring: the URL without one."""
    return "store " + make_url(resolve_url(url)).set(password=None).render_as_string(hide_password=True)


def resolve_url(url: str | None = None) -> str:
    """The store to use: the named one (named_url), else the default SQLite file."""
    url = named_url(url) or default_url()
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


def _config():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def migrate(engine: Engine) -> None:
    from alembic import command

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
        engine = create_engine(_with_password(url), pool_pre_ping=True, hide_parameters=True)
    try:
        if _check(engine, where, create) != SCHEMA_HEAD and upgrade:
            migrate(engine)
    except StoreError:
        engine.dispose()
        raise
    except (SQLAlchemyError, OSError) as exc:
        engine.dispose()
        raise StoreError(_words(exc, where)) from None
    return Store(engine, sessionmaker(engine, expire_on_commit=False))


def _with_password(url: str) -> str:
    """A server URL with its password from the keyring, when it names a user and no password
    (the URL itself, as settings and the status bar show it, never carries one)."""
    parsed = make_url(url)
    if parsed.password or not parsed.username:
        return url
    try:
        password = secrets.get(password_owner(url), PASSWORD)
    except secrets.SecretStoreError:
        password = None  # the server may not need one (trust, peer, .pgpass)
    return parsed.set(password=password).render_as_string(hide_password=False) if password else url


def store_unavailable(exc: BaseException) -> bool:
    """The store itself is the trouble (down, unreachable, locked), not what was being stored:
    such work waits and is tried again; it is never recorded as a fault of its data."""
    return isinstance(exc, OperationalError | InterfaceError | DisconnectionError | OSError)


def _check(engine: Engine, where: str, create: bool) -> str | None:
    """Refuse, untouched, a database that is not ours or that a newer Lanewatch wrote; else
    the schema revision it is at (None: empty)."""
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() \
            if "alembic_version" in tables else None
    if not tables:
        if not create:
            raise StoreError(f"{where} is empty, not a Lanewatch store: create one there with --init.", creatable=True)
        return None
    if version is None or "messages" not in tables:
        shown = ", ".join(sorted(tables)[:4]) + ("…" if len(tables) > 4 else "")
        raise StoreError(f"{where} is a database, but not a Lanewatch store (its tables: {shown}); nothing was changed. "
                         "Point --db at a Lanewatch store, or at a new file with --init.")
    if version == SCHEMA_HEAD:
        return version
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_config())
    try:
        known = scripts.get_revision(version) is not None
    except Exception:  # noqa: BLE001 - alembic says "no such revision" in several ways
        known = False
    if not known:
        raise StoreError(f"{where} was written by a newer Lanewatch (schema {version}; this one knows up to "
                         f"{scripts.get_current_head()}): update Lanewatch, or open another store.")
    return version


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
    if "password" in low or "authentication" in low:
        return f"The store at {where} refused the sign-in ({cause}): check the user and the password in the keyring (Settings → Store)."
    if "connection" in low or "could not translate host" in low or "timeout" in low:
        return f"The store at {where} cannot be reached ({cause}): is the server running, and is the address right?"
    return f"The store at {where} cannot be opened ({cause})."
