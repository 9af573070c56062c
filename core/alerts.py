"""Alerts: rules per interface, evaluated as messages arrive and on a timer.

Kinds (threshold in the unit named):
- silence: no message for longer than `threshold` minutes, within business hours only
  (`hours` "07:00-19:00", `weekdays` "12345", in the workstation's local time), and only
  for an interface that has had traffic;
- error_rate: NAKs and unparseable messages above `threshold` % over the last `window_min`;
- nak_burst: at least `threshold` NAKs within the last `window_min`;
- queue_depth: more than `threshold` open queue items;
- ack_latency: ACK latency p95 above `threshold` seconds over the last `window_min`;
- engine_queued: an engine channel's queue holds more than `threshold` messages;
- engine_errors: an engine channel's error count rose by at least `threshold` over the last `window_min`;
- channel_stopped: an engine channel has been stopped, paused or undeployed for `threshold` minutes;
- direct_timed_out: at least `threshold` deliveries of Direct messages sent in the last `window_min`
  have timed out (no processed MDN, or no dispatched one when asked for);
- direct_failures: more than `threshold` % of the deliveries sent in the last `window_min` failed
  (a failed MDN, a DSN, a timeout);
- field_drift: at least `threshold` values of a field path (`path`: OBX[*]-3.1, PV1-3) were first
  seen in the last `window_min`, on an interface where the rule has seen values from before
  then (a new result code, a new location, an assigning authority that changed). The rule reads
  the messages once, DRIFT_READ at a time, keeping each value with when it was first seen; it
  judges nothing until it has read them all.
The engine kinds judge what the engine's own counts say at each poll (core.sources.engine);
on an interface that is not an engine channel they never fire.
An alert is raised once per rule and interface (the store refuses a second active one, so
two evaluators, or two workstations, cannot both raise it) and stays open (or acknowledged)
until its condition has been false for CLEAR_AFTER: a value hovering at the threshold does
not raise and clear it again and again. Acknowledging one is a person's action and is audited.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.commands.context import CommandError, Context
from core.hl7.query import FieldPath, Message, QueryError
from core.privacy import path_identifies
from core.query_filter import hl7_text
from core.store import alerts as store_alerts
from core.store import audit, direct, engines, flows, interfaces, queue
from core.store.db import Store
from core.vocabulary import AlertState, AuditAction, Disposition, TriageState

KINDS = {"silence": "minutes", "error_rate": "%", "nak_burst": "NAKs", "queue_depth": "open items", "ack_latency": "s",
         "engine_queued": "queued", "engine_errors": "errors", "channel_stopped": "minutes",
         "direct_timed_out": "timed out", "direct_failures": "%", "field_drift": "new values"}
DRIFT_READ = 20_000  # messages a drift rule reads at one evaluation
RUNNING = ("STARTED", "STARTING", "DEPLOYING")
MIN_MESSAGES_FOR_RATE = 5  # an error rate over fewer messages says little
CLEAR_AFTER = timedelta(minutes=5)  # how long a condition must stay false before its alert clears


@dataclass
class Change:
    raised: list[dict]
    cleared: list[dict]


def add_rule(ctx: Context, kind: str, threshold: float, *, interface_id: int | None = None, window_min: int = 15,
             hours: str | None = None, weekdays: str | None = None, path: str | None = None) -> int:
    if kind not in KINDS:
        raise CommandError(f"The alert kind is one of: {', '.join(KINDS)}.")
    if (kind == "field_drift") != bool(path):
        raise CommandError("A field_drift rule watches a field path (--path OBX[*]-3.1); no other kind takes one.")
    if path:
        path = path.strip().upper()
        try:
            FieldPath.parse(path)
        except QueryError as exc:
            raise CommandError(f"The field path: {exc.reason}") from None
    if hours and not _hours(hours):
        raise CommandError("Business hours are written HH:MM-HH:MM, e.g. 07:00-19:00.")
    if weekdays and not set(weekdays) <= set("1234567"):
        raise CommandError("Weekdays are digits 1 (Monday) to 7 (Sunday), e.g. 12345.")
    row = {"interface_id": interface_id, "kind": kind, "threshold": threshold, "window_min": window_min,
           "hours": hours, "weekdays": weekdays, "enabled": True, "created_at": ctx.now(), "path": path}
    with ctx.store.begin() as conn:
        rule_id = store_alerts.add_rule(conn, row)
        audit.append(conn, actor=ctx.who(conn), action=AuditAction.ADD_ALERT_RULE, at=ctx.now(),
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
    with ctx.store.begin() as conn:
        row = store_alerts.rule(conn, rule_id)
        if row is None:
            raise CommandError(f"Alert rule {rule_id} does not exist.")
        before = {k: getattr(row, k) for k in RULE_SETTINGS}
        store_alerts.change_rule(conn, rule_id, given)
        if given.get("enabled") is False:
            store_alerts.clear_rule(conn, rule_id, ctx.now())
        after = {**before, **given}
        audit.append(conn, actor=ctx.who(conn), action=AuditAction.CHANGE_ALERT_RULE, at=ctx.now(),
                     before={"rule": rule_id, **before}, after={"rule": rule_id, **after})
    return after


def delete_rule(ctx: Context, rule_id: int) -> None:
    """Remove a rule and close its alerts; the rule as it was is kept in the audit trail."""
    with ctx.store.begin() as conn:
        row = store_alerts.rule(conn, rule_id)
        if row is None:
            raise CommandError(f"Alert rule {rule_id} does not exist.")
        store_alerts.clear_rule(conn, rule_id, ctx.now())
        store_alerts.delete_rule(conn, rule_id)
        audit.append(conn, actor=ctx.who(conn), action=AuditAction.DELETE_ALERT_RULE, at=ctx.now(),
                     before={"rule": rule_id, "kind": row.kind, **{k: getattr(row, k) for k in RULE_SETTINGS}})


def evaluate(store: Store, now: datetime) -> Change:
    """Raise what fires and is not raised yet; clear what no longer fires."""
    names = interfaces.names(store)
    measure = _Measures(store, now)
    verdicts = [(rule, iface, *_check(measure, rule, iface, names[iface])) for rule in store_alerts.enabled_rules(store)
                for iface in ([rule.interface_id] if rule.interface_id is not None else list(names)) if iface in names]
    return Change(*store_alerts.apply(store, verdicts, now, CLEAR_AFTER))


def acknowledge(ctx: Context, alert_id: int, note: str | None = None) -> None:
    """A person has seen it: audited; it stays listed until its condition clears."""
    with ctx.store.begin() as conn:
        row = store_alerts.get(conn, alert_id)
        if row is None:
            raise CommandError(f"Alert {alert_id} does not exist.")
        if row.state != AlertState.OPEN:
            raise CommandError(f"Alert {alert_id} is {row.state} already.")
        actor, now = ctx.who(conn), ctx.now()
        store_alerts.acknowledge(conn, alert_id, actor, now, note)
        audit.append(conn, actor=actor, action=AuditAction.ACKNOWLEDGE_ALERT, at=now,
                     before={"alert": alert_id, "state": AlertState.OPEN},
                     after={"alert": alert_id, "state": AlertState.ACKNOWLEDGED, "text": row.text, "note": note})


# -- the checks ----------------------------------------------------------------------------
class _Measures:
    """What the rules look at, each read once per evaluation: a window's flows (core.store.flows)
    serve every error-rate and NAK rule with that window."""

    def __init__(self, store: Store, now: datetime) -> None:
        self.store, self.now = store, now
        self._windows: dict[int, dict[int, list[int]]] = {}
        self._channels: dict[int, dict] | None = None
        self._deliveries: dict[int, dict[int, dict[str, int]]] = {}
        self._drift: dict[int, tuple] = {}

    def channel(self, interface_id: int) -> dict | None:
        """The engine channel an interface is, with its state and counts at the last poll."""
        if self._channels is None:
            self._channels = engines.by_interface(self.store)
        return self._channels.get(interface_id)

    def deliveries(self, interface_id: int, window_min: int) -> dict[str, int]:
        """A Direct interface's deliveries sent in the window, by state."""
        if window_min not in self._deliveries:
            self._deliveries[window_min] = direct.states_by_interface(self.store, self.now - timedelta(minutes=window_min))
        return self._deliveries[window_min].get(interface_id, {})

    def errors_rise(self, channel: dict, window_min: int) -> int:
        with self.store.read() as conn:
            seen = engines.counts_since(conn, channel["id"], self.now - timedelta(minutes=window_min))
        return max(0, seen[-1].errored - seen[0].errored) if len(seen) > 1 else 0

    def counts(self, interface_id: int, window_min: int) -> tuple[int, int, int]:
        """(messages, NAKs, unparseable) of an interface over the last window_min minutes."""
        if window_min not in self._windows:
            by_interface: dict[int, list[int]] = {}
            for f in flows.flow_map(self.store, self.now - timedelta(minutes=window_min), self.now, by_arrival=True).flows:
                total = by_interface.setdefault(f.interface_id, [0, 0, 0])
                total[0], total[1], total[2] = total[0] + f.messages, total[1] + f.naks, total[2] + f.unparseable
            self._windows[window_min] = by_interface
        return tuple(self._windows[window_min].get(interface_id, (0, 0, 0)))

    def drift(self, rule) -> tuple[dict[int, list], set[int]] | None:
        """A drift rule's values first seen in its window, by interface, and the interfaces it has
        values from before for; None until it has read every message (read here, a batch a call)."""
        if rule.id not in self._drift:
            self._drift[rule.id] = self._read_drift(rule)
        return self._drift[rule.id]

    def _read_drift(self, rule):
        path = FieldPath.parse(rule.path)
        with self.store.begin() as conn:
            rows = store_alerts.drift_batch(conn, rule.read_to or 0, DRIFT_READ, rule.interface_id)
            seen: dict[tuple[int, str], datetime] = {}
            for r in rows:
                text = hl7_text(r._mapping)
                if text is None or r.event_time is None:
                    continue
                for value in path.values(Message(text)):
                    key = (r.interface_id or 0, value[:400])
                    if value and (key not in seen or r.event_time < seen[key]):
                        seen[key] = r.event_time
            if rows:
                store_alerts.drift_record(conn, rule.id, seen, rows[-1].id)
            if len(rows) == DRIFT_READ:
                return None  # more to read before anything can be judged
            return store_alerts.drift_since(conn, rule.id, self.now - timedelta(minutes=rule.window_min))

    def last_message(self, interface_id: int) -> datetime | None:
        return store_alerts.last_received(self.store, interface_id, self.now)

    def open_items(self, interface_id: int) -> int:
        return queue.count(self.store, queue.QueueFilter(states=[TriageState.OPEN], interface_id=interface_id))

    def ack_p95(self, interface_id: int, window_min: int) -> float | None:
        with self.store.read() as conn:
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
    if rule.kind in ("engine_queued", "engine_errors", "channel_stopped"):
        channel = measure.channel(interface_id)
        return _check_channel(measure, rule, channel, name) if channel else (False, None, "")
    if rule.kind in ("direct_timed_out", "direct_failures"):
        return _check_direct(measure.deliveries(interface_id, rule.window_min), rule, name)
    if rule.kind == "field_drift":
        return _check_drift(measure.drift(rule), rule, interface_id, name)
    if rule.kind == "queue_depth":
        depth = measure.open_items(interface_id)
        return depth > rule.threshold, float(depth), f"{name}: {depth} open queue items (limit {rule.threshold:g})"
    p95 = measure.ack_p95(interface_id, rule.window_min)
    if p95 is None:
        return False, 0.0, ""
    return p95 > rule.threshold, p95, (f"{name}: ACK latency p95 {p95:.1f} s over the last {rule.window_min} minutes "
                                       f"(limit {rule.threshold:g} s)")


