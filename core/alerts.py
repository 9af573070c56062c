"""Alerts: rules per interface, evaluated as messages arrive and on a timer.

Kinds (threshold in the unit named):
- silence: no message for longer than `threshold` minutes, within business hours only
  (`hours` "07:00-19:00", `weekdays` "12345", in the workstation's local time), and only
  for an interface that has had traffic;
- error_rate: NAKs and unparseable messages above `threshold` % over the last `window_min`;
- nak_burst: at least `threshold` NAKs within the last `window_min`;
- queue_depth: more than `threshold` open queue items;
- ack_latency: ACK latency p95 above `threshold` seconds over the last `window_min`.
An alert is raised once per rule and interface (the store refuses a second active one, so
two evaluators, or two workstations, cannot both raise it) and stays open (or acknowledged)
until its condition has been false for CLEAR_AFTER: a value hovering at the threshold does
not raise and clear it again and again. Acknowledging one is a person's action and is audited.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from core import audit, flows
from core.commands.context import CommandError, Context
from core.store import queries
from core.store.db import Store
from core.store.models import Alert, AlertRule, Interface, Message

R, A, M, I = AlertRule.__table__, Alert.__table__, Message.__table__, Interface.__table__
KINDS = {"silence": "minutes", "error_rate": "%", "nak_burst": "NAKs", "queue_depth": "open items", "ack_latency": "s"}
ACTIVE = ("open", "acknowledged")
MIN_MESSAGES_FOR_RATE = 5  # an error rate over fewer messages says little
CLEAR_AFTER = timedelta(minutes=5)  # how long a condition must stay false before its alert clears


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


RULE_SETTINGS = ("threshold", "window_min", "hours", "weekdays", "enabled", "interface_id")


def change_rule(ctx: Context, rule_id: int, **changes) -> dict:
    """Edit or switch a rule (None leaves a setting alone); audited with before and after. A
    disabled rule's open alerts are cleared: nothing watches them any more."""
    unknown = set(changes) - set(RULE_SETTINGS)
    if unknown:
        raise CommandError(f"Unknown rule settings: {', '.join(sorted(unknown))}.")
    given = {k: (v or None) if k in ("hours", "weekdays") else v for k, v in changes.items() if v is not None}  # "" clears
    if given.get("hours") and not _hours(given["hours"]):
        raise CommandError("Business hours are written HH:MM-HH:MM, e.g. 07:00-19:00.")
    if given.get("weekdays") and not set(given["weekdays"]) <= set("1234567"):
        raise CommandError("Weekdays are digits 1 (Monday) to 7 (Sunday), e.g. 12345.")
    with ctx.store.engine.begin() as conn:
        row = conn.execute(select(R).where(R.c.id == rule_id)).first()
        if row is None:
            raise CommandError(f"Alert rule {rule_id} does not exist.")
        before = {k: getattr(row, k) for k in RULE_SETTINGS}
        conn.execute(update(R).where(R.c.id == rule_id).values(**given))
        if given.get("enabled") is False:
            conn.execute(update(A).where(A.c.rule_id == rule_id, A.c.state.in_(ACTIVE))
                         .values(state="cleared", cleared_at=ctx.now()))
        after = {**before, **given}
        audit.append(conn, actor=ctx.who(conn), action="change_alert_rule", at=ctx.now(),
                     before={"rule": rule_id, **before}, after={"rule": rule_id, **after})
    return after


def delete_rule(ctx: Context, rule_id: int) -> None:
    """Remove a rule and close its alerts; the rule as it was is kept in the audit trail."""
    with ctx.store.engine.begin() as conn:
        row = conn.execute(select(R).where(R.c.id == rule_id)).first()
        if row is None:
            raise CommandError(f"Alert rule {rule_id} does not exist.")
        conn.execute(update(A).where(A.c.rule_id == rule_id, A.c.state.in_(ACTIVE))
                     .values(state="cleared", cleared_at=ctx.now()))
        conn.execute(R.delete().where(R.c.id == rule_id))
        audit.append(conn, actor=ctx.who(conn), action="delete_alert_rule", at=ctx.now(),
                     before={"rule": rule_id, "kind": row.kind, **{k: getattr(row, k) for k in RULE_SETTINGS}})


def rules(store: Store) -> list[dict]:
    """Every rule, with its interface's name (None for a rule on every interface)."""
    stmt = select(R, I.c.name.label("interface")).join(I, I.c.id == R.c.interface_id, isouter=True).order_by(R.c.id)
    with store.engine.connect() as conn:
        return [r._asdict() for r in conn.execute(stmt)]


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
    names = queries.interface_names(store)
    measure = _Measures(store, now)
    with store.engine.connect() as conn:
        enabled = conn.execute(select(R).where(R.c.enabled.is_(True))).all()
    verdicts = [(rule, iface, *_check(measure, rule, iface, names[iface])) for rule in enabled
                for iface in ([rule.interface_id] if rule.interface_id is not None else list(names)) if iface in names]
    try:
        return _apply(store, verdicts, now)
    except IntegrityError:  # another evaluator raised the same alert a moment ago: it stands, once
        return Change([], [])


