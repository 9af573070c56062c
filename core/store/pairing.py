"""Pairing of new messages: interfaces, duplicates, ACK pairing, missing ACKs.

Runs inside the transaction that stores them (core.store.messages.store_messages), on a batch of rows about to be inserted (with their
ids), so a message is inserted complete, and its ACK state, the older messages it settles
and its queue items are committed together.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, insert, or_, select, update

from core.correlate import ack_state_for, answered_lane, match_key, pair_key, system
from core.hl7.scan import APP_ACK_CODES
from core.signatures import Signature, describe_nak, normalise
from core.store import queue
from core.store.bulk import update_many
from core.store.models import Interface, Message, Pair
from core.vocabulary import NAK_STATES, AckState, Lane, ParseState, QueueKind, WriteClass

M = Message.__table__
# the codes rows carry, as plain strings: a member is looked up per use, and the driver
# binds a str subclass the slow way; these run once or more per message ingested
_PENDING, _NOT_EXPECTED = AckState.PENDING.value, AckState.NOT_EXPECTED.value
_QUEUED_PARSE_STATES = frozenset((ParseState.UNPARSEABLE.value, ParseState.INVALID.value))
_NOT_HL7 = frozenset((ParseState.UNPARSEABLE.value, ParseState.TEXT.value))  # nothing to pair: no keys
DEFAULT_ACK_TIMEOUT_S = 300
_ASKS_FOR_ACK = frozenset(("AL", "SU", "ER"))
# what pairing reads of an older ACK
_ACK_COLUMNS = (M.c.id, M.c.pair_key, M.c.ack_control_id, M.c.ack_code, M.c.ack_text, M.c.errors, M.c.source_id,
                M.c.sending_app, M.c.receiving_app, M.c.is_ack, M.c.event_time)


class Pairing:
    """What pairing knows of interfaces and pairs, and the pairing of batches. An ingest run
    loads everything once (`load`); one-off stores (a correction, a resend's answers) start
    empty and ask the store about just the keys their rows carry."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self.now = now
        self.interfaces: dict[str, tuple[int, bool | None, int]] = {}  # match_key -> (id, expects_ack, timeout)
        self.acking_pairs: set[str] = set()
        self._complete = False  # everything is loaded: a key not known is new
        self._asked: set[str] = set()  # keys asked of the store already

    def load(self, conn: Connection) -> None:
        for i in conn.execute(select(Interface.id, Interface.match_key, Interface.expects_ack, Interface.ack_timeout_s)):
            self.interfaces[i.match_key] = (i.id, i.expects_ack, i.ack_timeout_s)
        self.acking_pairs = set(conn.scalars(select(Pair.key).where(Pair.acks_seen)))
        self._complete = True

    def _learn(self, conn: Connection, rows: list[dict]) -> None:
        """The interfaces and acking pairs of these rows' keys, when not all are loaded."""
        if self._complete:
            return
        keys = {k for r in rows if r["parse_state"] not in _NOT_HL7
                for k in (match_key(r), _reverse_key(r), pair_key(r))} - self._asked
        if not keys:
            return
        self._asked |= keys
        for i in conn.execute(select(Interface.id, Interface.match_key, Interface.expects_ack, Interface.ack_timeout_s)
                              .where(Interface.match_key.in_(keys))):
            self.interfaces[i.match_key] = (i.id, i.expects_ack, i.ack_timeout_s)
        self.acking_pairs |= set(conn.scalars(select(Pair.key).where(Pair.acks_seen, Pair.key.in_(keys))))

    # -- before insert ------------------------------------------------------------------
    def prepare(self, conn: Connection, rows: list[dict]) -> None:
        """Fill pair key, interface, ACK expectation of rows about to be inserted (a row
        that says `expects_ack` False, a correction, waits for none). A row that names its
        `interface` (an engine's channel: id, expects_ack, timeout) belongs to it, whatever its MSH says."""
        self._learn(conn, rows)
        for row in rows:
            given = row.pop("interface", None)
            if row["parse_state"] in _NOT_HL7:
                row.update(pair_key=None, is_ack=False, interface_id=given[0] if given else None,
                           ack_state=row.pop("lane_state", None) or _NOT_EXPECTED)  # a FHIR exchange's answer
                continue
            row["pair_key"] = pair_key(row)
            row["is_ack"] = bool(row["ack_code"]) and bool(row["ack_control_id"])
            if row["is_ack"]:
                known = given or self.interfaces.get(_reverse_key(row))
                row["interface_id"] = known[0] if known else None
                row["ack_state"] = _NOT_EXPECTED
                continue
            iface = given or self.interfaces.get(match_key(row)) or self._new_interface(conn, row)
            row["interface_id"] = iface[0]
            expects = row.pop("expects_ack", None)
            row["ack_state"] = _PENDING if expects is not False and self._expects_ack(row, iface[1]) else _NOT_EXPECTED

    def _new_interface(self, conn: Connection, row: dict) -> tuple[int, bool | None, int]:
        key = match_key(row)
        name = f"{row['sending_app'] or '?'} → {row['receiving_app'] or '?'}"
        new_id = conn.execute(insert(Interface).returning(Interface.id), {
            "name": name, "match_key": key, "lane": Lane.HL7V2,
            "sending_app": row["sending_app"], "sending_facility": row["sending_facility"],
            "receiving_app": row["receiving_app"], "receiving_facility": row["receiving_facility"],
            "direction": "unknown", "ack_timeout_s": DEFAULT_ACK_TIMEOUT_S,
            "write_class": WriteClass.NONE, "write_enabled": False,
        }).scalar_one()
        self.interfaces[key] = (new_id, None, DEFAULT_ACK_TIMEOUT_S)
        return self.interfaces[key]

    def _expects_ack(self, row: dict, configured: bool | None) -> bool:
        if configured is not None:
            return configured
        if (row["accept_ack_type"] or "").upper() in _ASKS_FOR_ACK or (row["app_ack_type"] or "").upper() in _ASKS_FOR_ACK:
            return True
        return row["transport"] == "mllp" or row["pair_key"] in self.acking_pairs

    # -- before insert, with ids ----------------------------------------------------------
    def correlate(self, conn: Connection, rows: list[dict]) -> list[dict]:
        """Duplicates and ACK pairing for rows about to be inserted (each with its id, in id
        order): their own columns are filled in here, older messages are updated; returns
        queue items. Within the batch it works in memory; the store is asked only about
        older messages."""
        items: list[dict] = []
        now = self.now()
        self._duplicates(conn, rows, items, now)
        self._pair_acks(conn, rows, items, now)
        self._touch_pairs(conn, rows)
        for row in rows:
            if row["parse_state"] in _QUEUED_PARSE_STATES:
                kind = QueueKind(row["parse_state"])
                rule = row.get("rules") or normalise(row["reason"] or "")
                items.append(queue.new(kind, row["reason"] or row["parse_state"], Signature(kind, detail=rule),
                                       message_id=row["id"], source_id=row["source_id"], now=now, at=row["event_time"]))
        return items

    def _duplicates(self, conn: Connection, rows: list[dict], items: list[dict], now: datetime) -> None:
        # a row that is a copy of another by design (an engine's destination sending what its source
        # received) is no duplicate: `duplicate_check` False
        rows = [r for r in rows if r.get("duplicate_check", True)]
        ids = {r["control_id"] for r in rows if r["control_id"]}
        if not ids:
            return
        first: dict[tuple, int] = {}
        # no ORDER BY (sorted here): with one, SQLite's planner reads the whole table in id order
        found = conn.execute(
            select(M.c.id, M.c.sending_app, M.c.sending_facility, M.c.control_id, M.c.content_hash)
            .where(M.c.control_id.in_(bindparam("ids", expanding=True)), M.c.duplicate_of.is_(None)),
            {"ids": list(ids)}).all()
        for r in sorted(found, key=lambda r: r.id):
            first.setdefault((r.sending_app, r.sending_facility, r.control_id, r.content_hash), r.id)
        for row in rows:
            if not row["control_id"]:
                continue
            key = (row["sending_app"], row["sending_facility"], row["control_id"], row["content_hash"])
            original = first.setdefault(key, row["id"])
            if original != row["id"]:
                row["duplicate_of"] = original
                items.append(queue.new(QueueKind.DUPLICATE,
                                       f"Same sender, control ID {row['control_id']} and content as message {original}",
                                       Signature(QueueKind.DUPLICATE, row["sending_app"] or "?"), message_id=row["id"],
                                       source_id=row["source_id"], now=now, at=row["event_time"]))

    def _pair_acks(self, conn: Connection, rows: list[dict], items: list[dict], now: datetime) -> None:
        new_ids = {r["id"] for r in rows}
        acks = {r["id"]: r for r in rows if r["is_ack"]}
        # older ACKs that arrived before their message are waiting for it: fetch them too
        wanted = [r["control_id"] for r in rows if not r["is_ack"] and r["control_id"] and r["pair_key"]]
        if wanted:
            # is_ack is tested here, not in SQL: with it, SQLite's planner prefers the flow index and reads every ACK
            for a in conn.execute(select(*_ACK_COLUMNS).where(M.c.ack_control_id.in_(bindparam("ids", expanding=True)),
                                                              M.c.answers_id.is_(None)), {"ids": wanted}):
                if a.is_ack:
                    acks.setdefault(a.id, a._asdict())
        if not acks:
            return
        originals = self._originals(conn, rows, acks.values())
        new_pairs = {a["pair_key"] for a in acks.values()} - self.acking_pairs
        answered, decided = [], {}
        for ack in sorted(acks.values(), key=lambda a: a["id"]):
            cands = originals.get((ack["pair_key"], ack["ack_control_id"]), [])
            before = [o for o in cands if o["id"] < ack["id"]]
            original = before[-1] if before else (cands[0] if cands else None)
            if original is None:
                if ack["id"] in new_ids and ack["ack_code"] in ("AE", "CE", "AR", "CR"):
                    items.append(self._orphan_nak(ack, now))
                continue
            ack.update(answers_id=original["id"], interface_id=original["interface_id"])
            if ack["id"] not in new_ids:  # an older ACK: its row, and any orphan NAK item, move to the message
                answered.append(ack)
                queue.move_naks(conn, ack["id"], original["id"], now)
            if self._decide(original, ack, items, now, queue_nak=ack["id"] in new_ids):
                decided[original["id"]] = original
        if answered:
            update_many(conn, M, answered, ["answers_id", "interface_id"])
        older = [o for o in decided.values() if o["id"] not in new_ids]
        if older:
            update_many(conn, M, older, ["ack_state", "ack_result", "ack_id"])
            queue.resolve_missing(conn, [o["id"] for o in older if o.get("was_missing")], now)
        if new_pairs:
            self._pairs_now_acking(conn, rows, new_pairs)

    @staticmethod
    def _orphan_nak(ack: dict, now: datetime) -> dict:
        kind = QueueKind.NAK_ERROR if ack["ack_code"] in ("AE", "CE") else QueueKind.NAK_REJECT
        reason = (describe_nak(ack["ack_code"], ack["errors"], ack["ack_text"])
                  + f" The message it answers (control ID {ack['ack_control_id']}) has not been seen.")
        return queue.new(kind, reason, Signature.of_nak(kind, answered_lane(ack), ack["errors"], ack["ack_text"]),
                         message_id=ack["id"], source_id=ack["source_id"], now=now, at=ack.get("event_time"))

    def _originals(self, conn: Connection, rows: list[dict], acks: Iterable[dict]) -> dict[tuple, list[dict]]:
        """(pair, control ID) -> candidate messages an ACK may answer, in id order: older ones
        from the store (asked only when the batch holds none before the ACK), then the batch's."""
        batch: dict[tuple, list[dict]] = {}
        for r in rows:
            if not r["is_ack"] and r["control_id"]:
                batch.setdefault((r["pair_key"], r["control_id"]), []).append(r)
        keys = {a["ack_control_id"] for a in acks
                if not any(o["id"] < a["id"] for o in batch.get((a["pair_key"], a["ack_control_id"]), ()))}
        out: dict[tuple, list[dict]] = {}
        if keys:
            cols = (M.c.id, M.c.pair_key, M.c.control_id, M.c.interface_id, M.c.app_ack_type, M.c.ack_state,
                    M.c.ack_result, M.c.ack_id, M.c.source_id, M.c.is_ack)
            # filtered and sorted here, not in SQL: either makes SQLite's planner leave the control ID index
            found = conn.execute(select(*cols).where(M.c.control_id.in_(bindparam("ids", expanding=True))),
                                 {"ids": list(keys)}).all()
            for o in sorted(found, key=lambda o: o.id):
                if not o.is_ack:
                    out.setdefault((o.pair_key, o.control_id), []).append(o._asdict())
        for key, found in batch.items():
            out[key] = out.get(key, []) + found
        return out

    def _decide(self, original: dict, ack: dict, items: list[dict], now: datetime, queue_nak: bool) -> bool:
        """Let this ACK set the original's ACK state; True when it did."""
        app_before = original["ack_result"] in APP_ACK_CODES
        app_now = ack["ack_code"] in APP_ACK_CODES
        # an application ACK decides over a commit ACK; otherwise the newer ACK decides
        if app_before and not app_now:
            return False
        if original["ack_id"] is not None and original["ack_id"] > ack["id"] and app_before == app_now:
            return False
        state = ack_state_for(ack["ack_code"], ack["errors"], original["app_ack_type"])
        previous = original["ack_state"]
        original.update(ack_state=state, ack_result=ack["ack_code"], ack_id=ack["id"],
                        was_missing=original.get("was_missing") or previous == AckState.MISSING)
        if queue_nak and state in NAK_STATES and previous not in NAK_STATES:
            kind = QueueKind.NAK_ERROR if state == AckState.ERROR else QueueKind.NAK_REJECT
            items.append(queue.new(kind, describe_nak(ack["ack_code"], ack["errors"], ack["ack_text"]),
                                   Signature.of_nak(kind, answered_lane(ack), ack["errors"], ack["ack_text"]),
                                   message_id=original["id"], source_id=original["source_id"], now=now,
                                   at=ack.get("event_time")))
        return True

    def _pairs_now_acking(self, conn: Connection, rows: list[dict], keys: set[str]) -> None:
        """Once a pair has shown an ACK, every message on it expects one (unless configured). An
        engine's messages are left alone: the engine's record says whether a response came."""
        self.acking_pairs |= keys
        configured_no = [i[0] for i in self.interfaces.values() if i[1] is False]
        for r in rows:
            if (r["pair_key"] in keys and r["ack_state"] == AckState.NOT_EXPECTED and not r["is_ack"] and r["ack_id"] is None
                    and r["parse_state"] not in _NOT_HL7 and r["interface_id"] not in configured_no
                    and r["version_no"] == 1 and r["transport"] != "engine"):
                r["ack_state"] = AckState.PENDING
        stmt = (update(M).where(M.c.pair_key.in_(bindparam("keys", expanding=True)), M.c.ack_state == AckState.NOT_EXPECTED,
                                M.c.is_ack.is_(False), M.c.ack_id.is_(None), M.c.parse_state != ParseState.UNPARSEABLE,
                                M.c.version_no == 1, M.c.transport != "engine")
                .values(ack_state=AckState.PENDING))
        if configured_no:
            stmt = stmt.where(M.c.interface_id.not_in(configured_no))
        conn.execute(stmt, {"keys": list(keys)})  # _touch_pairs then records acks_seen

    def _touch_pairs(self, conn: Connection, rows: list[dict]) -> None:
        latest: dict[str, datetime] = {}
        for r in rows:
            if r["pair_key"]:
                t = r["event_time"]
                if r["pair_key"] not in latest or t > latest[r["pair_key"]]:
                    latest[r["pair_key"]] = t
        for key, t in latest.items():
            self._upsert_pair(conn, key, acks_seen=key in self.acking_pairs, last=t)

    def _upsert_pair(self, conn: Connection, key: str, acks_seen: bool, last: datetime | None) -> None:
        found = conn.execute(select(Pair.acks_seen, Pair.last_activity).where(Pair.key == key)).first()
        if found is None:
            conn.execute(insert(Pair), {"key": key, "acks_seen": acks_seen, "last_activity": last})
            return
        newest = max((t for t in (found.last_activity, last) if t is not None), default=None)
        if newest != found.last_activity or (acks_seen and not found.acks_seen):
            conn.execute(update(Pair).where(Pair.key == key).values(acks_seen=found.acks_seen or acks_seen, last_activity=newest))


SWEEP_PAGE = 20_000


def sweep_missing(conn: Connection, now: datetime) -> int:
    """Pending messages past their interface's ACK timeout become `missing` and queue items.

    The time waited runs from the message's time to the newest activity seen on its pair
    or to the clock, whichever is later. Read a page at a time, so the memory it takes does
    not grow with the store (a third of a million orders waiting after a go-live's archive).
    """
    done, after = 0, 0
    while rows := conn.execute(
            select(M.c.id, M.c.source_id, M.c.message_time, M.c.received_at, M.c.control_id, M.c.interface_id,
                   Pair.last_activity, Interface.ack_timeout_s, Interface.name)
            .join(Pair, Pair.key == M.c.pair_key, isouter=True)
            .join(Interface, Interface.id == M.c.interface_id, isouter=True)
            # a Direct message waits for MDNs, per recipient: core.store.direct.sweep times those out
            .where(M.c.ack_state == AckState.PENDING, or_(Interface.lane.is_(None), Interface.lane != Lane.DIRECT),
                   M.c.id > after).order_by(M.c.id).limit(SWEEP_PAGE)).all():
        after = rows[-1].id
        done += _overdue(conn, rows, now)
    return done


def _overdue(conn: Connection, rows: list, now: datetime) -> int:
    """Of a page of pending messages, those overdue marked missing and queued; how many."""
    missing, items = [], []
    for r in rows:
        since = r.message_time or r.received_at
        reference = max(now, r.last_activity) if r.last_activity else now
        timeout = r.ack_timeout_s or DEFAULT_ACK_TIMEOUT_S
        if reference - since > timedelta(seconds=timeout):
            missing.append({"mid": r.id})
            items.append(queue.new(QueueKind.MISSING_ACK, f"No ACK for control ID {r.control_id} within {timeout} s",
                                   Signature(QueueKind.MISSING_ACK, r.name or "?"), message_id=r.id, source_id=r.source_id,
                                   now=now, at=since + timedelta(seconds=timeout)))
    if missing:
        conn.execute(update(M).where(M.c.id == bindparam("mid")).values(ack_state=AckState.MISSING), missing)
        queue.add(conn, items)
    return len(missing)


def _reverse_key(row: dict) -> str:
    """The match key of the lane an ACK travels backwards."""
    return system(row["receiving_app"], row["receiving_facility"]) + ">" + system(row["sending_app"], row["sending_facility"])
