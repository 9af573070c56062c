"""Read queries: filtered, keyset-paged message lists, free-text search, the queue.

Keyset paging (WHERE (event_time, id) < the last row's ORDER BY event_time DESC, id DESC)
keeps every page as fast as the first, however deep a person scrolls; no query ever loads
the store into memory.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Integer, Select, and_, case, column, func, or_, select, text, tuple_

from core.store.db import Store
from core.store.models import AuditEntry, Interface, Message, QueueItem, Source

M, Q, S = Message.__table__, QueueItem.__table__, Source.__table__

PROBLEM_ACK_STATES = ("error", "rejected", "missing", "unrecognised")
MANY_PROBLEMS = 10  # open items from which an interface's badge is drawn as severe
# columns a list shows; raw bytes stay out of list queries
LIST_COLUMNS = [c for c in M.columns if c.name not in ("raw", "errors")]


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
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None
    acks: bool | None = None  # True: only ACKs; False: no ACKs; None: both

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
        if self.control_id:
            w.append(M.c.control_id == self.control_id)
        if self.patient_id:
            w.append(M.c.patient_id == self.patient_id)
        if self.interface_id is not None:
            w.append(M.c.interface_id == self.interface_id)
        if self.since:
            w.append(M.c.event_time >= self.since)
        if self.until:
            w.append(M.c.event_time < self.until)
        if self.acks is not None:
            w.append(M.c.is_ack.is_(self.acks))
        if self.text and self.text.strip():
            w.append(M.c.id.in_(full_text_ids(self.text, dialect)))
        return w


def _fts_match(query: str) -> str:
    """Every word quoted, so punctuation in a control ID or a name is taken literally."""
    return " ".join('"' + w.replace('"', '""') + '"' for w in query.split())


def full_text_ids(query: str, dialect: str):
    """A subquery of message ids whose text holds every word of the query."""
    words = query.split()
    if dialect == "sqlite":
        return (text("SELECT rowid FROM message_text WHERE message_text MATCH :match")
                .bindparams(match=_fts_match(query)).columns(column("rowid", Integer)))
    conds = " AND ".join(f"body ILIKE :w{i}" for i in range(len(words)))
    params = {f"w{i}": "%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for i, w in enumerate(words)}
    return text(f"SELECT message_id FROM message_text WHERE {conds}").bindparams(**params).columns(column("message_id", Integer))


Key = tuple[datetime, int]  # (event_time, id): where a page ends


def message_page(store: Store, flt: MessageFilter, *, after: Key | None = None, limit: int = 500,
                 newest_first: bool = True) -> list[dict]:
    """One page of messages (no raw bytes) in time order, after the key the previous page ended at."""
    stmt: Select = select(*LIST_COLUMNS, S.c.path.label("source")).join(S, S.c.id == M.c.source_id)
    key = tuple_(M.c.event_time, M.c.id)
    if after is not None:
        stmt = stmt.where(key < tuple_(*after) if newest_first else key > tuple_(*after))
    order = (M.c.event_time.desc(), M.c.id.desc()) if newest_first else (M.c.event_time, M.c.id)
    with store.engine.connect() as conn:
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
    probe = text("EXISTS (SELECT 1 FROM message_text WHERE message_text MATCH :match AND message_text.rowid = messages.id)")
    return [*rest, probe.bindparams(match=_fts_match(flt.text))]


def newer_than(store: Store, flt: MessageFilter, top: Key | None, *, since_id: int, limit: int = 2000) -> list[dict]:
    """Messages added after `since_id` that sort above `top` (a live table's first row), newest first."""
    stmt = (select(*LIST_COLUMNS, S.c.path.label("source")).join(S, S.c.id == M.c.source_id)
            .where(*flt.where(store.dialect), M.c.id > since_id))
    if top is not None:
        stmt = stmt.where(tuple_(M.c.event_time, M.c.id) > tuple_(*top))
    with store.engine.connect() as conn:
        return [r._asdict() for r in conn.execute(stmt.order_by(M.c.event_time.desc(), M.c.id.desc()).limit(limit))]


def iter_messages(store: Store, flt: MessageFilter, page: int = 2000) -> Iterator[dict]:
    """Every matching message, oldest first, page by page."""
    after = None
    while True:
        rows = message_page(store, flt, after=after, limit=page, newest_first=False)
        yield from rows
        if len(rows) < page:
            return
        after = (rows[-1]["event_time"], rows[-1]["id"])


def message(store: Store, message_id: int) -> dict | None:
    with store.engine.connect() as conn:
        row = conn.execute(select(M, S.c.path.label("source")).join(S, S.c.id == M.c.source_id)
                           .where(M.c.id == message_id)).first()
    return row._asdict() if row else None


def count_messages(store: Store, flt: MessageFilter | None = None) -> int:
    stmt = select(func.count()).select_from(M)
    if flt:
        stmt = stmt.where(*flt.where(store.dialect))
    with store.engine.connect() as conn:
        return conn.execute(stmt).scalar_one()


@dataclass
class QueueFilter:
    states: list[str] | None = None
    kinds: list[str] | None = None
    signature: str | None = None
    interface_id: int | None = None
    owner: str | None = None  # "" means unassigned
    older_than: datetime | None = None  # created before this
    ids: list[int] | None = None
    message_ids: list[int] | None = None  # items about these messages

    def where(self) -> list:
        w = []
        if self.ids is not None:
            w.append(Q.c.id.in_(self.ids))
        if self.message_ids is not None:
            w.append(Q.c.message_id.in_(self.message_ids))
        if self.states:
            w.append(Q.c.triage_state.in_(self.states))
        if self.kinds:
            w.append(Q.c.kind.in_(self.kinds))
        if self.signature is not None:
            w.append(Q.c.signature == self.signature)
        if self.interface_id is not None:
            w.append(Q.c.message_id.in_(select(M.c.id).where(M.c.interface_id == self.interface_id)))
        if self.owner is not None:
            w.append(Q.c.owner.is_(None) if self.owner == "" else Q.c.owner == self.owner)
        if self.older_than is not None:
            w.append(Q.c.created_at < self.older_than)
        return w


def queue_items(store: Store, flt: QueueFilter | None = None, *, states: list[str] | None = None,
                kinds: list[str] | None = None, limit: int | None = None) -> list[dict]:
    """Queue items, newest first, with the file they came from and their message's keys."""
    flt = flt or QueueFilter(states=states, kinds=kinds)
    stmt = (select(Q, S.c.path.label("source"), M.c.control_id, M.c.message_type, M.c.patient_id, M.c.patient_name,
                   M.c.message_time, M.c.interface_id)
            .join(S, S.c.id == Q.c.source_id, isouter=True).join(M, M.c.id == Q.c.message_id, isouter=True)
            .where(*flt.where()).order_by(Q.c.id.desc()).limit(limit))
    with store.engine.connect() as conn:
        return [r._asdict() for r in conn.execute(stmt)]


def count_queue(store: Store, flt: QueueFilter) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Q).where(*flt.where())).scalar_one()


