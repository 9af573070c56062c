"""Is everything flowing? Aggregations over a time window for the Overview map, the charts
and the go-live board. Plain SQL aggregates over indexed columns; nothing here loads
messages' bytes.

Health of a flow (an interface and message type) in a window:
- `bad`: more than ERROR_BAD of its messages NAKed or unparseable, or silent for longer
  than its interface's silence threshold while it had traffic in the window before;
- `warn`: any NAK, missing ACK or unparseable message;
- `ok` otherwise.
"""
from __future__ import annotations

import csv
import io
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import BigInteger, case, exists, extract, func, or_, select
from sqlalchemy.orm import aliased

from core.store import engines
from core.store.db import Store
from core.store.interfaces import home_system
from core.store.models import EngineMessage, Interface, Message, QueueItem
from core.vocabulary import ANSWERED, NAK_STATES, TriageState

M, I, Q, EM = Message.__table__, Interface.__table__, QueueItem.__table__, EngineMessage.__table__
ERROR_BAD = 0.05
DEFAULT_SILENCE_S = 30 * 60
BACKLOG_SKEW = timedelta(hours=2)  # how far a sender's clock may be off before its messages read as a backlog
NO_INTERFACE = "(no interface: unreadable messages)"  # what has no readable header belongs to no lane


def system_label(app: str | None, facility: str | None) -> str:
    return f"{app or '?'}" + (f" ({facility})" if facility else "")


@dataclass
class Flow:
    interface_id: int | None
    interface: str
    message_type: str
    source: str  # the sending system's label
    target: str
    messages: int
    naks: int
    missing: int
    unparseable: int
    last: datetime | None
    silence_s: float | None = None
    health: str = "ok"

    @property
    def error_rate(self) -> float:
        return (self.naks + self.unparseable) / self.messages if self.messages else 0.0


@dataclass
class FlowMap:
    since: datetime
    until: datetime
    home: str | None = None  # the practice's own system (the one most interfaces touch)
    systems: list[str] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)


def flow_map(store: Store, since: datetime, until: datetime, *, by_arrival: bool = False) -> FlowMap:
    """Systems and flows seen between since and until (ACKs are counted with what they answer):
    by the messages' own time (MSH-7), or `by_arrival`, by when the console received them (up
    to and including `until`: an alert window ending now counts what arrived this instant).
    By arrival, a backlog read now (messages whose own time is older than the window by more
    than a sender's clock is ever off) is not live traffic and is left out."""
    t = M.c.received_at if by_arrival else M.c.event_time
    before_end = t <= until if by_arrival else t < until
    backlog = (M.c.event_time >= since - BACKLOG_SKEW,) if by_arrival else ()
    # grouped by state too, and counted here: cheaper than CASE sums over every row
    stmt = (select(M.c.interface_id, M.c.message_type, M.c.ack_state, M.c.parse_state, func.count().label("n"),
                   func.max(t).label("last"))
            .where(M.c.is_ack.is_(False), t >= since, before_end, *backlog)
            .group_by(M.c.interface_id, M.c.message_type, M.c.ack_state, M.c.parse_state))
    with store.read() as conn:
        groups: dict[tuple, dict] = {}
        for r in conn.execute(stmt):
            g = groups.setdefault((r.interface_id, r.message_type), {"messages": 0, "naks": 0, "missing": 0,
                                                                      "unparseable": 0, "last": None})
            g["messages"] += r.n
            g["naks"] += r.n if r.ack_state in NAK_STATES else 0
            g["missing"] += r.n if r.ack_state == "missing" else 0
            g["unparseable"] += r.n if r.parse_state == "unparseable" else 0
            g["last"] = max(filter(None, (g["last"], r.last)), default=None)
        interfaces = {r.id: r for r in conn.execute(select(I.c.id, I.c.name, I.c.sending_app, I.c.sending_facility,
                                                           I.c.receiving_app, I.c.receiving_facility,
                                                           I.c.silence_threshold_s))}
    home = home_system([r._asdict() for r in interfaces.values()])
    out = FlowMap(since, until, system_label(*home) if home else None)
    systems: dict[str, None] = {}
    for (interface_id, message_type), g in groups.items():
        iface = interfaces.get(interface_id)
        src = system_label(iface.sending_app, iface.sending_facility) if iface else "?"
        dst = system_label(iface.receiving_app, iface.receiving_facility) if iface else "?"
        systems.update(dict.fromkeys((src, dst)))
        flow = Flow(interface_id, iface.name if iface else NO_INTERFACE, message_type or "?", src, dst, **g)
        flow.silence_s = max(0.0, (until - g["last"]).total_seconds()) if g["last"] else None
        threshold = (iface.silence_threshold_s if iface and iface.silence_threshold_s else DEFAULT_SILENCE_S)
        flow.health = _health(flow, threshold)
        out.flows.append(flow)
    out.systems = sorted(systems)
    out.flows.sort(key=lambda f: -f.messages)
    return out


