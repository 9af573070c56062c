"""The migrations build exactly the tables the models describe, on both engines."""
from __future__ import annotations

from tests.helpers.stores import schema_drift


def test_migrated_schema_matches_the_models(store):
    with store.read() as conn:
        assert schema_drift(conn) == []


def test_the_schema_head_the_store_opens_without_alembic_is_the_newest_migration(tmp_path):
    from alembic.script import ScriptDirectory

    from core.store import db

    assert ScriptDirectory.from_config(db._config()).get_current_head() == db.SCHEMA_HEAD
    url = f"sqlite:///{tmp_path / 'a.db'}"
    db.open_store(url, create=True).close()
    store = db.open_store(url, create=False)  # at the head: opened as it is
    with store.read() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == db.SCHEMA_HEAD
    store.close()
