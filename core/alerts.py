"""Alerts: rules per interface, evaluated as messages arrive and on a timer.

Kinds (threshold in the unit named):
- silence: no message for longer than `threshold` minutes, within business hours only
  (`hours` "07:00-19:00", `weekdays` "12345", in the workstation's local time), and only
  for an interface that has had traffic;
- error_rate: NAKs and unparseable messages above `threshold` % over the last `window_min`;
- nak_burst: at least `threshold` NAKs within the last `window_min`;
- queue_depth: more than `threshold` open queue items;
- ack_latency: ACK latency p95 above `threshold` seconds over the last `window_min`.
An alert is raised once per rule and interface and stays open (or acknowledged) until its
condition clears; acknowledging one is a person's action and is audited.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, case, func, insert, select, update
from sqlalchemy.orm import aliased

from core import audit
from core.commands.context import CommandError, Context
from core.store.db import Store
from core.store.models import Alert, AlertRule, Interface, Message, QueueItem

R, A, M, I, Q = AlertRule.__table__, Alert.__table__, Message.__table__, Interface.__table__, QueueItem.__table__
KINDS = {"silence": "minutes", "error_rate": "%", "nak_burst": "NAKs", "queue_depth": "open items", "ack_latency": "s"}
ACTIVE = ("open", "acknowledged")
MIN_MESSAGES_FOR_RATE = 5  # an error rate over fewer messages says little


@dataclass
class Change:
    raised: list[dict]
    cleared: list[dict]


def add_rule(ctx: Context, kind: str, threshold: float, *, interface_id: int | None = None, window_min: int = 15,
             hours: str | None = None, weekdays: str | None = None) -> int:
    if kind not in KINDS:
        raise CommandError(f"The alert kind is one of: {', '.join(KINDS)}.")
    if hours and not _hours(hours):
        raise CommandError("Business hours are written HH:MM-HH:MM, e.g. 07:00-19:00.")
    if weekdays and not set(weekdays) <= set("1234567"):
        raise CommandError("Weekdays are digits 1 (Monday) to 7 (Sunday), e.g. 12345.")
    row = {"interface_id": interface_id, "kind": kind, "threshold": threshold, "window_min": window_min,
           "hours": hours, "weekdays": weekdays, "enabled": True, "created_at": ctx.now()}
    with ctx.store.engine.begin() as conn:
        rule_id = conn.execute(insert(R).returning(R.c.id), row).scalar_one()
        audit.append(conn, actor=ctx.who(conn), action="add_alert_rule", at=ctx.now(),
                     after={"rule": rule_id, **{k: v for k, v in row.items() if k != "created_at"}})
    return rule_id


def rules(store: Store) -> list[dict]:
    with store.engine.connect() as conn:
        return [r._asdict() for r in conn.execute(select(R).order_by(R.c.id))]


def active(store: Store, *, include_cleared_since: datetime | None = None) -> list[dict]:
    """Open and acknowledged alerts (and those cleared since a time), newest first, with the interface's name."""
    cond = A.c.state.in_(ACTIVE)
    if include_cleared_since is not None:
        cond = cond | (A.c.cleared_at >= include_cleared_since)
    stmt = (select(A, I.c.name.label("interface"), R.c.kind).join(I, I.c.id == A.c.interface_id, isouter=True)
            .join(R, R.c.id == A.c.rule_id).where(cond).order_by(A.c.raised_at.desc(), A.c.id.desc()))
    with store.engine.connect() as conn:
        return [r._asdict() for r in conn.execute(stmt)]


def evaluate(store: Store, now: datetime) -> Change:
    """Raise what fires and is not raised yet; clear what no longer fires."""
    change = Change([], [])
    with store.engine.begin() as conn:
        interfaces = {r.id: r.name for r in conn.execute(select(I.c.id, I.c.name))}
        current = {(a.rule_id, a.interface_id): a for a in conn.execute(select(A).where(A.c.state.in_(ACTIVE)))}
        for rule in conn.execute(select(R).where(R.c.enabled.is_(True))).all():
            targets = [rule.interface_id] if rule.interface_id is not None else list(interfaces)
            for iface in targets:
                if iface not in interfaces:
                    continue
                firing, value, text = _check(conn, rule, iface, interfaces[iface], now)
                existing = current.get((rule.id, iface))
                if firing and existing is None:
                    row = {"rule_id": rule.id, "interface_id": iface, "state": "open", "text": text, "value": value,
                           "raised_at": now}
                    row["id"] = conn.execute(insert(A).returning(A.c.id), row).scalar_one()
                    change.raised.append(row)
                elif not firing and existing is not None and value is not None:
                    conn.execute(update(A).where(A.c.id == existing.id).values(state="cleared", cleared_at=now))
                    change.cleared.append(existing._asdict())
    return change


