"""Messages: the one way they are stored, and every way they are read.

`store_messages` is the only writer of the messages table: file ingest, the listener,
corrections and resend answers all hand it rows (core.message_rows builds them from bytes)
and see at the call what it did (pairing, items queued). Reads page by key, never load
raw bytes into a list, and search the full-text index.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import Integer, Select, and_, bindparam, column, func, or_, select, text, tuple_, update

from core.store import engines, queue
from core.store.bulk import insert_many
from core.store.db import Store, Tx
from core.store.models import AuditEntry, Interface, Message, PendingText, Source
from core.store.pairing import Pairing
from core.vocabulary import AuditAction

M, S, P = Message.__table__, Source.__table__, PendingText.__table__
COLUMNS = [c.name for c in M.columns]  # every row handed to store_messages carries them all
# columns a list shows; raw bytes stay out of list queries
LIST_COLUMNS = [c for c in M.columns if c.name not in ("raw", "errors")]
# what reading the bytes of many needs (statistics, exports, comparing sets): the fewer, the faster
LEAN_COLUMNS = [M.c.id, M.c.event_time, M.c.parse_state, M.c.charset, M.c.raw]


@dataclass
class Stored:
    """What storing a batch did: the rows as stored (with their ids), and the queue items raised."""

    rows: list[dict] = field(default_factory=list)
    queued: int = 0
    passed: Counter = field(default_factory=Counter)  # FHIR exchanges to no known endpoint, by host (not stored)

    @property
    def ids(self) -> list[int]:
        return [r["id"] for r in self.rows]


def store_messages(conn: Tx, rows: list[dict], pairing: Pairing, *, defer_text: bool = False) -> Stored:
    """Store rows (core.message_rows, stamped with where and when) in the caller's transaction:
    ids are taken, pairing fills each row's interface and ACK state and updates the older
    messages it settles, then the rows, their text and their queue items go in together.
    `defer_text` (a bulk load) leaves the text for core.store.indexer to index."""
    if not rows:
        return Stored()
    pairing.prepare(conn, rows)
    ids = _allocate_ids(conn, len(rows))
    for row, new_id in zip(rows, ids):
        row["id"] = new_id
    items = pairing.correlate(conn, rows)
    insert_many(conn, M, rows, COLUMNS)
    if defer_text:
        insert_many(conn, P, [{"message_id": r["id"], "body": r["text"].replace("\x00", "")} for r in rows],
                    ["message_id", "body"])
    else:
        index_text(conn, rows)
    return Stored(rows, queue.add(conn, items))


def _allocate_ids(conn: Tx, n: int) -> list[int]:
    """Ids for n new messages, taken before the insert so it can be one executemany."""
    if conn.dialect.name == "postgresql":
        return list(conn.execute(text("SELECT nextval(pg_get_serial_sequence('messages', 'id')) "
                                      "FROM generate_series(1, :n)"), {"n": n}).scalars())
    # SQLite: a write first takes the database's single write lock, so the largest id
    # read next cannot be taken by another writer before this transaction commits
    conn.execute(update(S).where(S.c.id == -1).values(offset=0))
    top = conn.execute(text("SELECT coalesce(max(id), 0) FROM messages")).scalar_one()
    return list(range(top + 1, top + 1 + n))


def add_text(conn: Tx, rows: list[dict]) -> None:
    """More text for stored messages (a sealed mail, once opened: what it carries). SQLite's
    contentless FTS5 cannot forget a row's words without being told them exactly, so the
    words it had (the envelope's headers, the opened mail's too) stay beside the new ones;
    PostgreSQL's row is replaced."""
    if conn.dialect.name != "sqlite":
        conn.execute(text("DELETE FROM message_text WHERE message_id IN :ids").bindparams(bindparam("ids", expanding=True)),
                     {"ids": [r["id"] for r in rows]})
    conn.execute(P.delete().where(P.c.message_id.in_([r["id"] for r in rows])))  # a bulk load's, not indexed yet
    index_text(conn, rows)


