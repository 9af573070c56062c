"""The Direct lane in the store: each mail's facts (`direct_mail`, beside its row in
`messages`), one delivery per recipient of each Direct message (`direct_deliveries`), the
notices (MDNs, DSNs) paired to them in either order of arrival, and their timeouts.

A Direct message's interface is its sender's domain to its (first) recipient's domain; a
notice belongs to the interface of the message it answers, else to the reverse pair.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select

from core.direct import delivery
from core.direct.mail import Mail, Notice
from core.signatures import Signature, normalise
from core.store import interfaces, messages, queue
from core.store.bulk import update_many
from core.store.db import Store, Tx
from core.store.models import DirectDelivery, DirectMail, Interface, Message, QueueItem
from core.vocabulary import AckState, Disposition, Lane, QueueKind, TriageState

DM, DD, I, M, Q = (DirectMail.__table__, DirectDelivery.__table__, Interface.__table__, Message.__table__,
                   QueueItem.__table__)
_TIMED_OUT_KINDS = (QueueKind.DIRECT_TIMED_OUT.value,)


def domain(address: str | None) -> str:
    return address.rpartition("@")[2] if address and "@" in address else (address or "?")


# -- before the rows go in ---------------------------------------------------------------
def prepare(conn: Tx, rows: list[dict]) -> None:
    """Give each mail row its interface (made on first sight) and no ACK expectation of the HL7 kind."""
    stored = _originals(conn, {r["mail"].in_reply_to for r in rows if r["mail"].is_notice and r["mail"].in_reply_to})
    originals = {k: v["interface_id"] for k, v in stored.items()}
    made: dict[tuple[str, str], int] = {}  # (sender, receiver domain) -> interface: one look-up a pair per batch
    for row in rows:
        mail: Mail = row["mail"]
        known = originals.get(mail.in_reply_to) if mail.is_notice else None
        ends = (domain(mail.sender), domain(mail.recipients[0] if mail.recipients else None))
        iface = known or made.get(ends) or made.setdefault(ends, _interface(conn, *ends))
        if not mail.is_notice and mail.message_id:
            originals[mail.message_id] = iface  # its notices later in this batch belong to it too
        row.update(interface=(iface, False, None), expects_ack=False)


def _interface(conn: Tx, sender: str, receiver: str) -> int:
    return interfaces.of_lane(conn, Lane.DIRECT, f"{sender}>{receiver}", f"{_short(sender)} → {_short(receiver)}", sender,
                              receiver, ack_timeout_s=int(delivery.PROCESSED_WINDOW.total_seconds()))


def _short(domain_name: str) -> str:
    """A domain as an interface's name shows it: without a leading "direct." and its last label
    (heartcare-cardiology for direct.heartcare-cardiology.example); the whole one is kept beside it."""
    labels = domain_name.removeprefix("direct.").split(".")
    return ".".join(labels[:-1]) if len(labels) > 1 else labels[0]


def _originals(conn: Tx, ids: set[str]) -> dict[str, dict]:
    """The latest Direct message stored under each Message-ID."""
    if not ids:
        return {}
    found = conn.execute(select(DM.c.message_id, DM.c.header_id, DM.c.recipients, M.c.interface_id)
                         .join(M, M.c.id == DM.c.message_id)
                         .where(DM.c.header_id.in_(list(ids)), DM.c.kind == "message").order_by(DM.c.message_id))
    return {r.header_id: r._asdict() for r in found}


# -- sealed mail, opened later -------------------------------------------------------------
READ_FROM_CONTENT = ("message_type", "control_id", "sending_app", "receiving_app", "message_time", "reason")


def sealed(conn: Tx) -> list:
    """Stored mail that was encrypted and could not be opened: its bytes, where and when."""
    found = conn.execute(select(M.c.id, M.c.raw, M.c.offset, M.c.source_id, M.c.event_time, DM.c.security)
                         .join(DM, DM.c.message_id == M.c.id).where(DM.c.encrypted.is_(True))).all()
    return [r for r in found if not (r.security or {}).get("decrypted")]


def reopen(conn: Tx, rows: list[dict], now: datetime) -> list[dict]:
    """Sealed mail now read (mail rows, each with its stored id, source and time): its
    message row takes what its content says (kind, keys, readable text, a notice's
    interface), its facts are recorded again as if it had just arrived (deliveries,
    pairing) and its "cannot be opened" item is resolved. Returns the queue items raised."""
    prepare(conn, rows)  # a notice belongs to the interface of the message it answers
    update_many(conn, M, [{"id": r["id"], "interface_id": r["interface"][0], **{c: r[c] for c in READ_FROM_CONTENT}}
                          for r in rows], ["interface_id", *READ_FROM_CONTENT])
    messages.add_text(conn, rows)
    ids = [r["id"] for r in rows]
    conn.execute(delete(DM).where(DM.c.message_id.in_(ids)))
    queue.resolve_open(conn, ids, QueueKind.DIRECT_UNSECURED, "opened with the key added for it", now)
    return record(conn, rows, now)


# -- after -------------------------------------------------------------------------------
def record(conn: Tx, rows: list[dict], now: datetime) -> list[dict]:
    """Record stored mail rows: their facts, a delivery per recipient of each message, and
    every notice paired to its message (one that came first waits for it). Returns the
    queue items raised (failures, notices that cannot be paired). A batch's pairing is a
    few statements, however many notices it holds."""
    conn.execute(insert(DM), [_facts(r["id"], r["mail"]) for r in rows])
    items: list[dict] = []
    pending: list[tuple[dict, str, list[Notice]]] = []  # (the notice's row, the Message-ID it answers, what it says)
    messages = [r for r in rows if not r["mail"].is_notice and not r["mail"].sealed]  # a sealed one may be a notice
    if messages:
        conn.execute(insert(DD), [{"message_id": r["id"], "recipient": to[:320], "state": Disposition.SENT,
                                   "asks_dispatched": r["mail"].asks_dispatched, "sent_at": r["event_time"],
                                   "updated_at": now} for r in messages for to in r["mail"].recipients])
        summarise(conn, {r["id"] for r in messages})
        waiting = conn.execute(select(DM.c.message_id, DM.c.original_id, DM.c.notices, M.c.event_time, M.c.source_id)
                               .join(M, M.c.id == DM.c.message_id)
                               .where(DM.c.original_id.in_([r["mail"].message_id for r in messages if r["mail"].message_id]),
                                      DM.c.paired_with.is_(None), DM.c.kind != "message")).all()
        pending += [({"id": w.message_id, "event_time": w.event_time, "source_id": w.source_id}, w.original_id,
                     [Notice(**n) for n in w.notices]) for w in waiting]  # notices that arrived before their message
    for r in rows:
        mail: Mail = r["mail"]
        if not mail.is_notice:
            continue
        malformed = [p for p in mail.problems if not p.startswith("no Message-ID") and not p.startswith("no From")]
        if malformed:
            items.append(queue.new(
                QueueKind.DIRECT_MALFORMED, f"{'An' if mail.kind == 'mdn' else 'A'} {mail.kind.upper()} from "
                f"{mail.sender or 'an unknown sender'} that cannot be fully read: {'; '.join(malformed)}. It is kept; "
                "check the sending HISP's notices.",
                Signature(QueueKind.DIRECT_MALFORMED, domain(mail.sender), normalise(malformed[0])),
                message_id=r["id"], source_id=r["source_id"], now=now, at=r["event_time"]))
        if mail.in_reply_to:
            pending.append((r, mail.in_reply_to, mail.notices))
    items += [_unsecured(r, now) for r in rows if r["mail"].trouble]
    return items + _pair(conn, pending, now)


def _unsecured(row: dict, now: datetime) -> dict:
    """The queue item of a message that cannot be opened, or whose signature does not hold."""
    mail: Mail = row["mail"]
    what = {"message": "message", "mdn": "MDN", "dsn": "DSN"}[mail.kind]
    after = ("What it carries is not read; it is kept as it came." if mail.sealed else
             "What it carries was read, but it is not proven to come from its sender: ask the sending HISP.")
    return queue.new(QueueKind.DIRECT_UNSECURED, f"A Direct {what} from {mail.sender or 'an unknown sender'}: "
                     f"{'; '.join(mail.trouble)}. {after}",
                     Signature(QueueKind.DIRECT_UNSECURED, domain(mail.sender), normalise(mail.trouble[0])),
                     message_id=row["id"], source_id=row["source_id"], now=now, at=row["event_time"])


def _facts(message_id: int, mail: Mail) -> dict:
    return {"message_id": message_id, "kind": mail.kind, "header_id": (mail.message_id or "")[:500] or None,
            "original_id": (mail.in_reply_to or "")[:500] or None, "sender": (mail.sender or "")[:320] or None,
            "recipients": mail.recipients, "subject": mail.subject, "sent_at": mail.sent_at, "signed": mail.signed,
            "encrypted": mail.encrypted, "asks_dispatched": mail.asks_dispatched,
            "attachments": [vars(a) for a in mail.attachments], "notices": [vars(n) for n in mail.notices],
            "reporter": (mail.reporter or "")[:500] or None, "problems": mail.problems, "paired_with": None,
            "security": mail.security()}


def _pair(conn: Tx, pending: list[tuple[dict, str, list[Notice]]], now: datetime) -> list[dict]:
    """Apply notices to the deliveries of the messages they answer, those stored yet (of
    several under one Message-ID, the latest sent to the recipient a notice speaks for)."""
    if not pending:
        return []
    candidates: dict[str, list] = {}
    for c in conn.execute(select(DM.c.message_id, DM.c.header_id, DM.c.recipients).where(
            DM.c.header_id.in_({o for _, o, _ in pending}), DM.c.kind == "message").order_by(DM.c.message_id.desc())):
        candidates.setdefault(c.header_id, []).append(c)
    chosen = {}
    for notice_row, original_id, notices in pending:
        speaks_for = {n.recipient for n in notices if n.recipient}
        found = candidates.get(original_id, [])
        original = next((c for c in found if speaks_for & set(c.recipients)), found[0] if found else None)
        if original is not None:
            chosen[notice_row["id"]] = original.message_id
    deliveries: dict[int, dict[str, dict]] = {}
    if chosen:
        for d in conn.execute(select(DD).where(DD.c.message_id.in_(set(chosen.values())))):
            deliveries.setdefault(d.message_id, {})[d.recipient] = d._asdict()
    items, changed, paired = [], {}, []
    for notice_row, _, notices in sorted(pending, key=lambda p: p[0]["id"]):
        original = chosen.get(notice_row["id"])
        rows = deliveries.get(original, {})
        applies = [(n, rows.get(n.recipient) if n.recipient else (next(iter(rows.values())) if len(rows) == 1 else None))
                   for n in notices]
        applies = [(n, d) for n, d in applies if d is not None]
        if not applies:
            continue  # not stored yet, or it speaks for nobody the message went to: left unpaired (see `unpaired`)
        paired.append({"id": notice_row["id"], "original": original})
        at = notice_row["event_time"] or now
        for n, d in applies:
            before = d["state"]
            kind = delivery.advance(d, n, at)
            d.update(notice_id=notice_row["id"], updated_at=now)
            changed[d["id"]] = d
            if before == Disposition.TIMED_OUT and d["state"] != before:
                _settle_timeout(conn, original, d["recipient"], d["state"], now)
            if kind is not None:
                items.append(_failure(kind, d, original, notice_row["source_id"], now, at))
    update_many(conn, DM, [{"message_id": p["id"], "paired_with": p["original"]} for p in paired], ["paired_with"],
                key="message_id")
    update_many(conn, M, [{"id": p["id"], "is_ack": True, "answers_id": p["original"]} for p in paired],
                ["is_ack", "answers_id"])
    update_many(conn, DD, list(changed.values()), ["state", "processed_at", "dispatched_at", "failed_at", "words",
                                                   "notice_id", "updated_at"])
    summarise(conn, {d["message_id"] for d in changed.values()})
    return items


# the message's own ACK state, from its recipients': the worst one decides
_AS_ACK = {Disposition.DELIVERY_FAILED: AckState.REJECTED, Disposition.FAILED: AckState.ERROR,
           Disposition.TIMED_OUT: AckState.MISSING, Disposition.SENT: AckState.PENDING,
           Disposition.PROCESSED: AckState.ACCEPTED, Disposition.DISPATCHED: AckState.ACCEPTED}
_WORST = list(_AS_ACK)


def summarise(conn: Tx, message_ids: set[int]) -> None:
    """Set each Direct message's ACK state from where it stands with its recipients, so the
    Messages grid, its state filter and the Board read the document lane as they read HL7."""
    if not message_ids:
        return
    states: dict[int, set[str]] = {}
    for r in conn.execute(select(DD.c.message_id, DD.c.state).where(DD.c.message_id.in_(message_ids))):
        states.setdefault(r.message_id, set()).add(r.state)
    update_many(conn, M, [{"id": m, "ack_state": _AS_ACK[next(w for w in _WORST if w in found)].value}
                          for m, found in states.items()], ["ack_state"])


def _failure(kind: QueueKind, d: dict, original: int, source_id: int, now: datetime, at: datetime) -> dict:
    words = d["words"] or ""
    what = "the receiver's MDN says the message failed" if kind == QueueKind.DIRECT_FAILED else (
        "the message could not be delivered (DSN)")
    return queue.new(kind, f"{d['recipient']}: {what}" + (f": {words}" if words else ""),
                     Signature(kind, domain(d["recipient"]), normalise(words.split("\n")[0])),
                     message_id=original, source_id=source_id, now=now, at=at)


def _settle_timeout(conn: Tx, message_id: int, recipient: str, state: str, now: datetime) -> None:
    open_items = {i.id: i.row_version for i in conn.execute(
        select(Q.c.id, Q.c.row_version, Q.c.reason).where(Q.c.message_id == message_id, Q.c.kind.in_(_TIMED_OUT_KINDS),
                                                           Q.c.triage_state == TriageState.OPEN))
        if i.reason.startswith(f"{recipient}:")}
    if open_items:
        queue.settle(conn, open_items, TriageState.RESOLVED, now, f"a late notice came: {state}")


# -- timeouts ------------------------------------------------------------------------------
def sweep(conn: Tx, now: datetime) -> int:
    """Time out deliveries whose notice is overdue; returns the items raised."""
    soonest = now - min(delivery.PROCESSED_WINDOW, timedelta(minutes=1))
    found = conn.execute(select(DD, M.c.source_id, I.c.ack_timeout_s, I.c.dispatch_timeout_s)
                         .join(M, M.c.id == DD.c.message_id).outerjoin(I, I.c.id == M.c.interface_id)
                         .where(DD.c.state.in_((Disposition.SENT, Disposition.PROCESSED)), DD.c.sent_at < soonest)).all()
    items, changes = [], []
    for r in found:
        d = r._asdict()
        processed = timedelta(seconds=r.ack_timeout_s) if r.ack_timeout_s else delivery.PROCESSED_WINDOW
        dispatched = timedelta(seconds=r.dispatch_timeout_s) if r.dispatch_timeout_s else delivery.DISPATCHED_WINDOW
        why = delivery.overdue(d, now, processed, dispatched)
        if why is None:
            continue
        changes.append({"id": d["id"], "state": Disposition.TIMED_OUT.value, "updated_at": now})
        items.append(queue.new(QueueKind.DIRECT_TIMED_OUT, f"{d['recipient']}: {why}.",
                               Signature(QueueKind.DIRECT_TIMED_OUT, domain(d["recipient"]),
                                         "no dispatched MDN" if d["state"] == Disposition.PROCESSED else "no processed MDN"),
                               message_id=d["message_id"], source_id=r.source_id, now=now,
                               at=d["sent_at"] + (dispatched if d["state"] == Disposition.PROCESSED else processed)))
    if changes:
        update_many(conn, DD, changes, ["state", "updated_at"])
        timed_out = {c["id"] for c in changes}
        summarise(conn, {r.message_id for r in found if r.id in timed_out})
    return queue.add(conn, items)


# -- reads ---------------------------------------------------------------------------------
def deliveries(store: Store, *, message_id: int | None = None, states: list[str] | None = None,
               since: datetime | None = None, limit: int = 1000) -> list[dict]:
    """Deliveries with their message's facts, newest first."""
    stmt = (select(DD, DM.c.header_id, DM.c.sender, DM.c.subject, DM.c.attachments, DM.c.signed, DM.c.encrypted)
            .join(DM, DM.c.message_id == DD.c.message_id).order_by(DD.c.sent_at.desc(), DD.c.id.desc()).limit(limit))
    if message_id is not None:
        stmt = stmt.where(DD.c.message_id == message_id)
    if states:
        stmt = stmt.where(DD.c.state.in_(states))
    if since is not None:
        stmt = stmt.where(DD.c.sent_at >= since)
    with store.read() as conn:
        return [r._asdict() for r in conn.execute(stmt)]


