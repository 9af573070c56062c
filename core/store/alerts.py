"""Alert rules and the alerts they raise, in the store. What a rule means and when it fires
is core.alerts'; here they are kept, listed, raised and cleared."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from core.store.db import Store, Tx
from core.store.models import Alert, AlertRule, DriftValue, Interface, Message
from core.vocabulary import ACTIVE_ALERTS, AlertState

R, A, M, I, D = AlertRule.__table__, Alert.__table__, Message.__table__, Interface.__table__, DriftValue.__table__


def add_rule(conn: Tx, values: dict) -> int:
    return conn.execute(insert(R).returning(R.c.id), values).scalar_one()


def rule(conn: Tx, rule_id: int):
    return conn.execute(select(R).where(R.c.id == rule_id)).first()


def change_rule(conn: Tx, rule_id: int, values: dict) -> None:
    conn.execute(update(R).where(R.c.id == rule_id).values(**values))


def delete_rule(conn: Tx, rule_id: int) -> None:
    conn.execute(R.delete().where(R.c.id == rule_id))


def clear_rule(conn: Tx, rule_id: int, now: datetime) -> None:
    """Close a rule's active alerts: nothing watches them any more."""
    conn.execute(update(A).where(A.c.rule_id == rule_id, A.c.state.in_(ACTIVE_ALERTS))
                 .values(state=AlertState.CLEARED, cleared_at=now))


def rules(store: Store) -> list[dict]:
    """Every rule, with its interface's name (None for a rule on every interface)."""
    stmt = select(R, I.c.name.label("interface")).join(I, I.c.id == R.c.interface_id, isouter=True).order_by(R.c.id)
    with store.read() as conn:
        return [r._asdict() for r in conn.execute(stmt)]


def enabled_rules(store: Store) -> list:
    with store.read() as conn:
        return conn.execute(select(R).where(R.c.enabled.is_(True))).all()


def active(store: Store, *, include_cleared_since: datetime | None = None) -> list[dict]:
    """Open and acknowledged alerts (and those cleared since a time), newest first, with the interface's name."""
    cond = A.c.state.in_(ACTIVE_ALERTS)
    if include_cleared_since is not None:
        cond = cond | (A.c.cleared_at >= include_cleared_since)
    stmt = (select(A, I.c.name.label("interface"), R.c.kind).join(I, I.c.id == A.c.interface_id, isouter=True)
            .join(R, R.c.id == A.c.rule_id).where(cond).order_by(A.c.raised_at.desc(), A.c.id.desc()))
    with store.read() as conn:
        return [r._asdict() for r in conn.execute(stmt)]


def apply(store: Store, verdicts: list, now: datetime, clear_after: timedelta) -> tuple[list[dict], list[dict]]:
    """Raise what fires and is not raised yet; clear what has not fired for `clear_after`.
    `verdicts` are (rule, interface id, firing, value, text); returns (raised, cleared). The
    store refuses a second active alert per rule and interface: when another evaluator raised
    it a moment ago, it stands, once, and nothing is raised here."""
    raised, cleared = [], []
    try:
        with store.begin() as conn:
            conn.execute(update(A).where(A.c.id == -1).values(note=None))  # the write lock first: read what is current under it
            current = {(a.rule_id, a.interface_id): a
                       for a in conn.execute(select(A).where(A.c.state.in_(ACTIVE_ALERTS)))}
            for rule_row, iface, firing, value, text in verdicts:
                existing = current.get((rule_row.id, iface))
                if firing and existing is None:
                    row = {"rule_id": rule_row.id, "interface_id": iface, "state": AlertState.OPEN, "text": text,
                           "value": value, "raised_at": now}
                    row["id"] = conn.execute(insert(A).returning(A.c.id), row).scalar_one()
                    raised.append(row)
                elif firing and existing.ok_since is not None:  # it came back before it cleared: the same alert goes on
                    conn.execute(update(A).where(A.c.id == existing.id).values(ok_since=None, value=value))
                elif not firing and existing is not None and value is not None:
                    if existing.ok_since is None:
                        conn.execute(update(A).where(A.c.id == existing.id).values(ok_since=now))
                    elif now - existing.ok_since >= clear_after:
                        conn.execute(update(A).where(A.c.id == existing.id)
                                     .values(state=AlertState.CLEARED, cleared_at=now))
                        cleared.append(existing._asdict())
    except IntegrityError:
        return [], []
    return raised, cleared


