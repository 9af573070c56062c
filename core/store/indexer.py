"""Stage two of ingest (issue 21): what a bulk load leaves for later, caught up in bounded batches.

A bulk load (core.ingest, from BULK_BYTES to read) stores rows with only the
indexes stage one needs (resuming at a source's offset; pairing by control ID and by the
ACKs still waiting) and puts each message's text in message_text_pending rather than the
full-text index. `catch_up` then moves the text across in batches and builds the other
indexes with CREATE INDEX: one sort, about four times cheaper than keeping an index row by
row.

Nothing is ever unsearchable: without an index SQLite scans (slower, still complete), and a
text search asks the full-text index and the pending text both (core.store.messages).
Crash-safe by construction: a batch moves text in one transaction, so a message's text is
in exactly one of the two tables; an index exists or is made again. What is behind is read
from the store itself, so a kill at any moment leaves a store that is correct and catches
up the next time.

On PostgreSQL an index is built CONCURRENTLY, so a tap or another console writing
meanwhile never waits for it; a build killed half way leaves an index PostgreSQL marks
invalid and never uses, which counts as not built and is dropped and built again. Once
caught up the planner is told the tables' new sizes (ANALYZE), and the text index's pending
list is merged, so searches are as fast as after an unstaged load.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sqlalchemy import Index, delete, func, inspect, select, text
from sqlalchemy.schema import CreateIndex

from core.store.db import Store, Tx
from core.store.messages import index_text
from core.store.models import Message, PendingText

M, P = Message.__table__, PendingText.__table__
STAGE_ONE = frozenset({"ix_messages_source_offset", "ix_messages_control_id", "ix_messages_waiting_acks",
                       "ix_messages_event_time"})  # resuming, pairing, and the Messages tab's first page
BATCH = 20_000  # messages' text moved into the full-text index a transaction


def deferrable() -> list[Index]:
    """The message indexes a bulk load goes without, most used first (the Messages tab's time order)."""
    return sorted((i for i in M.indexes if i.name not in STAGE_ONE), key=lambda i: i.name != "ix_messages_event_time")


def _present(conn: Tx) -> set[str]:
    """The messages table's usable indexes (on PostgreSQL, not one a killed build left invalid)."""
    if conn.dialect.name == "postgresql":
        return set(conn.execute(text("SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                                     "WHERE i.indrelid = 'messages'::regclass AND i.indisvalid")).scalars())
    return {i["name"] for i in inspect(conn).get_indexes(M.name)}


def defer(conn: Tx) -> list[str]:
    """Drop the deferrable indexes that exist (a bulk load is about to start); their names."""
    present = _present(conn)
    dropped = [i for i in deferrable() if i.name in present]
    for index in dropped:
        index.drop(conn)
    return [i.name for i in dropped]


@dataclass
class Behind:
    text: int = 0  # messages whose text is not in the full-text index yet
    indexes: list[str] = field(default_factory=list)  # indexes not built yet

    @property
    def caught_up(self) -> bool:
        return not self.text and not self.indexes

    def words(self) -> str:
        if self.caught_up:
            return "indexes up to date"
        parts = ([f"{self.text:,} messages' text to index"] if self.text else []) + (
            [f"{len(self.indexes)} of {len(deferrable())} indexes to build"] if self.indexes else [])
        return "indexing: " + ", ".join(parts) + " (searches are complete meanwhile, and slower)"


def behind(conn: Tx) -> Behind:
    present = _present(conn)
    return Behind(conn.execute(select(func.count()).select_from(P)).scalar_one(),
                  [i.name for i in deferrable() if i.name not in present])


def catch_up(store: Store, *, batch: int = BATCH, stopped: Callable[[], bool] = lambda: False,
             told: Callable[[Behind], None] | None = None) -> Behind:
    """Index what a bulk load left, text first (searches wait on it most), then each index in
    a transaction of its own; `told` hears what is left after each step (counted once, then
    kept by what each step did), and what is still behind is returned (nothing, unless stopped)."""
    with store.read() as conn:
        left = behind(conn)

    def tell() -> None:
        if told:
            told(replace(left, indexes=list(left.indexes)))  # as it stands now, not as it will be

    while left.text and not stopped():
        with store.begin() as conn:
            rows = conn.execute(select(P.c.message_id, P.c.body).order_by(P.c.message_id).limit(batch)).all()
            if not rows:
                break
            index_text(conn, [{"id": r.message_id, "text": r.body} for r in rows])
            conn.execute(delete(P).where(P.c.message_id <= rows[-1].message_id))  # exactly these: the lowest ids
        left.text = max(0, left.text - len(rows))
        tell()
    for name in list(left.indexes):
        if stopped():
            break
        _build(store, next(i for i in deferrable() if i.name == name))
        left.indexes.remove(name)
        tell()
    if store.dialect == "postgresql" and not stopped():
        _settle(store)
    with store.read() as conn:
        return behind(conn)


def _build(store: Store, index: Index) -> None:
    """Build an index unless another console built it meanwhile; on PostgreSQL CONCURRENTLY
    (outside a transaction), first dropping what a killed build left invalid."""
    if store.dialect != "postgresql":
        with store.begin() as conn:
            if index.name not in _present(conn):
                index.create(conn)
        return
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if index.name in _present(conn):
            return
        conn.exec_driver_sql(f'DROP INDEX CONCURRENTLY IF EXISTS "{index.name}"')
        create = str(CreateIndex(index).compile(dialect=conn.dialect))
        conn.exec_driver_sql(create.replace("CREATE INDEX", "CREATE INDEX CONCURRENTLY", 1))


def _settle(store: Store) -> None:
    """PostgreSQL after a bulk load: the planner's statistics, and the text index's pending list merged."""
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE messages")
        conn.exec_driver_sql("ANALYZE message_text")
        conn.exec_driver_sql("SELECT gin_clean_pending_list(indexrelid) FROM pg_index i JOIN pg_class c "
                             "ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
                             "WHERE i.indrelid = 'message_text'::regclass AND a.amname = 'gin'")