def _health(flow: Flow, silence_threshold_s: float) -> str:
    if flow.error_rate > ERROR_BAD or (flow.silence_s is not None and flow.silence_s > silence_threshold_s):
        return "bad"
    if flow.naks or flow.missing or flow.unparseable:
        return "warn"
    return "ok"


# -- charts ------------------------------------------------------------------------------
@dataclass
class Series:
    """Per bucket (start times, UTC): messages, errors, ACK latency p50/p95 (s), open queue items."""

    starts: list[datetime]
    messages: list[int]
    errors: list[int]
    latency_p50: list[float | None]
    latency_p95: list[float | None]
    queue_depth: list[int]


LATENCY_SAMPLE = 20_000  # more ACKed messages than this in a window: percentiles from an even sample


def series(store: Store, since: datetime, until: datetime, *, interface_id: int | None = None,
           message_type: str | None = None, bucket: timedelta = timedelta(minutes=1)) -> Series:
    """One flow's (an interface, a message type) or all traffic's figures per bucket.

    Counts are exact and made by the database (grouped by bucket over the covering index);
    ACK latency percentiles come from every ACKed message, or from an even sample of them
    (by id) when a wide window holds more than LATENCY_SAMPLE."""
    n = max(1, int((until - since) / bucket))
    starts = [since + bucket * i for i in range(n)]
    messages, errors = [0] * n, [0] * n
    latencies: list[list[float]] = [[] for _ in range(n)]
    flow = _flow(interface_id, message_type)
    where = [M.c.event_time >= since, M.c.event_time < until, *flow]
    seconds = func.cast(extract("epoch", M.c.event_time), BigInteger) - int(since.replace(tzinfo=UTC).timestamp())
    index = func.cast(seconds / int(bucket.total_seconds()), BigInteger).label("i")
    bad = case((M.c.ack_state.in_(NAK_STATES) | (M.c.parse_state == "unparseable"), 1), else_=0)
    counts = select(index, func.count(), func.sum(bad)).where(*where).group_by(index)
    queue_where = [Q.c.created_at < until]
    if interface_id is not None or message_type is not None:
        queue_where.append(Q.c.message_id.in_(select(M.c.id).where(*flow)))
    with store.read() as conn:
        for i, count, errs in conn.execute(counts):
            if 0 <= i < n:
                messages[i], errors[i] = count, errs or 0
        for sent, wait in ack_waits(conn, since, until, interface_id=interface_id, message_type=message_type):
            i = int((sent - since) / bucket)
            if i < n:  # a window that is not whole buckets leaves a partial one out, as the counts do
                latencies[i].append(wait)
        items = conn.execute(select(Q.c.created_at, Q.c.updated_at, Q.c.triage_state).where(*queue_where)).all()
    return Series(starts, messages, errors, [quantile(x, 0.5) for x in latencies], [quantile(x, 0.95) for x in latencies],
                  [_depth(items, s + bucket) for s in starts])


def _flow(interface_id: int | None, message_type: str | None) -> list:
    """The messages of a flow (an interface, a message type), or all traffic; never ACKs."""
    flow = [M.c.is_ack.is_(False)]
    if interface_id is not None:
        flow.append(M.c.interface_id == interface_id)
    if message_type is not None:
        flow.append(M.c.message_type == message_type)
    return flow


