"""Reprocess queue items' messages through the engine they came from: a write, held to
the same rules as a resend (core.commands.resend, DESIGN.md "Safety rules for writes").

- only through an engine whose writes are enabled;
- the confirmation names the engine, the channel, the destinations and the count, and
  says how each goes: a message as the engine stored it is reprocessed there
  (`POST /channels/{id}/messages/{messageId}/_reprocess`, to the item's destination only);
  a corrected version is sent into the channel as new raw content (`POST
  /channels/{id}/messages`), which enters at the channel's source and is transformed
  again: correct what the channel received, not what a destination sent;
- each item is claimed (compare-and-set) and its attempt recorded, with the bytes that
  go, before the call; the outcome after it; both audited;
- an outcome that cannot be known (the connection broke after the request left, the
  engine answered 5xx) is `unknown` and blocks any repeat until the person says the engine
  was checked, exactly as a resend's does: the guard is the message's, across resends and
  reprocessing alike.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from core.changes import WRITE
from core.commands.context import Context
from core.commands.resend import Outcome, Plan, lineage_guard, resolve_lineage, take
from core.engines.client import EngineError
from core.progress import Progress
from core.signatures import Signature
from core.sources.engine import open_client
from core.store import attempts, audit, engines, messages, queue
from core.store.db import Tx
from core.vocabulary import AttemptState, AuditAction, QueueKind, TriageState


@dataclass
class Target:
    item_id: int
    row_version: int
    message_id: int  # the version that goes
    original_id: int
    engine: str
    channel_uuid: str
    channel: str
    engine_message_id: int
    destinations: dict[int, str]  # metaDataId -> name

    @property
    def corrected(self) -> bool:
        return self.message_id != self.original_id

    @property
    def destination(self) -> str:
        return f"engine {self.engine}: {self.channel} → {', '.join(self.destinations.values())}"


@dataclass
class ReprocessPlan(Plan):
    targets: list[Target] = field(default_factory=list)

    def by_channel(self) -> dict[tuple[str, str], list[Target]]:
        out: dict[tuple[str, str], list[Target]] = {}
        for t in self.targets:
            out.setdefault((t.engine, t.channel_uuid), []).append(t)
        return out

    def confirmation(self) -> str:
        lines = []
        for targets in self.by_channel().values():
            first, n = targets[0], len(targets)
            dests = sorted({d for t in targets for d in t.destinations.values()})
            corrected = sum(t.corrected for t in targets)
            how = (f" {corrected} corrected: sent into the channel as new content, which enters at its source and is "
                   "transformed again;" if corrected else "")
            stored = n - corrected
            how += f" {stored} reprocessed as the engine stored {'them' if stored != 1 else 'it'}." if stored else ""
            lines.append(f"Reprocess {n} message{'s' if n != 1 else ''} through engine {first.engine}, channel "
                         f"{first.channel}, to {', '.join(dests)}.{how}")
        lines += [f"Not reprocessed: item {i}: {why}" for i, why in self.refused]
        return "\n".join(lines) or "Nothing to reprocess."


class Reprocess:
    changes = WRITE

    def __init__(self, ctx: Context, *, progress: Progress | None = None) -> None:
        self.ctx = ctx
        self.progress = progress or Progress()

    def plan(self, items: dict[int, int | None], *, after_unknown: bool = False, again: bool = False) -> ReprocessPlan:
        plan = ReprocessPlan(after_unknown=after_unknown, again=again)
        with self.ctx.store.read() as conn:
            for item_id, seen in items.items():
                why = self._target(conn, item_id, seen, plan)
                if why:
                    plan.refused.append((item_id, why))
        return plan

    def _target(self, conn: Tx, item_id: int, seen: int | None, plan: ReprocessPlan) -> str | None:
        item = queue.get(conn, item_id)
        if item is None:
            return "no such queue item"
        if seen is not None and item.row_version != seen:
            return "someone else changed it; look again"
        if item.message_id is None:
            return "it is about a whole file, not one message"
        lineage = messages.lineage(conn, item.message_id)
        keys = engines.keys_of(conn, [lineage[0]]).get(lineage[0])
        if keys is None:
            return "its message did not come from an engine (resend it instead)"
        engine = engines.find(conn, keys["engine_id"])
        if not engine.write_enabled:
            return (f"writes are not enabled for engine {engine.name}: `lanewatch engine set {engine.name} --writes on` "
                    "(or Settings → Engines…)")
        if keys["role"] == "response":
            return "it is a receiver's answer; reprocess the message it answers"
        channel_dests = {int(k): v for k, v in (keys["destinations"] or {}).items()}
        meta = keys["meta_data_id"]
        dests = {meta: channel_dests.get(meta, keys["connector"] or f"destination {meta}")} if meta else channel_dests
        if not dests:
            return "the engine lists no destination for its channel"
        if why := lineage_guard(conn, lineage[0], plan):
            plan.held.add("after_unknown" if "unknown" in why else "again")
            return why
        if any(t.original_id == lineage[0] for t in plan.targets):
            return "another chosen item reprocesses the same message; it goes once"
        plan.targets.append(Target(item_id, item.row_version, lineage[-1], lineage[0], engine.name, keys["channel_uuid"],
                                   keys["channel_name"], keys["engine_message_id"], dests))
        return None

    def run(self, plan: ReprocessPlan) -> list[Outcome]:
        outcomes: list[Outcome] = []
        self.progress.started(len(plan.targets))
        for (engine_name, _), targets in plan.by_channel().items():
            engine = engines.get(self.ctx.store, engine_name)
            claimed, refused = self._claim(targets, plan)
            outcomes += refused
            if not claimed:
                continue
            try:
                client = open_client(engine)
            except EngineError as exc:
                results = [(t, a, AttemptState.FAILED, f"{exc}; nothing was sent") for t, a, _ in claimed]
            else:
                with client:
                    results = []
                    for t, a, raw in claimed:
                        results.append((t, a, *self._send(client, t, raw)))
                        self.progress.advanced(len(raw), 1)
            self._finish(results)
            outcomes += [Outcome(t.item_id, t.destination, state, detail, a) for t, a, state, detail in results]
        self.progress.finished()
        return outcomes

    @staticmethod
    def _send(client, t: Target, raw: bytes) -> tuple[str, str]:
        try:
            if t.corrected:
                new_id = client.process(t.channel_uuid, raw.decode("utf-8", "replace"), list(t.destinations), t.engine_message_id)
                return AttemptState.ACCEPTED, ("the engine took the corrected message" + (f" as message {new_id}" if new_id else "")
                                               + "; what its destinations answered comes with the next poll")
            client.reprocess(t.channel_uuid, t.engine_message_id, list(t.destinations))
            return AttemptState.ACCEPTED, (f"the engine reprocesses message {t.engine_message_id} as a new message; what "
                                           "its destinations answered comes with the next poll")
        except EngineError as exc:
            if exc.maybe_done:
                return AttemptState.UNKNOWN, (f"{exc}; the engine may or may not have reprocessed it: look in the engine's "
                                              "message browser before trying again")
            if exc.status == 404:
                return AttemptState.FAILED, f"the engine no longer holds message {t.engine_message_id} (pruned?); nothing was done"
            return AttemptState.FAILED, f"{exc}; nothing was done"

    def _claim(self, targets: list[Target], plan: ReprocessPlan) -> tuple[list[tuple[Target, int, bytes]], list[Outcome]]:
        claimed = []
        with self.ctx.store.begin() as conn:
            actor, now = self.ctx.who(conn), self.ctx.now()
            mine, refused = take(conn, targets, plan, now, "Not reprocessed")
            if not mine:
                return [], refused
            raw = {r.id: r.raw for r in messages.rows(conn, {t.message_id for t in mine}, "id", "raw")}
            started = attempts.start(conn, [dict(item_id=t.item_id, message_id=t.message_id, original_id=t.original_id,
                                                 destination=t.destination[:300], sent=raw[t.message_id], actor=actor,
                                                 started_at=now) for t in mine])
            audit.append_many(conn, [dict(actor=actor, action=AuditAction.REPROCESS, at=now, item_id=t.item_id,
                                          message_id=t.message_id,
                                          before={"attempt": a, "engine": t.engine, "channel": t.channel,
                                                  "destinations": list(t.destinations.values()),
                                                  "engine_message": t.engine_message_id, "corrected": t.corrected},
                                          after={"state": AttemptState.SENDING}) for t, a in zip(mine, started)])
            for t, a in zip(mine, started):
                t.row_version += 1
                claimed.append((t, a, raw[t.message_id]))
        return claimed, refused

    def _finish(self, results: list[tuple[Target, int, str, str]]) -> None:
        with self.ctx.store.begin() as conn:
            actor, now = self.ctx.who(conn), self.ctx.now()
            attempts.finish(conn, [{"id": a, "state": state, "ack_code": None, "answer_id": None, "detail": detail}
                                   for _, a, state, detail in results], now)
            accepted = [(t, d) for t, _, state, d in results if state == AttemptState.ACCEPTED]
            if accepted:
                queue.settle(conn, {t.item_id: t.row_version for t, _ in accepted}, TriageState.RESENT, now,
                             {t.item_id: f"reprocessed through {t.destination}: {d}" for t, d in accepted})
                resolve_lineage(conn, [t for t, _ in accepted], actor, now)
            queue.add(conn, [queue.new(QueueKind.FAILED_RESEND, f"Reprocess through {t.destination} {state}: {d}",
                                       Signature(QueueKind.FAILED_RESEND, f"engine {t.engine}: {t.channel}", state),
                                       message_id=t.message_id, source_id=None, now=now)
                             for t, _, state, d in results if state != AttemptState.ACCEPTED])
            audit.append_many(conn, [dict(actor=actor, action=AuditAction.REPROCESS_OUTCOME, at=now, item_id=t.item_id,
                                          message_id=t.message_id, before={"attempt": a, "state": AttemptState.SENDING},
                                          after={"state": state, "detail": detail}) for t, a, state, detail in results])
