"""Alembic environment: migrations run on the connection core.store.db hands over."""
from alembic import context

from core.store.models import Base

HAND_MADE = {"message_text"}  # the full-text table (and FTS5's shadow tables): not in the models


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Keep autogenerate from proposing to drop what migrations made by hand."""
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
    return not any(table == t or table.startswith(t + "_") for t in HAND_MADE)


connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