def ack_waits(conn, since: datetime, until: datetime, *, interface_id: int | None = None,
              message_type: str | None = None) -> list[tuple[datetime, float]]:
    """(when sent, seconds until its deciding ACK) of a flow's ACKed messages sent in the window;
    an even sample of them (by id) when there are more than LATENCY_SAMPLE."""
    where = [M.c.event_time >= since, M.c.event_time < until, *_flow(interface_id, message_type)]
    acked = conn.execute(select(func.count()).where(*where, M.c.ack_id.is_not(None))).scalar_one()
    ack = aliased(M)
    stmt = select(M.c.event_time, ack.c.event_time).join(ack, ack.c.id == M.c.ack_id).where(*where)
    if acked > LATENCY_SAMPLE:
        stmt = stmt.where(M.c.id % (acked // LATENCY_SAMPLE + 1) == 0)
    return [(sent, max(0.0, (answered - sent).total_seconds())) for sent, answered in conn.execute(stmt)]


def quantile(values: list[float], q: float) -> float | None:
    """The q-quantile (0.5, 0.95) of values; None for none."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


def _depth(items, at: datetime) -> int:
    """Queue items open at `at`: created by then, and still open or closed only after it
    (a closed item's last change is taken as when it closed)."""
    return sum(1 for c, u, state in items if c <= at and (state == TriageState.OPEN or u > at))


# -- the go-live board -------------------------------------------------------------------
BOARD_COLUMNS = ("interface", "first_seen", "last_seen", "today", "ack_coverage", "error_rate", "open_items", "silence_s",
                 "engine_state", "engine_queued", "engine_errored")


def board(store: Store, now: datetime) -> list[dict]:
    """Per interface: first and last message received, volume received today, ACK coverage,
    error rate, open items, and silence since the last arrival (not since a sender's MSH-7)."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    counted = lambda cond: func.sum(case((cond, 1), else_=0))  # noqa: E731
    stmt = (select(M.c.interface_id, func.min(M.c.received_at).label("first"), func.max(M.c.received_at).label("last"),
                   counted((M.c.received_at >= today) & _not_an_engine_copy()).label("today"), func.count().label("messages"),
                   counted(M.c.ack_state.in_(ANSWERED)).label("acked"),
                   counted(M.c.ack_state.in_(ANSWERED + ("missing", "pending"))).label("expecting"),
                   counted(M.c.ack_state.in_(NAK_STATES) | (M.c.parse_state == "unparseable")).label("errors"))
            .where(M.c.is_ack.is_(False)).group_by(M.c.interface_id))
    open_items = (select(M.c.interface_id, func.count().label("open")).select_from(Q.join(M, M.c.id == Q.c.message_id))
                  .where(Q.c.triage_state == TriageState.OPEN).group_by(M.c.interface_id))
    with store.read() as conn:
        names = dict(conn.execute(select(I.c.id, I.c.name)).all())
        opened = dict(conn.execute(open_items).all())
        rows = []
        for r in conn.execute(stmt):
            rows.append({"interface_id": r.interface_id, "interface": names.get(r.interface_id, NO_INTERFACE),
                         "first_seen": r.first, "last_seen": r.last, "today": r.today,
                         "ack_coverage": r.acked / r.expecting if r.expecting else None,
                         "error_rate": r.errors / r.messages if r.messages else 0.0,
                         "open_items": opened.get(r.interface_id, 0),
                         "silence_s": max(0.0, (now - r.last).total_seconds()) if r.last else None})
    channels = engines.by_interface(store)
    seen = {r["interface_id"] for r in rows}
    rows += [{"interface_id": i, "interface": names.get(i, c["name"]), "first_seen": None, "last_seen": None, "today": 0,
              "ack_coverage": None, "error_rate": 0.0, "open_items": opened.get(i, 0), "silence_s": None}
             for i, c in channels.items() if i not in seen]  # a channel with nothing read yet is on the board too
    for r in rows:
        c = channels.get(r["interface_id"])  # an engine channel: its state and counts as the engine gives them
        r.update(engine_state=c["state"] if c else None, engine_queued=c["queued"] if c else None,
                 engine_errored=c["errored"] if c else None)
    return sorted(rows, key=lambda r: r["interface"])


def _not_an_engine_copy():
    """Not a destination's sent copy of an engine message: a channel's volume is what it received
    (its copies still count for its ACK coverage and error rate: the destinations' answers are theirs)."""
    return or_(M.c.transport != "engine", ~exists().where(EM.c.message_id == M.c.id, EM.c.role == "sent"))


def board_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(BOARD_COLUMNS)
    for r in rows:
        w.writerow([r["interface"], f"{r['first_seen']:%Y-%m-%d %H:%M:%S}" if r["first_seen"] else "",
                    f"{r['last_seen']:%Y-%m-%d %H:%M:%S}" if r["last_seen"] else "", r["today"],
                    "" if r["ack_coverage"] is None else f"{r['ack_coverage']:.3f}", f"{r['error_rate']:.3f}",
                    r["open_items"], "" if r["silence_s"] is None else int(r["silence_s"]), r.get("engine_state") or "",
                    "" if r.get("engine_queued") is None else r["engine_queued"],
                    "" if r.get("engine_errored") is None else r["engine_errored"]])
    return out.getvalue()
