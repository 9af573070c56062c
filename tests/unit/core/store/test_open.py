"""Stores that are not ours, damaged, newer, missing or unreachable: one line that names the
file, the cause and the remedy; nothing changed; never a traceback."""
from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from core.store.db import StoreError, open_store
from core.store.models import Source
from ui.cli import main as cli
from ui.cli.output import ExitCode


def test_a_foreign_database_is_refused_untouched(tmp_path):
    path = tmp_path / "billing.db"
    with sqlite3.connect(path) as c:
        c.execute("CREATE TABLE patients (id, name)")
    with pytest.raises(StoreError, match="not a Lanewatch store .*patients.*nothing was changed"):
        open_store(f"sqlite:///{path}")
    with sqlite3.connect(path) as c:
        assert c.execute("SELECT name FROM sqlite_master").fetchall() == [("patients",)]


def test_a_damaged_file_says_so(tmp_path):
    path = tmp_path / "store.db"
    path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 16)
    with pytest.raises(StoreError, match=f"{path} is damaged .*restore it from a backup"):
        open_store(f"sqlite:///{path}")


def test_a_store_a_newer_lanewatch_wrote_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    open_store(url).close()
    with sqlite3.connect(tmp_path / "store.db") as c:
        c.execute("UPDATE alembic_version SET version_num = '0999'")
    with pytest.raises(StoreError, match="written by a newer Lanewatch .*0999.*update Lanewatch"):
        open_store(url)


def test_a_store_is_made_only_when_asked(tmp_path):
    with pytest.raises(StoreError, match="There is no Lanewatch store at .*--init"):
        open_store(f"sqlite:///{tmp_path / 'typo.db'}", create=False)
    assert not (tmp_path / "typo.db").exists()


def test_a_folder_given_as_the_store_cannot_be_written(tmp_path):
    with pytest.raises(StoreError, match="cannot write to|cannot be opened"):
        open_store(f"sqlite:///{tmp_path}")


def test_the_cli_says_one_line_and_exits_non_zero(tmp_path, capsys):
    foreign = tmp_path / "other.db"
    with sqlite3.connect(foreign) as c:
        c.execute("CREATE TABLE t (x)")
    for db in (str(foreign), str(tmp_path / "missing.db"), "postgresql://nobody@127.0.0.1:1/none"):
        assert cli.main(["--db", db, "messages"]) == ExitCode.STORE
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("lanewatch messages: ") and "Traceback" not in err
    assert not (tmp_path / "missing.db").exists()  # a read never creates a store
    assert cli.main(["--db", str(tmp_path / "missing.db"), "--init", "messages"]) == 0


def test_database_errors_never_carry_the_rows_values(store):
    row = {"id": 7, "path": "DOE^JANE MRN123", "first_seen": datetime(2026, 1, 1), "last_seen": datetime(2026, 1, 1)}
    with store.begin() as conn:
        conn.execute(insert(Source), row)
    with pytest.raises(IntegrityError) as caught, store.begin() as conn:
        conn.execute(insert(Source), row)
    assert "MRN123" not in str(caught.value) and "DOE" not in str(caught.value)
