"""Resend queue items' messages to their interface's destination, with ACK tracking.

Safety, in order (DESIGN.md, "Safety rules for writes"):
- nothing is sent to an interface that is not write-enabled, or that has no destination;
- an item is claimed by a compare-and-set on its row version in the same transaction that
  records the attempt as `sending`: two consoles cannot both send it;
- the guard belongs to the message, not to one queue item: while any attempt at any version
  of a message (the original or a correction, from any item that points to it) is `sending`
  (its process died) or `unknown`, nothing of it is sent again unless the person says the
  receiver was checked (`after_unknown`); once one was accepted, it goes again only when
  asked for on purpose (`again`). The check is repeated inside the claim, under a lock on
  the original's row, so two consoles cannot both pass it;
- what goes on the wire has CR segment terminators (a log's CRLF or LF are the logger's),
  and those exact bytes are recorded with the attempt before they leave;
- the outcome is recorded when the answer comes (or does not): accepted, error, rejected,
  failed (never left this machine) or unknown (left, but no usable answer).
One serial queue per destination keeps the order; destinations run side by side.
"""
from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field, replace

from core import secrets
from core.changes import WRITE, Changes
from core.commands.context import CommandError, ConflictError, Context
from core.hl7.encoding import with_cr_terminators
from core.hl7.scan import scan
from core.ingest import receive
from core.progress import Progress
from core.signatures import Signature
from core.sources.imap import owner as mailbox_owner
from core.store import attempts, audit, direct, interfaces, mailboxes, messages, queue
from core.store.db import Tx
from core.store.pairing import Pairing
from core.transport import smtp
from core.transport.mllp import Client, MllpError, client_tls
from core.vocabulary import (
    BLOCKING_ATTEMPTS,
    UNSETTLED_ITEMS,
    AttemptState,
    AuditAction,
    ParseState,
    QueueKind,
    TriageState,
    WriteClass,
)

OUTCOMES = {"AA": AttemptState.ACCEPTED, "CA": AttemptState.ACCEPTED, "AE": AttemptState.ERROR, "CE": AttemptState.ERROR,
            "AR": AttemptState.REJECTED, "CR": AttemptState.REJECTED}
CHUNK = 200  # items claimed per transaction; a crash leaves at most this many `sending`


