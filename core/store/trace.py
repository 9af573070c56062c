"""Trace: the chain a message belongs to, in time order with turnaround times.

- An order: ORM/OML (and its ACK) → ORU results (preliminary, final, corrected), joined by
  placer (ORC-2/OBR-2) and filler (ORC-3/OBR-3) order numbers; the filler number a result
  brings pulls in everything else that carries it. Order numbers repeat across patients and
  senders, so they join only within the same pair of systems and the same patient: a message
  with the number but another patient or other systems is counted and said, never merged.
- A visit: the ADT messages of one patient (PID-3) and visit number (PV1-19).
- A referral: the HL7 message that asked for it (REF, ORM, OMG or MDM of the patient its
  documents name, in the three days before), the Direct message, its MDNs and DSNs.
Reachable from any message of the chain (an ACK leads to the message it answers). The
result status (OBR-25) and visit number are read from the few messages of the chain
only: the cold path, never the ingest path.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from core.hl7.edit import get_value
from core.hl7.encoding import decode
from core.store.db import Store
from core.store.models import DirectMail, Document, Message

M = Message.__table__
DM, D = DirectMail.__table__, Document.__table__
ASKED_BY = ("REF", "ORM", "OMG", "MDM")  # the HL7 messages a referral is sent for
ASKED_WITHIN = timedelta(days=3)
RESULT_STATUS = {"P": "preliminary", "F": "final", "C": "corrected", "X": "cancelled", "I": "pending",
                 "A": "some results", "R": "not verified", "S": "partial"}
COLS = (M.c.id, M.c.event_time, M.c.message_type, M.c.control_id, M.c.placer_order, M.c.filler_order,
        M.c.patient_id, M.c.ack_state, M.c.ack_id, M.c.answers_id, M.c.is_ack, M.c.sending_app, M.c.receiving_app,
        M.c.ack_code, M.c.version_no, M.c.received_at)


@dataclass
class Step:
    message_id: int
    at: datetime
    what: str  # "ORM^O01 order", "ACK AA", "ORU^R01 result: final"
    route: str
    since_start: timedelta
    ack_state: str | None = None


@dataclass
class Trace:
    kind: str  # order, visit, or single (nothing to chain it with)
    key: str  # the order numbers or the patient and visit, in words
    steps: list[Step] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)  # patient IDs and visit numbers in the key: masked on screen
    notes: list[str] = field(default_factory=list)  # what was left out, and why
    turnarounds: dict[str, timedelta] = field(default_factory=dict)  # "order → final result": ...


def trace(store: Store, message_id: int) -> Trace:
    with store.read() as conn:
        start = conn.execute(select(*COLS).where(M.c.id == message_id)).first()
        if start is None:
            raise LookupError(f"no message {message_id}")
        if start.is_ack and start.answers_id:
            start = conn.execute(select(*COLS).where(M.c.id == start.answers_id)).first()
        kind = (start.message_type or "").split("^")[0]
        if kind == "Direct":
            return _referral(conn, start)
        if start.placer_order or start.filler_order:
            return _order(conn, start)
        if kind == "ADT" and start.patient_id:
            return _visit(conn, start)
        return _build("single", f"message {start.control_id}", conn, [start])


def _same_order(start, r) -> bool:
    """Another message of this order: the same systems (either way round) and the same patient
    (a message without a patient, such as some results, joins on its systems alone)."""
    systems = {start.sending_app, start.receiving_app}
    return ({r.sending_app, r.receiving_app} == systems
            and (not start.patient_id or not r.patient_id or r.patient_id == start.patient_id))


def _order(conn, start) -> Trace:
    placers, fillers = {start.placer_order} - {None}, {start.filler_order} - {None}
    found: dict[int, object] = {}
    other: set[int] = set()
    for _ in range(3):  # a filler number brought by a result pulls in what else carries it, and so on
        rows = conn.execute(select(*COLS).where(M.c.is_ack.is_(False), or_(
            M.c.placer_order.in_(placers or {""}), M.c.filler_order.in_(fillers or {""})))).all()
        before = len(found)
        for r in rows:
            if not _same_order(start, r):
                other.add(r.id)
                continue
            found[r.id] = r
            placers |= {r.placer_order} - {None}
            fillers |= {r.filler_order} - {None}
        if len(found) == before:
            break
    key = "placer " + ", ".join(sorted(placers)) + (f"; filler {', '.join(sorted(fillers))}" if fillers else "")
    out = _build("order", key, conn, list(found.values()))
    if other:
        out.notes.append(f"{len(other):,} other message{'s' if len(other) != 1 else ''} carry the same order number for "
                         "another patient or between other systems: not part of this order.")
    return out


def _visit(conn, start) -> Trace:
    visit = _field(conn, start.id, "PV1-19")
    rows = conn.execute(select(*COLS).where(M.c.patient_id == start.patient_id, M.c.is_ack.is_(False),
                                            M.c.message_type.like("ADT%"))).all()
    chain = [r for r in rows if not visit or _field(conn, r.id, "PV1-19") == visit]
    key = f"patient {start.patient_id}" + (f", visit {visit}" if visit else " (no visit number: every ADT message)")
    out = _build("visit", key, conn, chain)
    out.identifiers = [v for v in (start.patient_id, visit) if v]
    return out


def _referral(conn, start) -> Trace:
    notices = conn.execute(select(*COLS).where(M.c.answers_id == start.id, M.c.is_ack.is_(True))).all()
    patients = {p.rpartition(":")[2] for p in conn.execute(select(D.c.patient_id).where(
        D.c.message_id == start.id, D.c.patient_id.is_not(None))).scalars()} - {""}
    asked = conn.execute(select(*COLS).where(
        M.c.patient_id.in_(patients), M.c.is_ack.is_(False), M.c.event_time.between(start.event_time - ASKED_WITHIN,
                                                                                     start.event_time),
        or_(*(M.c.message_type.like(f"{k}^%") for k in ASKED_BY)))).all() if patients else []
    out = _build("referral", f"Direct message {start.control_id}", conn, [*asked, start, *notices])
    out.identifiers = sorted(patients)
    if patients and not asked:
        out.notes.append("No REF, ORM, OMG or MDM message of its patient in the three days before it is stored here.")
    elif not patients:
        out.notes.append("It carries no document naming a patient, so the HL7 message that asked for it cannot be found.")
    return out


def _direct_what(conn, r) -> str:
    facts = conn.execute(select(DM.c.recipients, DM.c.notices).where(DM.c.message_id == r.id)).first()
    if facts is None:
        return r.message_type
    if r.message_type == "Direct":
        return f"Direct message to {', '.join(facts.recipients) or 'nobody named'}"
    return f"{r.message_type}: " + "; ".join(f"{n['recipient'] or '?'} {n['disposition'] or 'no disposition'}"
                                             for n in facts.notices)


def _build(kind: str, key: str, conn, messages: list) -> Trace:
    acks = {a.id: a for a in conn.execute(select(*COLS).where(M.c.id.in_({m.ack_id for m in messages} - {None}))).all()}
    at = lambda r: r.received_at if r.version_no > 1 else r.event_time  # noqa: E731 - a correction carries MSH-7 of the original
    rows = sorted(messages + list(acks.values()), key=lambda r: (at(r), r.id))
    t0 = at(rows[0])
    out = Trace(kind, key)
    for r in rows:
        out.steps.append(Step(r.id, at(r), _what(conn, r), f"{r.sending_app or '?'} → {r.receiving_app or '?'}",
                              at(r) - t0, None if r.is_ack else r.ack_state))
    out.turnarounds = _turnarounds(out.steps)
    return out


def _what(conn, r) -> str:
    if r.message_type in ("Direct", "MDN", "DSN"):
        return _direct_what(conn, r)
    if r.is_ack:
        return f"ACK {r.ack_code or '?'}"
    if r.version_no > 1:  # a correction: when it was made, and whether it went out again
        return f"correction (version {r.version_no})" + (", resent" if r.ack_id else ", not resent yet")
    kind = (r.message_type or "?").split("^")[0]
    if kind in ("ORU", "OUL"):
        status = _field(conn, r.id, "OBR-25")
        return f"{r.message_type} result: {RESULT_STATUS.get(status or '', status or 'status not given')}"
    if kind in ("ORM", "OML", "OMG"):
        control = _field(conn, r.id, "ORC-1")
        return f"{r.message_type} order" + (f" ({control})" if control else "")
    return r.message_type or "?"


def _turnarounds(steps: list[Step]) -> dict[str, timedelta]:
    order = next((s for s in steps if " order" in s.what), None)
    out: dict[str, timedelta] = {}
    sent = next((s for s in steps if s.what.startswith("Direct message")), None)
    if sent is not None:
        for label, word in (("sent → first processed", " processed"), ("sent → dispatched", " dispatched")):
            hit = next((s for s in steps if s.what.startswith("MDN") and word in s.what), None)
            if hit:
                out[label] = hit.at - sent.at
        return out
    if order is None:
        if len(steps) > 1:
            out["first → last"] = steps[-1].at - steps[0].at
        return out
    ack = next((s for s in steps if s.what.startswith("ACK") and s.at >= order.at), None)
    if ack:
        out["order → ACK"] = ack.at - order.at
    for label in ("preliminary", "final", "corrected"):
        hit = next((s for s in steps if s.what.endswith(f"result: {label}")), None)
        if hit:
            out[f"order → {label} result"] = hit.at - order.at
    return out


def _field(conn, message_id: int, path: str) -> str | None:
    raw, charset = conn.execute(select(M.c.raw, M.c.charset).where(M.c.id == message_id)).one()
    try:
        return get_value(decode(raw, charset)[0], path) or None
    except ValueError:
        return None