def _check_channel(measure: _Measures, rule, channel: dict, name: str) -> tuple[bool, float | None, str]:
    if rule.kind == "engine_queued":
        queued = channel["queued"]
        return queued > rule.threshold, float(queued), f"{name}: {queued} messages queued in the engine (limit {rule.threshold:g})"
    if rule.kind == "engine_errors":
        rise = measure.errors_rise(channel, rule.window_min)
        return rise >= rule.threshold, float(rise), (f"{name}: {rise} more errors in the engine over the last "
                                                     f"{rule.window_min} minutes (limit {rule.threshold:g})")
    state, since = channel["state"] or "UNKNOWN", channel["state_since"] or measure.now
    if state in RUNNING:
        return False, 0.0, ""
    minutes = (measure.now - since).total_seconds() / 60
    return minutes >= rule.threshold, minutes, f"{name}: the channel is {state.lower()} in the engine for {minutes:.0f} minutes"


def _check_direct(states: dict[str, int], rule, name: str) -> tuple[bool, float | None, str]:
    sent = sum(states.values())
    if not sent:
        return False, None, ""
    if rule.kind == "direct_timed_out":
        late = states.get(Disposition.TIMED_OUT, 0)
        return late >= rule.threshold, float(late), (f"{name}: {late} of {sent} Direct deliveries of the last "
                                                     f"{rule.window_min} minutes timed out (limit {rule.threshold:g})")
    failed = sum(states.get(s, 0) for s in (Disposition.FAILED, Disposition.DELIVERY_FAILED, Disposition.TIMED_OUT))
    if sent < MIN_MESSAGES_FOR_RATE:
        return False, 0.0, ""
    rate = 100.0 * failed / sent
    return rate > rule.threshold, rate, (f"{name}: {rate:.0f}% of Direct deliveries of the last {rule.window_min} minutes "
                                         f"failed or timed out ({failed} of {sent}; limit {rule.threshold:g}%)")


def _check_drift(found, rule, interface_id: int, name: str) -> tuple[bool, float | None, str]:
    if found is None or interface_id not in found[1]:
        return False, None, ""  # still reading, or nothing from before the window to compare with
    new = found[0].get(interface_id, [])
    if path_identifies(rule.path):
        said = f"the values are not shown: {rule.path} identifies patients"  # alerts are read on shared screens
    else:
        said = ", ".join(v for v, _ in new[:8]) + (f" and {len(new) - 8} more" if len(new) > 8 else "")
    return len(new) >= rule.threshold, float(len(new)), (
        f"{name}: {len(new)} value{'s' if len(new) != 1 else ''} of {rule.path} first seen in the last "
        f"{rule.window_min} minutes (limit {rule.threshold:g}): {said}")


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
