"""The audit trail: append-only, each entry chained to the one before by a hash.

Every triage action and every opening of a message's detail (it shows PHI) appends an
entry: who, when, what, on which item or message, before and after. An entry's hash
covers its content and the previous entry's hash, and the head row holds the newest
hash and count, so an edited, deleted or inserted row breaks the chain where it happened
and `verify` names the first broken link.
"""
from __future__ import annotations

import getpass
import hashlib
import json
import socket
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, text, update

from core.store.models import AuditEntry, AuditHead

A, H = AuditEntry.__table__, AuditHead.__table__
GENESIS = "0" * 64


def os_actor() -> str:
    """The person at this workstation, as the OS knows them: user@host."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def actor_for(conn: Connection) -> str:
    """user@host, and on a shared PostgreSQL store the database role too."""
    if conn.dialect.name == "postgresql":
        role = conn.execute(text("SELECT current_user")).scalar_one()
        return f"{os_actor()} (db role {role})"
    return os_actor()


def entry_hash(prev_hash: str, seq: int, at: datetime, actor: str, action: str, item_id: int | None,
               message_id: int | None, before: dict | None, after: dict | None) -> str:
    body = json.dumps([seq, at.isoformat(timespec="microseconds"), actor, action, item_id, message_id, before, after],
                      sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def append(conn: Connection, *, actor: str, action: str, at: datetime, item_id: int | None = None,
           message_id: int | None = None, before: dict | None = None, after: dict | None = None) -> int:
    """Add one entry inside the caller's transaction; returns its sequence number."""
    return append_many(conn, [dict(actor=actor, action=action, at=at, item_id=item_id, message_id=message_id,
                                   before=before, after=after)])[0]


def append_many(conn: Connection, entries: list[dict]) -> list[int]:
    """Add entries (actor, action, at, item_id, message_id, before, after) in order; returns their numbers."""
    if not entries:
        return []
    # moving the head first takes its row lock (PostgreSQL) or the write lock (SQLite), so
    # two writers never chain onto the same link
    conn.execute(update(H).where(H.c.id == 1).values(seq=H.c.seq + len(entries)))
    last, prev = conn.execute(select(H.c.seq, H.c.hash).where(H.c.id == 1)).one()
    rows, seq = [], last - len(entries)
    for e in entries:
        seq += 1
        e = {"item_id": None, "message_id": None, "before": None, "after": None, **e}
        digest = entry_hash(prev, seq, e["at"], e["actor"], e["action"], e["item_id"], e["message_id"], e["before"], e["after"])
        rows.append({**e, "seq": seq, "prev_hash": prev, "hash": digest})
        prev = digest
    conn.execute(insert(A), rows)
    conn.execute(update(H).where(H.c.id == 1).values(hash=prev))
    return [r["seq"] for r in rows]


@dataclass
class Break:
    seq: int
    why: str


def verify(conn: Connection) -> Break | None:
    """The first broken link of the chain, or None when every entry checks out."""
    prev, expected_seq = GENESIS, 1
    for r in conn.execute(select(A).order_by(A.c.seq)):
        if r.seq != expected_seq:
            return Break(expected_seq, f"entry {expected_seq} is missing (the next is {r.seq})")
        if r.prev_hash != prev:
            return Break(r.seq, "it does not link to the entry before it")
        if entry_hash(prev, r.seq, r.at, r.actor, r.action, r.item_id, r.message_id, r.before, r.after) != r.hash:
            return Break(r.seq, "its content was changed after it was written")
        prev, expected_seq = r.hash, expected_seq + 1
    head_seq, head_hash = conn.execute(select(H.c.seq, H.c.hash).where(H.c.id == 1)).one()
    if head_seq != expected_seq - 1 or head_hash != prev:
        return Break(expected_seq, f"the newest entries are missing (the chain ends at {expected_seq - 1}, "
                                   f"the head says {head_seq})")
    return None
