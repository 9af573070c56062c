"""Engines in the store: their settings, their channels (each an interface, with its state,
counts and read cursor), the counts over time, and the engine keys of stored content."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update

from core.store.db import Store, Tx
from core.store.models import Engine, EngineChannel, EngineCount, EngineMessage, Interface, Message, QueueItem
from core.vocabulary import Lane, QueueKind, TriageState, WriteClass

E, C, N, EM = Engine.__table__, EngineChannel.__table__, EngineCount.__table__, EngineMessage.__table__
M, Q = Message.__table__, QueueItem.__table__
COUNTS = ("received", "filtered", "queued", "sent", "errored")
KEEP_COUNTS = timedelta(days=8)
SETTINGS = ("url", "username", "ca_file", "write_enabled", "rate", "concurrency", "page_size")


def _key(name_or_id: str | int):
    return E.c.id == int(name_or_id) if str(name_or_id).isdigit() else E.c.name == name_or_id


def find(conn: Tx, name_or_id: str | int):
    return conn.execute(select(E).where(_key(name_or_id))).first()


def get(store: Store, name_or_id: str | int) -> dict | None:
    with store.read() as conn:
        row = find(conn, name_or_id)
    return row._asdict() if row else None


def every(store: Store) -> list[dict]:
    with store.read() as conn:
        return [r._asdict() for r in conn.execute(select(E).order_by(E.c.name))]


def add(conn: Tx, row: dict) -> int:
    return conn.execute(insert(E).returning(E.c.id), row).scalar_one()


def change(conn: Tx, engine_id: int, **values) -> None:
    if values:
        conn.execute(update(E).where(E.c.id == engine_id).values(**values))


def remove(conn: Tx, engine_id: int) -> None:
    """The engine and its channels' rows go; what was read from it stays, as any message does."""
    ids = list(conn.execute(select(C.c.id).where(C.c.engine_id == engine_id)).scalars())
    if ids:
        conn.execute(delete(N).where(N.c.channel.in_(ids)))
    conn.execute(delete(C).where(C.c.engine_id == engine_id))
    conn.execute(delete(E).where(E.c.id == engine_id))


# -- channels ----------------------------------------------------------------------------------
def channel(conn: Tx, engine: dict, channel_id: str, name: str, *, destinations: dict[int, str], data_type: str | None,
            source_id_for, now: datetime) -> dict:
    """The channel's row, made on first sight with an interface of its own; its name and
    connectors follow the engine's. `source_id_for(name)` gives the source its content is read into."""
    row = conn.execute(select(C).where(C.c.engine_id == engine["id"], C.c.channel_id == channel_id)).first()
    shown = f"{name} · {engine['name']}"  # the channel first: a narrow list elides the engine, not the channel
    dests = {str(k): v for k, v in destinations.items()}
    if row is not None:
        if row.name != name or (row.destinations or {}) != dests or row.data_type != data_type:
            conn.execute(update(C).where(C.c.id == row.id).values(name=name, destinations=dests, data_type=data_type))
            conn.execute(update(Interface.__table__).where(Interface.id == row.interface_id).values(name=shown[:200]))
        return {**row._asdict(), "name": name, "destinations": dests, "data_type": data_type}
    interface_id = conn.execute(insert(Interface).returning(Interface.id), {
        "name": shown[:200], "match_key": f"engine:{engine['id']}:{channel_id}", "lane": Lane.ENGINE,
        "direction": "unknown", "ack_timeout_s": 300, "write_class": WriteClass.NONE, "write_enabled": False,
        "expects_ack": None}).scalar_one()
    values = {"engine_id": engine["id"], "channel_id": channel_id, "name": name, "interface_id": interface_id,
              "source_id": source_id_for(f"engine {engine['name']}: channel {channel_id}"), "destinations": dests,
              "data_type": data_type, "state": None, "state_since": None, "cursor": 0, "polled_at": None,
              **dict.fromkeys(COUNTS, 0)}
    values["id"] = conn.execute(insert(C).returning(C.c.id), values).scalar_one()
    return values


def name_ends(conn: Tx, interface_id: int, row: dict) -> None:
    """A channel's interface takes its systems from the first HL7 message it carries (MSH-3..6),
    so the flow map and directions place it; once set, they stay."""
    conn.execute(update(Interface.__table__).where(Interface.id == interface_id, Interface.sending_app.is_(None)).values(
        sending_app=row["sending_app"], sending_facility=row["sending_facility"], receiving_app=row["receiving_app"],
        receiving_facility=row["receiving_facility"]))


def set_status(conn: Tx, channel_row: dict, state: str | None, counts: dict[str, int], now: datetime) -> None:
    """The channel's state and counts as the engine gives them now; the counts are kept over time."""
    values = {k: counts.get(k, 0) for k in COUNTS}
    if state != channel_row.get("state"):
        values.update(state=state, state_since=now)
    conn.execute(update(C).where(C.c.id == channel_row["id"]).values(**values, polled_at=now))
    conn.execute(insert(N), {"channel": channel_row["id"], "at": now, "queued": values["queued"], "errored": values["errored"]})
    conn.execute(delete(N).where(N.c.channel == channel_row["id"], N.c.at < now - KEEP_COUNTS))