def get(conn: Tx, alert_id: int):
    return conn.execute(select(A).where(A.c.id == alert_id)).first()


def acknowledge(conn: Tx, alert_id: int, actor: str, now: datetime, note: str | None) -> None:
    conn.execute(update(A).where(A.c.id == alert_id).values(state=AlertState.ACKNOWLEDGED, acknowledged_by=actor,
                                                           acknowledged_at=now, note=note))


def last_received(store: Store, interface_id: int, now: datetime) -> datetime | None:
    """When the console last received a message of the interface (a sender's clock in MSH-7
    says nothing about silence). The last day first, on the arrival index."""
    mine = (M.c.interface_id == interface_id, M.c.is_ack.is_(False))
    with store.read() as conn:
        recent = conn.execute(select(func.max(M.c.received_at)).where(M.c.received_at >= now - timedelta(days=1), *mine)).scalar()
        return recent or conn.execute(select(func.max(M.c.received_at)).where(*mine)).scalar()


# -- field drift: the values a rule has seen, and when first ----------------------------------
def drift_batch(conn: Tx, after_id: int, limit: int, interface_id: int | None) -> list:
    """Messages after `after_id` (id order), with their bytes: what a drift rule reads next."""
    stmt = (select(M.c.id, M.c.interface_id, M.c.event_time, M.c.parse_state, M.c.raw)
            .where(M.c.id > after_id, M.c.is_ack.is_(False)).order_by(M.c.id).limit(limit))
    if interface_id is not None:
        stmt = stmt.where(M.c.interface_id == interface_id)
    return conn.execute(stmt).all()


def drift_record(conn: Tx, rule_id: int, seen: dict[tuple[int, str], datetime], read_to: int) -> None:
    """Keep each (interface, value) with the earliest time it was seen; the rule has read to `read_to`."""
    by_interface: dict[int, dict[str, datetime]] = {}
    for (iface, value), at in seen.items():
        by_interface.setdefault(iface, {})[value] = at
    for iface, values in by_interface.items():
        names = list(values)
        for i in range(0, len(names), 500):
            chunk = names[i:i + 500]
            known = dict(conn.execute(select(D.c.value, D.c.first_seen).where(
                D.c.rule_id == rule_id, D.c.interface_id == iface, D.c.value.in_(chunk))).all())
            fresh = [{"rule_id": rule_id, "interface_id": iface, "value": v, "first_seen": values[v]}
                     for v in chunk if v not in known]
            if fresh:
                conn.execute(insert(D), fresh)
            for v in chunk:
                if v in known and values[v] < known[v]:  # an older log, read later
                    conn.execute(update(D).where(D.c.rule_id == rule_id, D.c.interface_id == iface, D.c.value == v)
                                 .values(first_seen=values[v]))
    conn.execute(update(R).where(R.c.id == rule_id).values(read_to=read_to))


def drift_since(conn: Tx, rule_id: int, since: datetime) -> tuple[dict[int, list[tuple[str, datetime]]], set[int]]:
    """The values first seen since `since`, by interface, and the interfaces with values from before it."""
    new: dict[int, list[tuple[str, datetime]]] = {}
    for iface, value, at in conn.execute(select(D.c.interface_id, D.c.value, D.c.first_seen).where(
            D.c.rule_id == rule_id, D.c.first_seen >= since).order_by(D.c.first_seen)):
        new.setdefault(iface, []).append((value, at))
    before = set(conn.execute(select(D.c.interface_id).where(D.c.rule_id == rule_id, D.c.first_seen < since)
                              .distinct()).scalars())
    return new, before