@dataclass
class Target:
    item_id: int
    row_version: int
    message_id: int  # the version that goes: the newest correction, else the original
    original_id: int  # the message as it first arrived: every version's attempts share it
    interface: str
    write_class: str
    host: str
    port: int
    tls: Tls | None = None
    submission: DirectRoute | None = None  # a Direct message: to its mailbox's SMTP server, not over MLLP

    @property
    def destination(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def channel(self) -> str:
        """The destination as the confirmation names it: where, and how it is reached."""
        if self.submission is not None:
            d = self.submission
            how = ("not encrypted: a test server on this machine" if d.server.security == "none" else
                   f"{'STARTTLS' if d.server.security == 'starttls' else 'TLS'}, the server verified against "
                   f"{d.server.ca_file or 'the system certificates'}")
            return f"{self.destination} by SMTP submission of mailbox {d.mailbox} ({how})"
        if self.tls is None:
            return f"{self.destination} (plain MLLP, not encrypted)"
        return f"{self.destination} over TLS (receiver verified against {self.tls.ca or 'the system certificates'})"


@dataclass(frozen=True)
class DirectRoute:
    """How a Direct message goes again: through which mailbox's SMTP server, as whom, to whom."""

    mailbox: str
    server: smtp.Submission
    sender: str
    recipients: list[str]  # only those that have not processed it


@dataclass(frozen=True)
class Tls:
    ca: str | None = None  # PEM file to verify the receiver by; else the system's certificates
    cert: str | None = None  # our client certificate, when the receiver asks for one
    key: str | None = None

    def context(self) -> ssl.SSLContext:
        return client_tls(self.ca, self.cert, self.key)

    @classmethod
    def of(cls, iface) -> Tls | None:
        return cls(iface.resend_tls_ca, iface.resend_tls_cert, iface.resend_tls_key) if iface.resend_tls else None


@dataclass
class Plan:
    targets: list[Target] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (item id, why)
    after_unknown: bool = False  # the person checked with the receiver after an unknown outcome
    again: bool = False  # the person wants a message sent again that was already accepted
    held: set[str] = field(default_factory=set)  # what the person could say to send the refused: after_unknown, again
    unset: set[int] = field(default_factory=set)  # interfaces whose resend settings would let the refused go

    def by_destination(self) -> dict[str, list[Target]]:
        out: dict[str, list[Target]] = {}
        for t in self.targets:
            out.setdefault(t.channel, []).append(t)
        return out

    def confirmation(self) -> str:
        """What the person confirms: where, of which write class, how many."""
        lines = []
        for channel, targets in self.by_destination().items():
            classes = ", ".join(sorted({t.write_class for t in targets}))
            corrected = sum(t.message_id != t.original_id for t in targets)
            which = (" The newest correction goes where there is one: " + (
                "every message is a corrected version." if corrected == len(targets) else
                f"{corrected} corrected, {len(targets) - corrected} as received.")) if corrected else " Each goes as received."
            if targets[0].submission is not None:
                to = sorted({r for t in targets for r in t.submission.recipients})
                which += (f" Only to the recipients that have not processed it: {', '.join(to)}. The same Message-ID "
                          "goes again, so the new MDNs pair to it.")
            lines.append(f"Resend {len(targets)} message{'s' if len(targets) != 1 else ''} of {targets[0].interface} to "
                         f"{channel} (write class: {classes}).{which}")
        lines += [f"Not resent: item {i}: {why}" for i, why in self.refused]
        return "\n".join(lines) or "Nothing to resend."


@dataclass
class Outcome:
    item_id: int
    destination: str
    state: str  # accepted, error, rejected, failed, unknown, conflict
    detail: str
    attempt_id: int | None = None


class Configure:
    """Set an interface's resend destination, write switch and how long its answers may take
    (an HL7 ACK, or a Direct message's processed MDN; a dispatched MDN when it was asked
    for); the change is audited."""

    changes = Changes(interfaces=True, audit=True)

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(self, interface_id: int, *, host: str | None = None, port: int | None = None,
            write_class: str | None = None, write_enabled: bool | None = None, tls: bool | None = None,
            tls_ca: str | None = None, tls_cert: str | None = None, tls_key: str | None = None,
            ack_timeout_s: int | None = None, dispatch_timeout_s: int | None = None) -> dict:
        """Change what is given (None leaves a setting alone; "" clears a TLS file)."""
        if write_class is not None and write_class not in WriteClass.values():
            raise CommandError(f"The write class is one of: {', '.join(WriteClass.values())}.")
        given = {"resend_host": host, "resend_port": port, "write_class": write_class, "write_enabled": write_enabled,
                 "resend_tls": tls, "resend_tls_ca": tls_ca, "resend_tls_cert": tls_cert, "resend_tls_key": tls_key,
                 "ack_timeout_s": ack_timeout_s, "dispatch_timeout_s": dispatch_timeout_s}
        values = {k: (v or None) if k.startswith("resend_tls_") else v for k, v in given.items() if v is not None}
        with self.ctx.store.begin() as conn:
            row = interfaces.get(conn, interface_id)
            if row is None:
                raise CommandError(f"Interface {interface_id} does not exist.")
            before = {k: getattr(row, k) for k in given}
            after = {**before, **values}
            if after["write_enabled"] and (not after["resend_host"] or not after["resend_port"]
                                           or after["write_class"] == WriteClass.NONE):
                raise CommandError("Writes can be enabled only for an interface with a destination and a write class.")
            if after["resend_tls"]:
                _check_tls_files(after)
            interfaces.set_values(conn, interface_id, **values)
            audit.append(conn, actor=self.ctx.who(conn), action=AuditAction.CONFIGURE_INTERFACE, at=self.ctx.now(),
                         before={"interface": interface_id, **before}, after={"interface": interface_id, **after})
        return after


def _check_tls_files(settings: dict) -> None:
    """A TLS setting that cannot work is refused when it is made, not when a resend needs it."""
    if bool(settings["resend_tls_cert"]) != bool(settings["resend_tls_key"]):
        raise CommandError("A client certificate needs its key, and a key its certificate.")
    try:
        Tls(settings["resend_tls_ca"], settings["resend_tls_cert"], settings["resend_tls_key"]).context()
    except (OSError, ssl.SSLError) as exc:
        raise CommandError(f"The TLS files cannot be used: {exc}") from exc


class Resend:
    changes = WRITE  # plan changes nothing; run does
    def __init__(self, ctx: Context, *, ack_timeout: float = 30.0, connect_timeout: float = 10.0,
                 min_interval_s: float = 0.0, progress: Progress | None = None) -> None:
        self.ctx, self.ack_timeout, self.connect_timeout, self.min_interval_s = ctx, ack_timeout, connect_timeout, min_interval_s
        self.progress = progress or Progress()  # told of each message as its outcome is known

    # -- what would go where ------------------------------------------------------------
    def plan(self, items: dict[int, int | None], *, after_unknown: bool = False, again: bool = False,
             to: tuple[str, int] | None = None) -> Plan:
        """What would go where; `to` sends to another host and port than the interface's
        (a test receiver, a failover), still only for write-enabled interfaces."""
        plan = Plan(after_unknown=after_unknown, again=again)
        with self.ctx.store.read() as conn:
            for item_id, seen in items.items():
                why = self._target(conn, item_id, seen, plan, to)
                if why:
                    plan.refused.append((item_id, why))
        return plan

    def _target(self, conn: Tx, item_id: int, seen: int | None, plan: Plan, to: tuple[str, int] | None) -> str | None:
        item = queue.get(conn, item_id)
        if item is None:
            return "no such queue item"
        if seen is not None and item.row_version != seen:
            return "someone else changed it; look again"
        if item.message_id is None:
            return "it is about a whole file, not one message"
        msg = messages.row(conn, item.message_id, "id", "interface_id", "parse_state")
        if (mail := direct.undelivered(conn, msg.id)) is not None:
            return self._direct_target(conn, item, msg, mail, plan, to)
        if msg.parse_state == ParseState.UNPARSEABLE:
            return "its message is not readable HL7; correct it first"
        iface = interfaces.get(conn, msg.interface_id) if msg.interface_id else None
        if iface is None:
            return "its message belongs to no interface"
        how = (f"set it in Resend settings… (right-click {iface.name} in the sidebar) or with "
               f"`lanewatch interface set {iface.id} --resend-to HOST:PORT --write-class clinical --writes on`")
        if not iface.write_enabled:
            plan.unset.add(iface.id)
            return f"writes are not enabled for {iface.name}: {how}"
        host, port = to or (iface.resend_host, iface.resend_port)
        if not host or not port:
            plan.unset.add(iface.id)
            return f"{iface.name} has no resend destination: {how}"
        return self._add(conn, plan, item, msg.id, iface.name, iface.write_class, host, port, tls=Tls.of(iface))

    def _direct_target(self, conn: Tx, item, msg, mail: tuple[str | None, list[str]], plan: Plan,
                       to: tuple[str, int] | None) -> str | None:
        sender, waiting = mail
        if to is not None:
            return "a Direct message goes to its mailbox's SMTP server; another destination is for MLLP only"
        if not waiting:
            return "every recipient has processed it: there is nothing to resend"
        box = mailboxes.submitting_for(conn, sender)
        if box is None:
            return (f"no mailbox submits mail for {sender or 'its unknown sender'}: give the mailbox that sends as it "
                    "an SMTP server (`lanewatch mailbox set NAME --smtp-host HOST --writes on`)")
        if not box.writes_enabled:
            return f"writes are not enabled for mailbox {box.name}: `lanewatch mailbox set {box.name} --writes on`"
        iface = interfaces.get(conn, msg.interface_id) if msg.interface_id else None
        server = smtp.Submission(box.smtp_host, box.smtp_port, box.smtp_security, box.username, None, box.ca_file)
        return self._add(conn, plan, item, msg.id, iface.name if iface else "Direct", WriteClass.CLINICAL, box.smtp_host,
                         box.smtp_port, submission=DirectRoute(box.name, server, sender, waiting))

    @staticmethod
    def _add(conn: Tx, plan: Plan, item, message_id: int, interface: str, write_class: str, host: str, port: int,
             **how) -> str | None:
        """Plan the item's message, unless its guard holds it or another chosen item sends it."""
        lineage = messages.lineage(conn, message_id)
        if why := lineage_guard(conn, lineage[0], plan):
            plan.held.add("after_unknown" if "unknown" in why else "again")
            return why
        if any(t.original_id == lineage[0] for t in plan.targets):
            return "another chosen item sends the same message; it goes once"
        plan.targets.append(Target(item.id, item.row_version, lineage[-1], lineage[0], interface, write_class, host, port,
                                   **how))
        return None

    # -- sending ------------------------------------------------------------------------
    def run(self, plan: Plan) -> list[Outcome]:
        """Send what the plan holds, one serial queue per destination; returns every outcome."""
        async def all_destinations() -> list[list[Outcome]]:
            return await asyncio.gather(*(self._destination(t, plan) for t in plan.by_destination().values()))

        self.progress.started(len(plan.targets))
        outcomes = [o for outcomes in asyncio.run(all_destinations()) for o in outcomes]
        self.progress.finished()
        return outcomes

    async def _destination(self, targets: list[Target], plan: Plan) -> list[Outcome]:
        """One destination's serial queue: chunks are claimed (attempts recorded) in one
        transaction, sent one by one in order, and their outcomes recorded in one more."""
        first = targets[0]
        if first.submission is not None:
            return await self._submit(targets, plan)
        try:
            tls = first.tls.context() if first.tls else None
        except (OSError, ssl.SSLError) as exc:  # its files went away since they were set: nothing is sent
            return [Outcome(t.item_id, t.destination, AttemptState.FAILED,
                            f"the TLS files cannot be used ({exc}); nothing was sent")
                    for t in targets]
        client = Client(first.host, first.port, tls=tls, connect_timeout=self.connect_timeout,
                        ack_timeout=self.ack_timeout, retries=1)
        loop, outcomes = asyncio.get_running_loop(), []
        try:
            for start in range(0, len(targets), CHUNK):
                claimed, refused = await loop.run_in_executor(None, self._claim, targets[start:start + CHUNK], plan)
                outcomes += refused
                results = []
                for t, attempt_id, raw in claimed:
                    if results and self.min_interval_s:
                        await asyncio.sleep(self.min_interval_s)
                    results.append((t, attempt_id, *await self._send(client, raw)))
                    self.progress.advanced(len(raw), 1)
                await loop.run_in_executor(None, self._finish, results)
                outcomes += [Outcome(t.item_id, t.destination, state, detail, attempt_id)
                             for t, attempt_id, state, _, detail, _ in results]
        finally:
            await client.close()
        return outcomes

    async def _submit(self, targets: list[Target], plan: Plan) -> list[Outcome]:
        """A mailbox's serial queue of Direct messages: claimed as MLLP ones are, each handed to
        its SMTP server in its own session, outcomes recorded per chunk."""
        loop, outcomes = asyncio.get_running_loop(), []
        d = targets[0].submission
        password = await loop.run_in_executor(None, secrets.get, mailbox_owner(d.mailbox), "mailbox_password")
        server = replace(d.server, password=password)
        for start in range(0, len(targets), CHUNK):
            claimed, refused = await loop.run_in_executor(None, self._claim, targets[start:start + CHUNK], plan)
            outcomes += refused
            results = []
            for t, attempt_id, raw in claimed:
                state, words = await loop.run_in_executor(None, smtp.submit, server, t.submission.sender,
                                                          t.submission.recipients, raw, self.ack_timeout)
                results.append((t, attempt_id, state, None, words, None))
                self.progress.advanced(len(raw), 1)
            await loop.run_in_executor(None, self._finish, results)
            outcomes += [Outcome(t.item_id, t.destination, state, detail, attempt_id)
                         for t, attempt_id, state, _, detail, _ in results]
        return outcomes

    async def _send(self, client: Client, raw: bytes) -> tuple[str, str | None, str, bytes | None]:
        """(state, ACK code, words, the answer's bytes) of one message."""
        try:
            await client.ensure_connected()
        except MllpError as exc:
            return AttemptState.FAILED, None, f"{exc} (the message did not leave this machine)", None
        try:
            answer = await client.send(raw)
        except MllpError as exc:  # it may have arrived: only the receiver knows
            return AttemptState.UNKNOWN, None, str(exc), None
        return (*self._judge(raw, answer), answer)

    @staticmethod
    def _judge(sent: bytes, answer: bytes) -> tuple[str, str | None, str]:
        ours, theirs = scan(sent), scan(answer)
        code = theirs["ack_code"]
        if not code:
            return AttemptState.UNKNOWN, None, "the answer is not an ACK; whether the receiver has the message is unknown"
        if theirs["ack_control_id"] != ours["control_id"]:
            return (AttemptState.UNKNOWN, code, f"the answer is for control ID {theirs['ack_control_id']!r}, not "
                                     f"{ours['control_id']!r}; whether the receiver has the message is unknown")
        state = OUTCOMES.get(code, AttemptState.UNKNOWN)
        words = "; ".join(filter(None, [theirs["ack_text"]] + [e.get("text") or e.get("user_text") for e in theirs["errors"] or []]))
        return state, code, f"the receiver answered {code}" + (f": {words}" if words else "")

    def _claim(self, targets: list[Target], plan: Plan) -> tuple[list[tuple[Target, int, bytes]], list[Outcome]]:
        """Take each item (compare-and-set on its row version) and record its attempt, all before
        anything leaves. An item someone else took first is left out and reported as a conflict."""
        claimed = []
        with self.ctx.store.begin() as conn:
            actor, now = self.ctx.who(conn), self.ctx.now()
            mine, refused = take(conn, targets, plan, now, "Not sent")
            if not mine:
                return [], refused
            by_mail = mine[0].submission is not None  # a destination's targets all go one way
            wire = {r.id: smtp.wire(r.raw) if by_mail else with_cr_terminators(r.raw, r.charset)
                    for r in messages.rows(conn, {t.message_id for t in mine}, "id", "raw", "charset")}
            started = attempts.start(conn, [dict(
                item_id=t.item_id, message_id=t.message_id, original_id=t.original_id, destination=t.destination,
                sent=wire[t.message_id], actor=actor, started_at=now) for t in mine])
            audit.append_many(conn, [dict(actor=actor, action=AuditAction.RESEND, at=now, item_id=t.item_id,
                                          message_id=t.message_id,
                                          before={"attempt": a, "destination": t.destination, "write_class": t.write_class,
                                                  **({"recipients": t.submission.recipients} if t.submission else {})},
                                          after={"state": AttemptState.SENDING}) for t, a in zip(mine, started)])
            for t, a in zip(mine, started):
                t.row_version += 1
                claimed.append((t, a, wire[t.message_id]))
        return claimed, refused

    def _finish(self, results: list[tuple[Target, int, str, str | None, str, bytes | None]]) -> None:
        """Record outcomes: the attempt, the answer (stored, so it pairs with what was sent),
        the item's triage state, a failed_resend item when it did not go through, the audit."""
        if not results:
            return
        with self.ctx.store.begin() as conn:
            actor, now = self.ctx.who(conn), self.ctx.now()
            answered = [r for r in results if r[5] is not None]
            stored = receive(conn, f"resend answers from {results[0][0].destination}", [r[5] for r in answered],
                             Pairing(self.ctx.now), now=now, transport="mllp", peer=results[0][0].host)
            answer_ids = {r[1]: i for r, i in zip(answered, stored.ids)}
            attempts.finish(conn, [{"id": a, "state": state, "ack_code": code, "answer_id": answer_ids.get(a), "detail": detail}
                                   for _, a, state, code, detail, _ in results], now)
            accepted = [(t, detail) for t, _, state, _, detail, _ in results if state == AttemptState.ACCEPTED]
            if accepted:
                queue.settle(conn, {t.item_id: t.row_version for t, _ in accepted}, TriageState.RESENT, now,
                             {t.item_id: f"resent to {t.destination}: {d}" for t, d in accepted})
                for t, _ in accepted:
                    t.row_version += 1
                    if t.submission is not None:
                        direct.resent(conn, t.original_id, t.submission.recipients, now)
                resolve_lineage(conn, [t for t, _ in accepted], actor, now)
            queue.add(conn, [queue.new(QueueKind.FAILED_RESEND, f"Resend to {t.destination} {state}: {detail}",
                                       Signature(QueueKind.FAILED_RESEND, t.destination, state), message_id=t.message_id,
                                       source_id=None, now=now)
                             for t, _, state, _, detail, _ in results if state != AttemptState.ACCEPTED])
            audit.append_many(conn, [dict(actor=actor, action=AuditAction.RESEND_OUTCOME, at=now, item_id=t.item_id,
                                          message_id=t.message_id, before={"attempt": a, "state": AttemptState.SENDING},
                                          after={"state": state, "ack_code": code, "answer_id": answer_ids.get(a)})
                                     for t, a, state, code, _, _ in results])


def lineage_guard(conn: Tx, original_id: int, plan: Plan) -> str | None:
    """Why a message (any of its versions, from any queue item) must not go now, or None.
    The newest attempt decides: unknown (or a `sending` whose process is gone) and accepted
    both need the person to say so."""
    last = attempts.last(conn, original_id)
    if last is None:
        return None
    when = last.started_at.strftime("%Y-%m-%d %H:%M")
    if last.state in BLOCKING_ATTEMPTS and not plan.after_unknown:
        return (f"an earlier attempt's outcome is unknown (resent to {last.destination} at {when}): the receiver may "
                "already have it (check with the receiver, then resend after an unknown outcome on purpose)")
    if last.state == AttemptState.ACCEPTED and not plan.again:
        return f"it was already resent to {last.destination} at {when} and accepted (send it again only on purpose)"
    return None


def resolve_lineage(conn: Tx, accepted: list, actor: str, now) -> None:
    """Once a message went through (a resend or a reprocess; each with item_id, original_id
    and destination), the other items about it are done: the original's NAK (if a follow-up
    item was resent), earlier failed resends. Each change is audited."""
    sent = {t.item_id for t in accepted}
    for t in accepted:
        others = [r for r in queue.about(conn, messages.lineage(conn, t.original_id), UNSETTLED_ITEMS)
                  if r.id not in sent]
        if not others:
            continue
        note = f"resolved: the resend of item {t.item_id} to {t.destination} was accepted"
        queue.settle(conn, {r.id: r.row_version for r in others}, TriageState.RESOLVED, now, note)
        audit.append_many(conn, [dict(actor=actor, action=AuditAction.RESOLVE, at=now, item_id=r.id,
                                      message_id=r.message_id, before={"triage_state": r.triage_state},
                                      after={"triage_state": TriageState.RESOLVED, "note": note}) for r in others])


def take(conn: Tx, targets: list, plan: Plan, now, refusal: str) -> tuple[list, list[Outcome]]:
    """Claim planned writes (each with item_id, row_version, original_id, destination) in the
    caller's transaction: the items' rows locked (PostgreSQL), then each kept only if it is
    still at the version planned (compare-and-set) and its message's guard still lets it go;
    the kept items' versions move on. Returns (kept, refused as conflicts)."""
    current = queue.lock(conn, [t.item_id for t in targets], now)
    # one message at a time across consoles: whoever holds the original's row checks its attempts
    messages.lock(conn, {t.original_id for t in targets})
    mine, refused = [], []
    for t in targets:
        row = current.get(t.item_id)
        if row is None or row.row_version != t.row_version:
            refused.append(Outcome(t.item_id, t.destination, AttemptState.CONFLICT, str(ConflictError(
                t.item_id, {"triage_state": row.triage_state, "owner": row.owner} if row else None))))
        elif why := lineage_guard(conn, t.original_id, plan):
            refused.append(Outcome(t.item_id, t.destination, AttemptState.CONFLICT, f"{refusal}: {why}."))
        else:
            mine.append(t)
    if mine:
        queue.bump(conn, {t.item_id: t.row_version for t in mine})
    return mine, refused
