"""Where this workstation keeps things, the store it opens, its log and its version."""
from __future__ import annotations

import json
import logging
import re
import sys

import pytest

from core import logs, version, workstation
from core.store import db


def test_the_store_setting_is_kept_in_an_ini_file_over_a_site_wide_one(tmp_path, monkeypatch):
    assert workstation.store_url() is None
    site = tmp_path / "etc"
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(site))
    (site / "lanewatch").mkdir(parents=True)
    (site / "lanewatch" / "lanewatch.ini").write_text("[store]\nurl = postgresql://ops@db.site:5432/lanewatch\n")
    assert workstation.store_url() == "postgresql://ops@db.site:5432/lanewatch"  # an administrator's, for every user
    workstation.set_store_url("postgresql://me@db.mine:5432/lw")
    assert workstation.store_url() == "postgresql://me@db.mine:5432/lw"  # the user's own wins
    assert "[store]" in workstation.settings_file().read_text()
    workstation.set_store_url(None)
    assert workstation.store_url() == "postgresql://ops@db.site:5432/lanewatch"


def test_a_damaged_settings_file_means_the_defaults_and_is_written_anew(tmp_path):
    path = workstation.settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xfe[store\nurl")
    assert workstation.store_url() is None
    workstation.set_store_url(str(tmp_path / "a.db"))
    assert workstation.store_url() == str(tmp_path / "a.db")


def test_the_named_store_comes_from_the_option_then_the_environment_then_the_setting(tmp_path, monkeypatch):
    monkeypatch.delenv("LANEWATCH_DB", raising=False)
    assert db.first_run() and db.named_url() is None
    workstation.set_store_url(str(tmp_path / "set.db"))
    assert db.named_url() == str(tmp_path / "set.db") and not db.first_run()
    monkeypatch.setenv("LANEWATCH_DB", str(tmp_path / "env.db"))
    assert db.named_url() == str(tmp_path / "env.db")
    assert db.named_url(str(tmp_path / "opt.db")) == str(tmp_path / "opt.db")
    assert db.resolve_url() == f"sqlite:///{tmp_path / 'env.db'}"


def test_a_server_store_takes_its_password_from_the_keyring_and_never_shows_it():
    from core import secrets

    url = db.server_url("db.practice.example", 5432, "lanewatch", "ops")
    assert url == "postgresql://ops@db.practice.example:5432/lanewatch"
    assert db._with_password(db.resolve_url(url)) == db.resolve_url(url)  # nothing kept: as it is (trust, .pgpass)
    secrets.put(db.password_owner(url), db.PASSWORD, "s3cret-pw")
    assert "s3cret-pw" in db._with_password(db.resolve_url(url))
    assert db.place(url) == db.Place(True, None, "db.practice.example", 5432, "lanewatch", "ops")
    assert "s3cret-pw" not in db.password_owner(url)


@pytest.mark.postgres
def test_a_shared_store_opens_with_the_password_from_the_keyring():
    """A real PostgreSQL server and a role with a password: the URL kept in the settings has none."""
    from core import secrets
    from tests.conftest import _postgres_url
    from tests.helpers.stores import server_database_with_password

    with server_database_with_password(_postgres_url()) as (host, port, name, role, password):
        url = db.server_url(host, port, name, role)
        workstation.set_store_url(url)
        with pytest.raises(db.StoreError, match="refused the sign-in.*password in the keyring"):
            db.open_store(create=True)  # the server asks for a password and none is kept yet
        secrets.put(db.password_owner(url), db.PASSWORD, password)
        store = db.open_store(create=True)  # no URL given: the workstation's setting
        try:
            assert store.dialect == "postgresql" and role in store.location and password not in store.location
        finally:
            store.close()
        assert password not in workstation.settings_file().read_text()


def test_the_log_goes_to_a_rotating_file_and_never_holds_an_exceptions_text(tmp_path):
    from logging.handlers import RotatingFileHandler

    root = logging.getLogger()
    before = list(root.handlers)
    for h in before:  # an earlier test's command line started the session's log: this test starts its own
        if isinstance(h, RotatingFileHandler):
            root.removeHandler(h)
    try:
        path = logs.start(tmp_path / "log")
        assert path == tmp_path / "log" / "lanewatch.log"
        try:
            raise ValueError("PID|1||123456^^^MRN||DOE^JANE")
        except ValueError:
            logging.getLogger("lanewatch.test").warning("parsing failed", exc_info=True)
        logging.getLogger("httpx2").info('HTTP Request: GET https://ehr/fhir/Patient?family=DOE "HTTP/1.1 200 OK"')
        for h in root.handlers:
            h.flush()
        text = path.read_text(encoding="utf-8")
        assert "parsing failed" in text and "ValueError (text withheld)" in text and "test_workstation.py" in text
        assert "DOE" not in text and "123456" not in text
        handler = next(h for h in root.handlers if getattr(h, "baseFilename", None) == str(path))
        assert handler.maxBytes == 1_000_000 and handler.backupCount == 5
    finally:
        for h in root.handlers[:]:
            if h not in before:
                root.removeHandler(h)
                h.close()
        for h in before:
            if h not in root.handlers:
                root.addHandler(h)


def test_the_version_names_the_commit_from_a_checkout_and_from_a_bundle(tmp_path, monkeypatch):
    version.build.cache_clear()
    here = version.build()
    assert not here.frozen and here.version == version.package_version()
    assert here.commit is None or re.fullmatch(r"[0-9a-f]{12}(\+changes)?", here.commit)
    (tmp_path / "build_info.json").write_text(json.dumps({"version": "9.8.7", "commit": "0123456789ab"}))
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    version.build.cache_clear()
    try:
        assert version.build().line() == "Lanewatch 9.8.7 (commit 0123456789ab), bundle"
    finally:
        monkeypatch.undo()
        version.build.cache_clear()
    assert version.git_commit(tmp_path) is None  # not a checkout


def test_version_on_the_command_line(capsys):
    from ui.cli import main as cli

    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("Lanewatch ")
