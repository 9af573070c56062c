"""The migrations build exactly the tables the models describe, on both engines."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.store.models import Base


def test_migrated_schema_matches_the_models(store):
    with store.read() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # the full-text table is made by hand (FTS5 or trigram) and has no model, by design
    diff = [d for d in diff if not (d[0] == "remove_table" and d[1].name.startswith("message_text"))
            and not (d[0] == "remove_index" and d[1].table.name.startswith("message_text"))]
    assert diff == []