def queue_groups(store: Store, flt: QueueFilter | None = None, *, states: list[str] | None = None) -> list[dict]:
    """Queue items grouped by signature: kind, count, newest and oldest, newest group first."""
    flt = flt or QueueFilter(states=states)
    stmt = (select(Q.c.signature, func.min(Q.c.kind).label("kind"), func.count().label("items"),
                   func.max(Q.c.created_at).label("newest"), func.min(Q.c.created_at).label("oldest"),
                   func.min(Q.c.reason).label("example"))
            .where(*flt.where()).group_by(Q.c.signature).order_by(func.max(Q.c.created_at).desc(), Q.c.signature))
    with store.engine.connect() as conn:
        return [r._asdict() for r in conn.execute(stmt)]


def corrections_of(store: Store, message_id: int) -> list[int]:
    """The ids of corrections made directly of a message, oldest first."""
    with store.engine.connect() as conn:
        return list(conn.execute(select(M.c.id).where(M.c.parent_id == message_id).order_by(M.c.id)).scalars())


def interfaces_overview(store: Store) -> list[dict]:
    """Each interface for the sidebar: its messages and its ACKs counted apart, the newest
    traffic, and its open queue items (they drop as items are acknowledged or resolved)."""
    counts = (select(M.c.interface_id, func.sum(case((M.c.is_ack.is_(False), 1), else_=0)).label("messages"),
                     func.sum(case((M.c.is_ack.is_(True), 1), else_=0)).label("acks"),
                     func.max(M.c.event_time).label("last_time"))
              .group_by(M.c.interface_id).subquery())
    open_items = (select(M.c.interface_id, func.count().label("open_items")).select_from(Q.join(M, M.c.id == Q.c.message_id))
                  .where(Q.c.triage_state == "open").group_by(M.c.interface_id).subquery())
    stmt = (select(Interface.id, Interface.name, Interface.lane, Interface.sending_app, Interface.sending_facility,
                   Interface.receiving_app, Interface.receiving_facility, Interface.expects_ack, Interface.resend_host,
                   Interface.resend_port, Interface.resend_tls, Interface.resend_tls_ca, Interface.resend_tls_cert,
                   Interface.resend_tls_key, Interface.write_class, Interface.write_enabled,
                   func.coalesce(counts.c.messages, 0).label("messages"), func.coalesce(counts.c.acks, 0).label("acks"),
                   counts.c.last_time, func.coalesce(open_items.c.open_items, 0).label("problems"))
            .join(counts, counts.c.interface_id == Interface.id, isouter=True)
            .join(open_items, open_items.c.interface_id == Interface.id, isouter=True).order_by(Interface.name))
    with store.engine.connect() as conn:
        rows = [r._asdict() for r in conn.execute(stmt)]
    home = home_system(rows)
    for r in rows:
        r["direction"] = direction(r, home)
        r["status"] = ("high" if r["problems"] >= MANY_PROBLEMS else "warn") if r["problems"] else \
            "ok" if r["messages"] or r["acks"] else "quiet"
    return rows