def index_text(conn: Tx, rows: list[dict]) -> None:
    """The rows' text into the full-text table (FTS5 on SQLite; trigram-indexed on PostgreSQL)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("INSERT INTO message_text(rowid, body) VALUES (?, ?)", [(r["id"], r["text"]) for r in rows])
    else:
        conn.exec_driver_sql("INSERT INTO message_text (message_id, body) VALUES (%s, %s)",
                             [(r["id"], r["text"].replace("\x00", "")) for r in rows])


def lineage(conn: Tx, message_id: int) -> list[int]:
    """Every version of a message, oldest first: the original and its corrections."""
    root = message_id
    while (parent := conn.execute(select(M.c.parent_id).where(M.c.id == root)).scalar()) is not None:
        root = parent
    out, frontier = [root], [root]
    while frontier:
        frontier = list(conn.execute(select(M.c.id).where(M.c.parent_id.in_(frontier)).order_by(M.c.id)).scalars())
        out += frontier
    return out


def versions(store: Store, message_id: int) -> list[int]:
    """`lineage`, in a read of its own."""
    with store.read() as conn:
        return lineage(conn, message_id)


def row(conn: Tx, message_id: int, *columns: str):
    """Some columns of one message (all when none are named), or None."""
    return conn.execute(select(*([M.c[c] for c in columns] or [M])).where(M.c.id == message_id)).first()


def rows(conn: Tx, message_ids, *columns: str) -> list:
    return conn.execute(select(*(M.c[c] for c in columns)).where(M.c.id.in_(message_ids))).all()


def set_values(conn: Tx, message_id: int, **values) -> None:
    conn.execute(update(M).where(M.c.id == message_id).values(**values))


def lock(conn: Tx, message_ids) -> None:
    """Hold these messages' rows for this transaction: one resend of a message at a time, across consoles."""
    conn.execute(select(M.c.id).where(M.c.id.in_(message_ids)).with_for_update()).all()


@dataclass
class MessageFilter:
    types: list[str] | None = None  # "ORU^R01" or "ORU" (any trigger)
    parse_states: list[str] | None = None
    ack_states: list[str] | None = None
    sender: str | None = None  # sending app, or app^facility
    receiver: str | None = None
    control_id: str | None = None
    patient_id: str | None = None
    interface_id: int | None = None
    lane: str | None = None  # the lane of the message's interface (core.vocabulary.Lane): hl7v2, direct...
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None
    ids: list[int] | None = None  # these messages only (the console's selection, `export --id`)
    acks: bool | None = None  # True: only ACKs; False: no ACKs; None: both
    # an engine's keys (core.store.engines): its message id, channel (name or UUID), connector, server
    engine_message_id: int | None = None
    channel: str | None = None
    connector: str | None = None
    server_id: str | None = None
    # a test no SQL can ask (a field-path query, core.hl7.query): each candidate is asked it, with its raw bytes
    test: Callable[[dict], bool] | None = None

    def where(self, dialect: str) -> list:
        w = []
        if self.types:
            w.append(or_(*(M.c.message_type == t if "^" in t else M.c.message_type.like(t + "^%") for t in self.types)))
        if self.parse_states:
            w.append(M.c.parse_state.in_(self.parse_states))
        if self.ack_states:
            w.append(M.c.ack_state.in_(self.ack_states))
        for value, app, fac in ((self.sender, M.c.sending_app, M.c.sending_facility),
                                (self.receiver, M.c.receiving_app, M.c.receiving_facility)):
            if value:
                a, _, f = value.partition("^")
                w.append(and_(app == a, fac == f) if f else app == a)
        if self.ids is not None:
            w.append(M.c.id.in_(self.ids))
        if self.control_id:
            w.append(M.c.control_id == self.control_id)
        if self.patient_id:
            w.append(M.c.patient_id == self.patient_id)
        if self.interface_id is not None:
            w.append(M.c.interface_id == self.interface_id)
        if self.lane:
            w.append(M.c.interface_id.in_(select(Interface.id).where(Interface.lane == self.lane)))
        if self.since:
            w.append(M.c.event_time >= self.since)
        if self.until:
            w.append(M.c.event_time < self.until)
        if self.acks is not None:
            w.append(M.c.is_ack.is_(self.acks))
        if any(v is not None for v in (self.engine_message_id, self.channel, self.connector, self.server_id)):
            w.append(M.c.id.in_(engines.search_ids(engine_message_id=self.engine_message_id, channel=self.channel,
                                                   connector=self.connector, server_id=self.server_id)))
        if self.text and self.text.strip():
            w.append(M.c.id.in_(full_text_ids(self.text, dialect)))
        return w