def acknowledge(ctx: Context, alert_id: int, note: str | None = None) -> None:
    """A person has seen it: audited; it stays listed until its condition clears."""
    with ctx.store.engine.begin() as conn:
        row = conn.execute(select(A).where(A.c.id == alert_id)).first()
        if row is None:
            raise CommandError(f"Alert {alert_id} does not exist.")
        if row.state != "open":
            raise CommandError(f"Alert {alert_id} is {row.state} already.")
        actor, now = ctx.who(conn), ctx.now()
        conn.execute(update(A).where(A.c.id == alert_id).values(state="acknowledged", acknowledged_by=actor,
                                                               acknowledged_at=now, note=note))
        audit.append(conn, actor=actor, action="acknowledge_alert", at=now, before={"alert": alert_id, "state": "open"},
                     after={"alert": alert_id, "state": "acknowledged", "text": row.text, "note": note})


# -- the checks ----------------------------------------------------------------------------
def _check(conn, rule, interface_id: int, name: str, now: datetime) -> tuple[bool, float | None, str]:
    """(firing, the measured value or None when it cannot be judged now, the alert's words)."""
    since = now - timedelta(minutes=rule.window_min)
    mine = and_(M.c.interface_id == interface_id, M.c.is_ack.is_(False))
    if rule.kind == "silence":
        if not _in_hours(rule, now):
            return False, None, ""  # outside business hours: neither raised nor cleared
        last = conn.execute(select(func.max(M.c.event_time)).where(mine)).scalar()
        if last is None:
            return False, None, ""
        minutes = (now - last).total_seconds() / 60
        return minutes > rule.threshold, minutes, f"{name}: nothing received for {minutes:.0f} minutes (limit {rule.threshold:g})"
    if rule.kind in ("error_rate", "nak_burst"):
        naks = func.sum(case((M.c.ack_state.in_(("error", "rejected")), 1), else_=0))
        bad = func.sum(case((M.c.parse_state == "unparseable", 1), else_=0))
        total, n_naks, n_bad = conn.execute(select(func.count(), naks, bad).where(mine, M.c.event_time >= since)).one()
        n_naks, n_bad = n_naks or 0, n_bad or 0
        if rule.kind == "nak_burst":
            return n_naks >= rule.threshold, float(n_naks), (
                f"{name}: {n_naks} NAKs in the last {rule.window_min} minutes (limit {rule.threshold:g})")
        if total < MIN_MESSAGES_FOR_RATE:
            return False, 0.0, ""
        rate = 100.0 * (n_naks + n_bad) / total
        return rate > rule.threshold, rate, (f"{name}: {rate:.1f}% errors over the last {rule.window_min} minutes "
                                             f"({n_naks + n_bad} of {total}; limit {rule.threshold:g}%)")
    if rule.kind == "queue_depth":
        depth = conn.execute(select(func.count()).select_from(Q.join(M, M.c.id == Q.c.message_id))
                             .where(M.c.interface_id == interface_id, Q.c.triage_state == "open")).scalar_one()
        return depth > rule.threshold, float(depth), f"{name}: {depth} open queue items (limit {rule.threshold:g})"
    ack = aliased(M)
    waits = [(a - m).total_seconds() for m, a in conn.execute(
        select(M.c.event_time, ack.c.event_time).join(ack, ack.c.id == M.c.ack_id).where(mine, M.c.event_time >= since))]
    if not waits:
        return False, 0.0, ""
    p95 = statistics.quantiles(waits, n=20, method="inclusive")[-1] if len(waits) > 1 else waits[0]
    return p95 > rule.threshold, p95, (f"{name}: ACK latency p95 {p95:.1f} s over the last {rule.window_min} minutes "
                                       f"(limit {rule.threshold:g} s)")


def _hours(text: str) -> tuple[int, int] | None:
    try:
        a, b = text.split("-")
        (h1, m1), (h2, m2) = (map(int, a.split(":")), map(int, b.split(":")))
    except ValueError:
        return None
    return (h1 * 60 + m1, h2 * 60 + m2) if 0 <= h1 < 24 and 0 <= h2 <= 24 else None


def _in_hours(rule, now: datetime) -> bool:
    """Business hours are the workstation's local time (the store keeps UTC)."""
    now = now.replace(tzinfo=UTC).astimezone()
    if rule.weekdays and str(now.isoweekday()) not in rule.weekdays:
        return False
    span = _hours(rule.hours) if rule.hours else None
    return span is None or span[0] <= now.hour * 60 + now.minute < span[1]
