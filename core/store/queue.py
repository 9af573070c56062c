"""The queue's one owner: every queue item is made, found and changed here.

An item refers to the record it is about by lane and id (`lane`, `message_id`: an HL7 v2
message today; an engine message, a Direct message or a FHIR exchange as those lanes
arrive, docs/architecture.md), or to a whole file (`source_id`). Its signature is a
`core.signatures.Signature`, stored rendered. Changes by a person are compare-and-set on
the row version (`change`); changes the system makes (a late ACK, a correction, an
accepted resend) move the version on too, so a console holding an older view is told.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, insert, select, update

from core.signatures import Signature
from core.store.bulk import update_many
from core.store.db import Store, Tx
from core.store.models import Message, QueueItem, Source
from core.vocabulary import NAK_KINDS, Lane, QueueKind, TriageState

Q, M, S = QueueItem.__table__, Message.__table__, Source.__table__


def new(kind: QueueKind, reason: str, signature: Signature, *, message_id: int | None, source_id: int | None,
        now: datetime, at: datetime | None = None, lane: Lane = Lane.HL7V2) -> dict:
    """A queue item row, ready for `add`. `at` is when the failure happened (the NAK's time,
    the message's, the moment its ACK became overdue), so a chart of open items over time
    tells when things failed, not when they were read; never later than now."""
    return {
        "lane": lane.value, "message_id": message_id, "source_id": source_id, "kind": kind.value, "reason": reason,
        "signature": signature.render(), "triage_state": TriageState.OPEN.value, "owner": None, "note": None,
        "created_at": min(at, now) if at else now, "updated_at": now, "row_version": 1,
    }


def add(conn: Tx, items: list[dict]) -> int:
    """Insert items made by `new`; returns how many."""
    if items:
        conn.execute(insert(Q), items)
    return len(items)


def add_unless_open(conn: Tx, item: dict) -> bool:
    """Insert the item unless one with its source and signature is still open (a watcher meets
    the same broken file on every poll); True when it was added."""
    if conn.execute(select(exists().where(Q.c.source_id == item["source_id"], Q.c.signature == item["signature"],
                                          Q.c.triage_state == TriageState.OPEN))).scalar():
        return False
    return bool(add(conn, [item]))


def add_unless_known(conn: Tx, item: dict) -> bool:
    """Insert the item unless its message already has one with its signature, in any state."""
    if conn.execute(select(Q.c.id).where(Q.c.message_id == item["message_id"], Q.c.signature == item["signature"])).first():
        return False
    return bool(add(conn, [item]))


def move_naks(conn: Tx, from_message: int, to_message: int, now: datetime) -> None:
    """An orphan NAK's items follow it to the message it turned out to answer."""
    conn.execute(update(Q).where(Q.c.message_id == from_message, Q.c.kind.in_(NAK_KINDS))
                 .values(message_id=to_message, updated_at=now))


def resolve_missing(conn: Tx, message_ids: list[int], now: datetime) -> None:
    """A late ACK closes the missing-ACK items it makes moot."""
    resolve_open(conn, message_ids, QueueKind.MISSING_ACK, "a late ACK arrived", now)


def resolve_open(conn: Tx, message_ids: list[int], kind: QueueKind, note: str, now: datetime) -> None:
    """The open items of a kind on these messages resolved by what the system learnt since (the note says what)."""
    if message_ids:
        conn.execute(update(Q).where(Q.c.message_id.in_(message_ids), Q.c.kind == kind,
                                     Q.c.triage_state == TriageState.OPEN)
                     .values(triage_state=TriageState.RESOLVED, note=note, updated_at=now,
                             row_version=Q.c.row_version + 1))


def get(conn: Tx, item_id: int):
    return conn.execute(select(Q).where(Q.c.id == item_id)).first()


def change(conn: Tx, item_id: int, row_version: int, values: dict, now: datetime) -> bool:
    """Set values on an item if it is still at row_version (compare-and-set); True when it was."""
    done = conn.execute(update(Q).where(Q.c.id == item_id, Q.c.row_version == row_version)
                        .values(**values, updated_at=now, row_version=row_version + 1))
    return done.rowcount == 1


def settle(conn: Tx, versions: dict[int, int], state: TriageState, now: datetime, notes: str | dict[int, str]) -> None:
    """Move items (id -> the row version held) to a state the system decided, with a note
    (one for all, or one per item); their versions move on."""
    update_many(conn, Q, [{"id": i, "triage_state": state.value, "note": notes if isinstance(notes, str) else notes[i],
                           "updated_at": now, "row_version": v + 1} for i, v in versions.items()],
                ["triage_state", "note", "updated_at", "row_version"])


def bump(conn: Tx, versions: dict[int, int]) -> None:
    """Move items' row versions on (id -> the version seen): a resend's claim."""
    update_many(conn, Q, [{"id": i, "row_version": v + 1} for i, v in versions.items()], ["row_version"])


def lock(conn: Tx, item_ids: list[int], now: datetime) -> dict:
    """The items' rows, locked for this transaction (PostgreSQL takes row locks by writing)."""
    conn.execute(update(Q).where(Q.c.id.in_(item_ids)).values(updated_at=now))
    return {r.id: r for r in conn.execute(select(Q.c.id, Q.c.row_version, Q.c.triage_state, Q.c.owner)
                                          .where(Q.c.id.in_(item_ids)))}


def about(conn: Tx, message_ids: list[int], states: tuple[TriageState, ...]) -> list:
    """The items about these messages in these states (id, state, version, message)."""
    return conn.execute(select(Q.c.id, Q.c.triage_state, Q.c.row_version, Q.c.message_id)
                        .where(Q.c.message_id.in_(message_ids), Q.c.triage_state.in_(states))).all()


# -- reading -------------------------------------------------------------------------------
@dataclass
class QueueFilter:
    states: list[str] | None = None
    kinds: list[str] | None = None
    signature: str | None = None
    interface_id: int | None = None
    owner: str | None = None  # "" means unassigned
    older_than: datetime | None = None  # created before this
    ids: list[int] | None = None
    message_ids: list[int] | None = None  # items about these messages

    def where(self) -> list:
        w = []
        if self.ids is not None:
            w.append(Q.c.id.in_(self.ids))
        if self.message_ids is not None:
            w.append(Q.c.message_id.in_(self.message_ids))
        if self.states:
            w.append(Q.c.triage_state.in_(self.states))
        if self.kinds:
            w.append(Q.c.kind.in_(self.kinds))
        if self.signature is not None:
            w.append(Q.c.signature == self.signature)
        if self.interface_id is not None:
            w.append(Q.c.message_id.in_(select(M.c.id).where(M.c.interface_id == self.interface_id)))
        if self.owner is not None:
            w.append(Q.c.owner.is_(None) if self.owner == "" else Q.c.owner == self.owner)
        if self.older_than is not None:
            w.append(Q.c.created_at < self.older_than)
        return w


def items(store: Store, flt: QueueFilter | None = None, *, states: list[str] | None = None,
          kinds: list[str] | None = None, limit: int | None = None) -> list[dict]:
    """Queue items, newest first, with the file they came from and their message's keys."""
    flt = flt or QueueFilter(states=states, kinds=kinds)
    stmt = (select(Q, S.c.path.label("source"), M.c.control_id, M.c.message_type, M.c.patient_id, M.c.patient_name,
                   M.c.message_time, M.c.interface_id)
            .join(S, S.c.id == Q.c.source_id, isouter=True).join(M, M.c.id == Q.c.message_id, isouter=True)
            .where(*flt.where()).order_by(Q.c.id.desc()).limit(limit))
    with store.read() as conn:
        return [r._asdict() for r in conn.execute(stmt)]


def versions(store: Store, flt: QueueFilter) -> dict[int, int]:
    """The items the filter shows, each with its row version: what a group action covers."""
    with store.read() as conn:
        return {r.id: r.row_version for r in conn.execute(select(Q.c.id, Q.c.row_version).where(*flt.where()))}


def count(store: Store, flt: QueueFilter) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(Q).where(*flt.where())).scalar_one()


def groups(store: Store, flt: QueueFilter | None = None, *, states: list[str] | None = None) -> list[dict]:
    """Queue items grouped by signature: kind, count, newest and oldest, newest group first."""
    flt = flt or QueueFilter(states=states)
    stmt = (select(Q.c.signature, func.min(Q.c.kind).label("kind"), func.count().label("items"),
                   func.max(Q.c.created_at).label("newest"), func.min(Q.c.created_at).label("oldest"),
                   func.min(Q.c.reason).label("example"))
            .where(*flt.where()).group_by(Q.c.signature).order_by(func.max(Q.c.created_at).desc(), Q.c.signature))
    with store.read() as conn:
        return [r._asdict() for r in conn.execute(stmt)]