def interface_names(store: Store) -> dict[int, str]:
    """Every interface's name by id: no message is read."""
    with store.engine.connect() as conn:
        return dict(conn.execute(select(Interface.id, Interface.name).order_by(Interface.name)).all())


def direction(row: dict, home: tuple | None) -> str:
    """inbound, outbound or between, told from the practice's own system's side."""
    if home is not None and (row["receiving_app"], row["receiving_facility"]) == home:
        return "inbound"
    if home is not None and (row["sending_app"], row["sending_facility"]) == home:
        return "outbound"
    return "between"


def home_system(interfaces: list[dict]) -> tuple[str | None, str | None] | None:
    """The system most interfaces touch: the practice's own EHR, from whose side directions are told."""
    seen: dict[tuple, int] = {}
    for r in interfaces:
        for end in ((r["sending_app"], r["sending_facility"]), (r["receiving_app"], r["receiving_facility"])):
            seen[end] = seen.get(end, 0) + 1
    return max(seen, key=seen.get) if seen else None


def message_history(store: Store, message_ids: list[int]) -> dict[int, dict]:
    """Who made each correction among message_ids, and when (its `correct` audit entry)."""
    a = AuditEntry.__table__
    out: dict[int, dict] = {}
    with store.engine.connect() as conn:
        for r in conn.execute(select(a.c.actor, a.c.at, a.c.after).where(a.c.action == "correct")):
            made = (r.after or {}).get("message_id")
            if made in message_ids:
                out[made] = {"actor": r.actor, "at": r.at}
    return out


def audit_page(store: Store, *, before_seq: int | None = None, actor: str | None = None, action: str | None = None,
               limit: int = 500) -> list[dict]:
    """Audit entries, newest first, a page at a time (keyset on the chain's sequence)."""
    a = AuditEntry.__table__
    stmt = select(a).order_by(a.c.seq.desc()).limit(limit)
    if before_seq is not None:
        stmt = stmt.where(a.c.seq < before_seq)
    if actor:
        stmt = stmt.where(a.c.actor.like(f"%{actor}%"))
    if action:
        stmt = stmt.where(a.c.action == action)
    with store.engine.connect() as conn:
        return [r._asdict() for r in conn.execute(stmt)]
