"""Interfaces: the sidebar's overview, names, directions, and their settings."""
from __future__ import annotations

from sqlalchemy import case, func, insert, select, update

from core.store.db import Store, Tx
from core.store.models import Interface, Message, QueueItem
from core.vocabulary import Direction, Health, Lane, TriageState, WriteClass

M, Q, I = Message.__table__, QueueItem.__table__, Interface.__table__
MANY_PROBLEMS = 10  # open items from which an interface's badge is drawn as severe


def overview(store: Store) -> list[dict]:
    """Each interface for the sidebar: its messages and its ACKs counted apart, the newest
    traffic, and its open queue items (they drop as items are acknowledged or resolved)."""
    counts = (select(M.c.interface_id, func.sum(case((M.c.is_ack.is_(False), 1), else_=0)).label("messages"),
                     func.sum(case((M.c.is_ack.is_(True), 1), else_=0)).label("acks"),
                     func.max(M.c.event_time).label("last_time"))
              .group_by(M.c.interface_id).subquery())
    open_items = (select(M.c.interface_id, func.count().label("open_items")).select_from(Q.join(M, M.c.id == Q.c.message_id))
                  .where(Q.c.triage_state == TriageState.OPEN).group_by(M.c.interface_id).subquery())
    stmt = (select(Interface.id, Interface.name, Interface.lane, Interface.sending_app, Interface.sending_facility,
                   Interface.receiving_app, Interface.receiving_facility, Interface.expects_ack, Interface.resend_host,
                   Interface.resend_port, Interface.resend_tls, Interface.resend_tls_ca, Interface.resend_tls_cert,
                   Interface.resend_tls_key, Interface.write_class, Interface.write_enabled,
                   func.coalesce(counts.c.messages, 0).label("messages"), func.coalesce(counts.c.acks, 0).label("acks"),
                   counts.c.last_time, func.coalesce(open_items.c.open_items, 0).label("problems"))
            .join(counts, counts.c.interface_id == Interface.id, isouter=True)
            .join(open_items, open_items.c.interface_id == Interface.id, isouter=True).order_by(Interface.name))
    with store.read() as conn:
        rows = [r._asdict() for r in conn.execute(stmt)]
    home = home_system(rows)
    for r in rows:
        r["direction"] = direction(r, home)
        r["status"] = (Health.HIGH if r["problems"] >= MANY_PROBLEMS else Health.WARN) if r["problems"] else \
            Health.OK if r["messages"] or r["acks"] else Health.QUIET
    return rows


def names(store: Store) -> dict[int, str]:
    """Every interface's name by id: no message is read."""
    with store.read() as conn:
        return dict(conn.execute(select(Interface.id, Interface.name).order_by(Interface.name)).all())


def direction(row: dict, home: tuple | None) -> str:
    """inbound, outbound or between, told from the practice's own system's side."""
    if home is not None and (row["receiving_app"], row["receiving_facility"]) == home:
        return Direction.INBOUND
    if home is not None and (row["sending_app"], row["sending_facility"]) == home:
        return Direction.OUTBOUND
    return Direction.BETWEEN


def home_system(interfaces: list[dict]) -> tuple[str | None, str | None] | None:
    """The system most interfaces touch: the practice's own EHR, from whose side directions are told."""
    seen: dict[tuple, int] = {}
    for r in interfaces:
        for end in ((r["sending_app"], r["sending_facility"]), (r["receiving_app"], r["receiving_facility"])):
            seen[end] = seen.get(end, 0) + 1
    return max(seen, key=seen.get) if seen else None


def get(conn: Tx, interface_id: int):
    return conn.execute(select(I).where(I.c.id == interface_id)).first()


def set_values(conn: Tx, interface_id: int, **values) -> None:
    conn.execute(update(I).where(I.c.id == interface_id).values(**values))


def of_lane(conn: Tx, lane: Lane, key: str, name: str, sender: str, receiver: str, **values) -> int:
    """The interface of a lane that keys its own (a Direct pair of domains, a FHIR app and
    endpoint): found by its match key, or made with no resend and no write class."""
    key = f"{lane.value}:{key}"[:820]
    found = conn.execute(select(I.c.id).where(I.c.match_key == key)).scalar()
    if found is not None:
        return found
    return conn.execute(insert(I).returning(I.c.id), {
        "name": name[:200], "match_key": key, "lane": lane, "sending_app": sender[:200], "receiving_app": receiver[:200],
        "direction": "unknown", "write_class": WriteClass.NONE, "write_enabled": False, **values}).scalar_one()