def states_by_interface(store: Store, since: datetime) -> dict[int, dict[str, int]]:
    """Deliveries sent since `since`, counted by state, per interface (alerts, the board)."""
    out: dict[int, dict[str, int]] = {}
    with store.read() as conn:
        for iface, state, n in conn.execute(select(M.c.interface_id, DD.c.state, func.count())
                                            .join(M, M.c.id == DD.c.message_id).where(DD.c.sent_at >= since)
                                            .group_by(M.c.interface_id, DD.c.state)):
            out.setdefault(iface, {})[state] = n
    return out


def mail(store: Store, message_id: int) -> dict | None:
    """A mail's facts, and for a Direct message its notices in the order they came."""
    with store.read() as conn:
        row = conn.execute(select(DM).where(DM.c.message_id == message_id)).first()
        if row is None:
            return None
        out = row._asdict()
        out["timeline"] = [n._asdict() for n in conn.execute(
            select(DM.c.message_id, DM.c.kind, DM.c.notices, DM.c.reporter, M.c.event_time)
            .join(M, M.c.id == DM.c.message_id).where(DM.c.paired_with == message_id).order_by(M.c.event_time, M.c.id))]
    return out


def unpaired(store: Store, limit: int = 1000) -> list[dict]:
    """Notices whose message is not stored here, with why they cannot be paired."""
    with store.read() as conn:
        found = conn.execute(select(DM.c.message_id, DM.c.kind, DM.c.sender, DM.c.original_id, DM.c.notices, DM.c.problems)
                             .where(DM.c.kind != "message", DM.c.paired_with.is_(None))
                             .order_by(DM.c.message_id).limit(limit)).all()
        known = set(conn.scalars(select(DM.c.header_id).where(
            DM.c.kind == "message", DM.c.header_id.in_({r.original_id for r in found if r.original_id}))))
    return [dict(r._asdict(), why=_why_unpaired(r, known)) for r in found]


