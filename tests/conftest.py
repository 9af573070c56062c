"""Test setup: offscreen Qt, and a store fixture that runs on SQLite and on PostgreSQL.

PostgreSQL tests use the server named by LANEWATCH_TEST_PG (.ci/run starts one). Without
it they skip on a developer's machine, and fail in CI (CI=true), where skipping would hide
that the shared store went untested.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# the user's own data, settings and logs (default store, a tap's spool, Settings → Store) are never touched by a test
for _folder in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CONFIG_DIRS"):
    os.environ[_folder] = tempfile.mkdtemp(prefix=f"lanewatch-test-{_folder.lower()}-")

from tests.helpers.stores import demo_store, settle_workers  # noqa: E402  (fixtures use them)

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"


def _postgres_url() -> str:
    url = os.environ.get("LANEWATCH_TEST_PG")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("LANEWATCH_TEST_PG is not set in CI: PostgreSQL tests must run there")
        pytest.skip("no PostgreSQL (set LANEWATCH_TEST_PG, or run .ci/run)")
    return url


@contextlib.contextmanager
def fresh_postgres_database():
    """A new, empty database on the test server, dropped afterwards; its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin = _postgres_url()
    name = "lw_" + uuid.uuid4().hex[:12]
    with psycopg.connect(admin.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path):
    """A fresh, empty store URL on each engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(autouse=True)
def own_settings(monkeypatch, tmp_path_factory):
    """Every test starts with no workstation settings (Settings → Store, the installer's file)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path_factory.mktemp("site-config")))


@pytest.fixture(autouse=True)
def memory_keyring():
    """Every test gets an empty in-memory keyring: the machine's own is never touched."""
    import keyring

    from core import secrets

    previous = keyring.get_keyring()
    yield secrets.use_memory()
    keyring.set_keyring(previous)


@pytest.fixture
def store(store_url):
    from core.store.db import open_store

    s = open_store(store_url)
    yield s
    settle_workers()
    s.close()


@pytest.fixture
def corpora() -> Path:
    """The shared third-party corpora beside the checkout (../shared/corpora). A fresh clone
    elsewhere has none: there these tests skip and say so; in CI (CI=true) they must run."""
    if not CORPORA.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the shared corpora are missing at {CORPORA}: CI must test against them")
        pytest.skip(f"no shared corpora at {CORPORA} (put the shared/ folder beside the checkout to run these)")
    return CORPORA


def _generated_store(tmp_path_factory, name: str, count: int):
    root = tmp_path_factory.mktemp(name)
    store = demo_store(f"sqlite:///{root / f'{name}.db'}", root, count)
    yield store
    settle_workers()
    store.close()


@pytest.fixture(scope="session")
def big_store(tmp_path_factory):
    """100,000 generated messages in SQLite, shared by the read-only UI tests."""
    yield from _generated_store(tmp_path_factory, "big", 100_000)


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    """3,000 generated messages in SQLite, fresh for each test module (its tests may change it)."""
    yield from _generated_store(tmp_path_factory, "small", 3000)


@pytest.fixture
def settings(tmp_path):
    """QSettings in a file of the test's own, never the person's."""
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1, made with the system's openssl."""
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=lanewatch-test",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return str(cert), str(key)


@pytest.fixture
def dovecot():
    """A real IMAP server (Debian's dovecot) on loopback, with one user (tests.helpers.dovecot)."""
    from tests.helpers import dovecot as server

    found, stop = server.start()
    yield found
    stop()


@pytest.fixture
def smtp_server(tmp_path):
    """A HISP's SMTP submission server on loopback (tests/helpers/smtp.py)."""
    from tests.helpers.smtp import SmtpServer

    server = SmtpServer(tmp_path).start()
    yield server
    server.stop()