def channels(store: Store, engine_id: int | None = None) -> list[dict]:
    """Channels with their engine's name, by engine and name."""
    stmt = select(C, E.c.name.label("engine")).join(E, E.c.id == C.c.engine_id).order_by(E.c.name, C.c.name)
    if engine_id is not None:
        stmt = stmt.where(C.c.engine_id == engine_id)
    with store.read() as conn:
        return [r._asdict() for r in conn.execute(stmt)]


def by_interface(store: Store) -> dict[int, dict]:
    """Each channel's row by its interface's id (the board shows a channel's engine counts)."""
    return {c["interface_id"]: c for c in channels(store)}


def advance(conn: Tx, channel_row_id: int, to: int) -> None:
    """Move the cursor on (never back: another poller of a shared store may be ahead)."""
    conn.execute(update(C).where(C.c.id == channel_row_id, C.c.cursor < to).values(cursor=to))


def counts_since(conn: Tx, channel_row_id: int, since: datetime) -> list:
    """(at, queued, errored) of a channel's polls since then, oldest first."""
    return conn.execute(select(N.c.at, N.c.queued, N.c.errored).where(N.c.channel == channel_row_id, N.c.at >= since)
                        .order_by(N.c.at)).all()


# -- content -----------------------------------------------------------------------------------
def cursor(conn: Tx, channel_row_id: int) -> int:
    return conn.execute(select(C.c.cursor).where(C.c.id == channel_row_id)).scalar_one()


def lock_channel(conn: Tx, channel_row_id: int, now: datetime) -> int:
    """Hold the channel for this transaction (a write: SQLite's write lock, PostgreSQL's row
    lock), so two pollers of one store take turns; returns its cursor as it is now."""
    conn.execute(update(C).where(C.c.id == channel_row_id).values(polled_at=now))
    return conn.execute(select(C.c.cursor).where(C.c.id == channel_row_id)).scalar_one()


def known(conn: Tx, channel_row_id: int, low: int, high: int) -> dict[tuple[int, int, str], int]:
    """(engine message id, connector, role) -> messages.id of what is stored already between these ids."""
    return {(r.engine_message_id, r.meta_data_id, r.role): r.message_id for r in conn.execute(
        select(EM.c.engine_message_id, EM.c.meta_data_id, EM.c.role, EM.c.message_id)
        .where(EM.c.channel == channel_row_id, EM.c.engine_message_id.between(low, high)))}


def record(conn: Tx, rows: list[dict]) -> None:
    if rows:
        conn.execute(insert(EM), rows)


def keys_of(conn: Tx, message_ids) -> dict[int, dict]:
    """The engine keys of stored content (messages.id -> keys, with its channel and engine)."""
    stmt = (select(EM, C.c.channel_id.label("channel_uuid"), C.c.name.label("channel_name"), C.c.destinations,
                   C.c.engine_id, E.c.name.label("engine"), E.c.url.label("engine_url"))
            .join(C, C.c.id == EM.c.channel).join(E, E.c.id == C.c.engine_id).where(EM.c.message_id.in_(list(message_ids))))
    return {r.message_id: r._asdict() for r in conn.execute(stmt)}


def engine_keys(store: Store, message_id: int) -> dict | None:
    with store.read() as conn:
        return keys_of(conn, [message_id]).get(message_id)


def open_queued(conn: Tx, channel_row_id: int, limit: int) -> list:
    """Open "queued in the engine" items of a channel: (item id, row version, engine message id), oldest first."""
    return conn.execute(select(Q.c.id, Q.c.row_version, EM.c.engine_message_id, EM.c.meta_data_id)
                        .join(EM, EM.c.message_id == Q.c.message_id)
                        .where(EM.c.channel == channel_row_id, Q.c.kind == QueueKind.ENGINE_QUEUED,
                               Q.c.triage_state == TriageState.OPEN)
                        .order_by(Q.c.id).limit(limit)).all()


def search_ids(*, engine_message_id: int | None = None, channel: str | None = None, connector: str | None = None,
               server_id: str | None = None):
    """A subquery of messages.id whose engine keys match (channel by name or UUID)."""
    stmt = select(EM.c.message_id)
    if channel is not None:
        stmt = stmt.join(C, C.c.id == EM.c.channel).where((C.c.channel_id == channel) | (func.lower(C.c.name) == channel.lower()))
    if engine_message_id is not None:
        stmt = stmt.where(EM.c.engine_message_id == engine_message_id)
    if connector is not None:
        stmt = stmt.where(func.lower(EM.c.connector) == connector.lower())
    if server_id is not None:
        stmt = stmt.where(EM.c.server_id == server_id)
    return stmt