def _why_unpaired(r, known: set[str]) -> str:
    if r.original_id is None:
        return "it does not say which message it answers"
    if r.original_id not in known:
        return "the message it answers is not in this store"
    names = ", ".join(n["recipient"] for n in r.notices if n["recipient"]) or "no recipient"
    return f"it speaks for {names}, not a recipient of the message it answers"


# -- resend ------------------------------------------------------------------------------
UNDELIVERED = (Disposition.FAILED, Disposition.DELIVERY_FAILED, Disposition.TIMED_OUT, Disposition.SENT)


def undelivered(conn: Tx, message_id: int) -> tuple[str | None, list[str]] | None:
    """A Direct message's sender and the recipients that have not processed it (failed, not
    delivered, timed out, or still waiting), or None when it is no Direct message."""
    facts = conn.execute(select(DM.c.sender, DM.c.kind).where(DM.c.message_id == message_id)).first()
    if facts is None or facts.kind != "message":
        return None
    waiting = conn.execute(select(DD.c.recipient).where(DD.c.message_id == message_id, DD.c.state.in_(UNDELIVERED))
                           .order_by(DD.c.id)).scalars().all()
    return facts.sender, list(waiting)


def resent(conn: Tx, message_id: int, recipients: list[str], now: datetime) -> None:
    """The HISP took the message again for these recipients: each waits for its MDN afresh."""
    conn.execute(DD.update().where(DD.c.message_id == message_id, DD.c.recipient.in_(recipients)).values(
        state=Disposition.SENT, sent_at=now, processed_at=None, dispatched_at=None, failed_at=None, notice_id=None,
        words=None, updated_at=now))
    summarise(conn, {message_id})