def _fts_match(query: str) -> str:
    """Every word quoted, so punctuation in a control ID or a name is taken literally."""
    return " ".join('"' + w.replace('"', '""') + '"' for w in query.split())


def full_text_ids(query: str, dialect: str):
    """A subquery of message ids whose text holds every word of the query: in the full-text
    index, or in the text a bulk load left for the indexer (each word as a substring there,
    the way PostgreSQL's trigram search reads it)."""
    pending, params = _pending_where(query, dialect)
    if dialect == "sqlite":
        return (text(f"SELECT rowid FROM message_text WHERE message_text MATCH :match "
                     f"UNION ALL SELECT message_id FROM message_text_pending WHERE {pending}")
                .bindparams(match=_fts_match(query), **params).columns(column("rowid", Integer)))
    return (text(f"SELECT message_id FROM message_text WHERE {pending} "
                 f"UNION ALL SELECT message_id FROM message_text_pending WHERE {pending}")
            .bindparams(**params).columns(column("message_id", Integer)))


def _pending_where(query: str, dialect: str) -> tuple[str, dict]:
    """Every word of the query as a substring of `body`, in any case (SQLite's LIKE ignores
    ASCII case; PostgreSQL's ILIKE, which its trigram index serves)."""
    words = query.split()
    like = "LIKE" if dialect == "sqlite" else "ILIKE"
    escape = " ESCAPE '\\'" if dialect == "sqlite" else ""
    conds = " AND ".join(f"body {like} :w{i}{escape}" for i in range(len(words)))
    params = {f"w{i}": "%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for i, w in enumerate(words)}
    return conds, params


Key = tuple[datetime, int]  # (event_time, id): where a page ends


CANDIDATES = 2000  # messages a filter's test is asked of at a time


def page(store: Store, flt: MessageFilter, *, after: Key | None = None, limit: int = 500,
         newest_first: bool = True, lean: bool = False, stopped: Callable[[], bool] | None = None,
         told: Callable[[int], None] | None = None) -> list[dict]:
    """One page of messages in time order, after the key the previous page ended at: the
    columns a list shows, or with `lean` the bytes and what reading them needs (LEAN_COLUMNS).
    With a test, candidates are read a batch at a time until the page is full: `told(read)`
    hears how many so far, and `stopped()` true ends the search with what it found (a query
    no longer wanted)."""
    if flt.test is None:
        return _page(store, flt, after, limit, newest_first, lean=lean)
    found: list[dict] = []
    read = 0
    while len(found) < limit and not (stopped and stopped()):
        candidates = _page(store, flt, after, CANDIDATES, newest_first, raw=True, lean=lean)
        read += len(candidates)
        if told:
            told(read)
        for r in candidates:
            if flt.test(r):
                if not lean:
                    del r["raw"]
                found.append(r)
        if len(candidates) < CANDIDATES:
            break
        after = (candidates[-1]["event_time"], candidates[-1]["id"])
    return found[:limit]


def _page(store: Store, flt: MessageFilter, after: Key | None, limit: int, newest_first: bool,
          raw: bool = False, lean: bool = False) -> list[dict]:
    stmt: Select = (select(*LEAN_COLUMNS) if lean else
                    select(*LIST_COLUMNS, *([M.c.raw] if raw else []), S.c.path.label("source")).join(S, S.c.id == M.c.source_id))
    key = tuple_(M.c.event_time, M.c.id)
    if after is not None:
        stmt = stmt.where(key < tuple_(*after) if newest_first else key > tuple_(*after))
    order = (M.c.event_time.desc(), M.c.id.desc()) if newest_first else (M.c.event_time, M.c.id)
    with store.read() as conn:
        stmt = stmt.where(*_page_where(conn, flt, store.dialect))
        return [r._asdict() for r in conn.execute(stmt.order_by(*order).limit(limit))]


RARE = 5000  # fewer matches than this: fetch them and sort
DENSE = 20  # one message in this many matching, or more: ask FTS5 of each message down the time index


def _page_where(conn, flt: MessageFilter, dialect: str) -> list:
    """The filter for a time-ordered page with free text on SQLite, planned by how many match.

    A rare word: fetch its few matches and sort them. A common word (one message in DENSE or
    more): walk down the time index and ask FTS5 of each message (a rowid lookup) until the
    page is full. In between: the matches as a set, tested on the walk. Counting matches up to
    the limit that decides is cheap; SQLite's planner cannot know it."""
    if dialect != "sqlite" or not (flt.text and flt.text.strip()):
        return flt.where(dialect)
    rest = replace(flt, text=None).where(dialect)
    dense_at = max(RARE, (conn.execute(select(func.max(M.c.id))).scalar() or 0) // DENSE)
    matches = select(full_text_ids(flt.text, dialect).subquery()).limit(dense_at)
    found = conn.execute(select(func.count()).select_from(matches.subquery())).scalar_one()
    if found < RARE:
        return [*rest, M.c.id.in_(list(conn.execute(matches).scalars()))]
    if found < dense_at:
        return flt.where(dialect)
    pending, params = _pending_where(flt.text, dialect)
    probe = text("(EXISTS (SELECT 1 FROM message_text WHERE message_text MATCH :match AND message_text.rowid = messages.id) "
                 f"OR EXISTS (SELECT 1 FROM message_text_pending WHERE message_id = messages.id AND {pending}))")
    return [*rest, probe.bindparams(match=_fts_match(flt.text), **params)]


def newer_than(store: Store, flt: MessageFilter, top: Key | None, *, since_id: int, limit: int = 2000) -> list[dict]:
    """Messages added after `since_id` that sort above `top` (a live table's first row), newest first."""
    stmt = (select(*LIST_COLUMNS, *([M.c.raw] if flt.test else []), S.c.path.label("source"))
            .join(S, S.c.id == M.c.source_id).where(*flt.where(store.dialect), M.c.id > since_id))
    if top is not None:
        stmt = stmt.where(tuple_(M.c.event_time, M.c.id) > tuple_(*top))
    with store.read() as conn:
        rows = [r._asdict() for r in conn.execute(stmt.order_by(M.c.event_time.desc(), M.c.id.desc()).limit(limit))]
    if flt.test is None:
        return rows
    kept = [r for r in rows if flt.test(r)]
    for r in kept:
        del r["raw"]
    return kept


def every(store: Store, flt: MessageFilter, size: int = 2000, *, raw: bool = False) -> Iterator[dict]:
    """Every matching message, oldest first, a page of `size` at a time. With `raw`, its bytes
    and only what reading them needs (LEAN_COLUMNS: id, event_time, parse_state, charset)."""
    after = None
    while True:
        found = page(store, flt, after=after, limit=size, newest_first=False, lean=raw)
        yield from found
        if len(found) < size:
            return
        after = (found[-1]["event_time"], found[-1]["id"])


def get(store: Store, message_id: int) -> dict | None:
    with store.read() as conn:
        row = conn.execute(select(M, S.c.path.label("source")).join(S, S.c.id == M.c.source_id)
                           .where(M.c.id == message_id)).first()
    return row._asdict() if row else None


def count(store: Store, flt: MessageFilter | None = None) -> int:
    if flt is not None and flt.test is not None:
        return sum(1 for _ in every(store, flt, raw=True))  # the lean rows: only the test's columns are read
    stmt = select(func.count()).select_from(M)
    if flt:
        stmt = stmt.where(*flt.where(store.dialect))
    with store.read() as conn:
        return conn.execute(stmt).scalar_one()




def corrections_of(store: Store, message_id: int) -> list[int]:
    """The ids of corrections made directly of a message, oldest first."""
    with store.read() as conn:
        return list(conn.execute(select(M.c.id).where(M.c.parent_id == message_id).order_by(M.c.id)).scalars())


def history(store: Store, message_ids: list[int]) -> dict[int, dict]:
    """Who made each correction among message_ids, and when (its `correct` audit entry)."""
    a = AuditEntry.__table__
    out: dict[int, dict] = {}
    with store.read() as conn:
        for r in conn.execute(select(a.c.actor, a.c.at, a.c.after).where(a.c.action == AuditAction.CORRECT)):
            made = (r.after or {}).get("message_id")
            if made in message_ids:
                out[made] = {"actor": r.actor, "at": r.at}
    return out