def _apply(store: Store, verdicts: list, now: datetime) -> Change:
    change = Change([], [])
    with store.engine.begin() as conn:
        conn.execute(update(A).where(A.c.id == -1).values(note=None))  # the write lock first: read what is current under it
        current = {(a.rule_id, a.interface_id): a for a in conn.execute(select(A).where(A.c.state.in_(ACTIVE)))}
        for rule, iface, firing, value, text in verdicts:
            existing = current.get((rule.id, iface))
            if firing and existing is None:
                row = {"rule_id": rule.id, "interface_id": iface, "state": "open", "text": text, "value": value,
                       "raised_at": now}
                row["id"] = conn.execute(insert(A).returning(A.c.id), row).scalar_one()
                change.raised.append(row)
            elif firing and existing.ok_since is not None:  # it came back before it cleared: the same alert goes on
                conn.execute(update(A).where(A.c.id == existing.id).values(ok_since=None, value=value))
            elif not firing and existing is not None and value is not None:
                if existing.ok_since is None:
                    conn.execute(update(A).where(A.c.id == existing.id).values(ok_since=now))
                elif now - existing.ok_since >= CLEAR_AFTER:
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
class _Measures:
    """What the rules look at, each read once per evaluation: a window's flows (core.flows)
    serve every error-rate and NAK rule with that window."""

    def __init__(self, store: Store, now: datetime) -> None:
        self.store, self.now = store, now
        self._windows: dict[int, dict[int, list[int]]] = {}

    def counts(self, interface_id: int, window_min: int) -> tuple[int, int, int]:
        """(messages, NAKs, unparseable) of an interface over the last window_min minutes."""
        if window_min not in self._windows:
            by_interface: dict[int, list[int]] = {}
            for f in flows.flow_map(self.store, self.now - timedelta(minutes=window_min), self.now, by_arrival=True).flows:
                total = by_interface.setdefault(f.interface_id, [0, 0, 0])
                total[0], total[1], total[2] = total[0] + f.messages, total[1] + f.naks, total[2] + f.unparseable
            self._windows[window_min] = by_interface
        return tuple(self._windows[window_min].get(interface_id, (0, 0, 0)))

    def last_message(self, interface_id: int) -> datetime | None:
        """When the console last received a message of the interface (a sender's clock in
        MSH-7 says nothing about silence). The last day first, on the arrival index."""
        mine = (M.c.interface_id == interface_id, M.c.is_ack.is_(False))
        with self.store.engine.connect() as conn:
            recent = conn.execute(select(func.max(M.c.received_at))
                                  .where(M.c.received_at >= self.now - timedelta(days=1), *mine)).scalar()
            return recent or conn.execute(select(func.max(M.c.received_at)).where(*mine)).scalar()

    def open_items(self, interface_id: int) -> int:
        return queries.count_queue(self.store, queries.QueueFilter(states=["open"], interface_id=interface_id))

    def ack_p95(self, interface_id: int, window_min: int) -> float | None:
        with self.store.engine.connect() as conn:
            waits = flows.ack_waits(conn, self.now - timedelta(minutes=window_min), self.now, interface_id=interface_id)
        return flows.quantile([w for _, w in waits], 0.95)


def _check(measure: _Measures, rule, interface_id: int, name: str) -> tuple[bool, float | None, str]:
    """(firing, the measured value or None when it cannot be judged now, the alert's words)."""
    now = measure.now
    if rule.kind == "silence":
        if not _in_hours(rule, now):
            return False, None, ""  # outside business hours: neither raised nor cleared
        last = measure.last_message(interface_id)
        if last is None:
            return False, None, ""
        minutes = (now - last).total_seconds() / 60
        return minutes > rule.threshold, minutes, f"{name}: nothing received for {minutes:.0f} minutes (limit {rule.threshold:g})"
    if rule.kind in ("error_rate", "nak_burst"):
        total, n_naks, n_bad = measure.counts(interface_id, rule.window_min)
        if rule.kind == "nak_burst":
            return n_naks >= rule.threshold, float(n_naks), (
                f"{name}: {n_naks} NAKs in the last {rule.window_min} minutes (limit {rule.threshold:g})")
        if total < MIN_MESSAGES_FOR_RATE:
            return False, 0.0, ""
        rate = 100.0 * (n_naks + n_bad) / total
        return rate > rule.threshold, rate, (f"{name}: {rate:.1f}% errors over the last {rule.window_min} minutes "
                                             f"({n_naks + n_bad} of {total}; limit {rule.threshold:g}%)")
    if rule.kind == "queue_depth":
        depth = measure.open_items(interface_id)
        return depth > rule.threshold, float(depth), f"{name}: {depth} open queue items (limit {rule.threshold:g})"
    p95 = measure.ack_p95(interface_id, rule.window_min)
    if p95 is None:
        return False, 0.0, ""
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
