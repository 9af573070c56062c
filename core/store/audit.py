"""The audit chain in the store: appending entries (hashed, signed, chained onto the head
row), walking it to verify, and reading it a page at a time. What an entry's hash and
signature are, and how a check reads, is core.audit's."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from sqlalchemy import insert, select, text, update

from core.audit import GENESIS, Break, Report, entry_hash, os_actor, public_hex, public_key, read_heads, signing_key, write_heads
from core.store.db import Store, Tx, data_folder
from core.store.models import AuditEntry, AuditHead, AuditKey

A, H, K = AuditEntry.__table__, AuditHead.__table__, AuditKey.__table__


def actor_for(conn: Tx) -> str:
    """user@host, and on a shared PostgreSQL store the database role too."""
    if conn.dialect.name == "postgresql":
        role = conn.execute(text("SELECT current_user")).scalar_one()
        return f"{os_actor()} (db role {role})"
    return os_actor()


def append(conn: Tx, *, actor: str, action: str, at: datetime, item_id: int | None = None,
           message_id: int | None = None, before: dict | None = None, after: dict | None = None) -> int:
    """Add one entry inside the caller's transaction; returns its sequence number."""
    return append_many(conn, [dict(actor=actor, action=action, at=at, item_id=item_id, message_id=message_id,
                                   before=before, after=after)])[0]


def append_many(conn: Tx, entries: list[dict]) -> list[int]:
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
    signer = _signer(conn, entries[0]["at"])
    for r in rows:
        r["signer"], r["signature"] = (signer[0], signer[1].sign(r["hash"].encode()).hex()) if signer else (None, None)
    conn.execute(insert(A), rows)
    conn.execute(update(H).where(H.c.id == 1).values(hash=prev))
    return [r["seq"] for r in rows]


def _signer(conn: Tx, now: datetime):
    """This workstation's signing key (core.audit.signing_key) with its public half
    registered in the store; None when there is no keyring to keep a key in."""
    found = signing_key()
    if found is not None and conn.execute(select(K.c.fingerprint).where(K.c.fingerprint == found[0])).first() is None:
        conn.execute(insert(K), {"fingerprint": found[0], "public_key": public_hex(found[1]), "workstation": os_actor(),
                                 "registered_at": now})
    return found


def verify(conn: Tx) -> Break | None:
    """The first broken link of the chain, or None when every entry checks out."""
    return _walk(conn, Report())


def _walk(conn: Tx, report: Report) -> Break | None:
    keys = {r.fingerprint: (public_key(r.public_key), r.workstation)
            for r in conn.execute(select(K))}
    report.signers = {fp: [who, 0] for fp, (_, who) in keys.items()}
    prev, expected_seq = GENESIS, 1
    for r in conn.execute(select(A).order_by(A.c.seq)):
        if r.seq != expected_seq:
            return Break(expected_seq, f"entry {expected_seq} is missing (the next is {r.seq})")
        if r.prev_hash != prev:
            return Break(r.seq, "it does not link to the entry before it")
        if entry_hash(prev, r.seq, r.at, r.actor, r.action, r.item_id, r.message_id, r.before, r.after) != r.hash:
            return Break(r.seq, "its content was changed after it was written")
        if r.signer is None:
            report.unsigned += 1
        elif r.signer not in keys:
            return Break(r.seq, f"it is signed by a key the store does not know ({r.signer[:16]})")
        else:
            try:
                keys[r.signer][0].verify(bytes.fromhex(r.signature or ""), r.hash.encode())
            except (InvalidSignature, ValueError):
                return Break(r.seq, "its signature does not match: it was rewritten without its workstation's key")
            report.signers[r.signer][1] += 1
        prev, expected_seq = r.hash, expected_seq + 1
    report.entries, report.head = expected_seq - 1, prev
    return _head_agrees(conn, report)


def check(conn: Tx, heads_file: Path, store: str) -> Report:
    """Verify the chain and its signatures, then compare it with the head this workstation
    verified last time (kept in `heads_file`, outside the store): a shorter chain, or one whose
    verified part now reads differently, is reported even when it checks out on its own.
    The head is moved on only when nothing is wrong."""
    report = Report()
    report.broken = _walk(conn, report)
    heads = read_heads(heads_file)
    last = heads.get(store)
    if last and report.broken is None:
        if report.entries < last["seq"]:
            report.warnings.append(f"the chain has {report.entries:,} entries, but {last['seq']:,} were verified here on "
                                   f"{last['at']}: entries were removed")
        else:
            at = conn.execute(select(A.c.hash).where(A.c.seq == last["seq"])).scalar() if last["seq"] else GENESIS
            if at != last["hash"]:
                report.warnings.append(f"entry {last['seq']:,}, verified here on {last['at']}, now reads differently: "
                                       "the chain was rewritten")
        new_keys = set(report.signers) - set(last.get("keys", []))
        old_signed = [fp for fp in new_keys if report.signers[fp][1] and last["seq"]]
        if old_signed and report.warnings:
            report.warnings.append("keys first seen now: " + ", ".join(fp[:16] for fp in old_signed))
    if report.intact:
        heads[store] = {"seq": report.entries, "hash": report.head, "at": datetime.now().isoformat(timespec="seconds"),
                        "keys": sorted(report.signers)}
        write_heads(heads_file, heads)
    return report


def _head_agrees(conn: Tx, report: Report) -> Break | None:
    head_seq, head_hash = conn.execute(select(H.c.seq, H.c.hash).where(H.c.id == 1)).one()
    if head_seq != report.entries or head_hash != report.head:
        return Break(report.entries + 1, f"the newest entries are missing (the chain ends at {report.entries}, "
                                         f"the head says {head_seq})")
    return None


def verify_store(store) -> Report:
    """`check` for a store, against the head this workstation last verified for it."""
    with store.engine.connect() as conn:
        return check(conn, data_folder() / "audit-heads.json", store.location)


def page(store: Store, *, before_seq: int | None = None, actor: str | None = None, action: str | None = None,
               limit: int = 500) -> list[dict]:
    """Audit entries, newest first, a page at a time (keyset on the chain's sequence)."""
    stmt = select(A).order_by(A.c.seq.desc()).limit(limit)
    if before_seq is not None:
        stmt = stmt.where(A.c.seq < before_seq)
    if actor:
        stmt = stmt.where(A.c.actor.like(f"%{actor}%"))
    if action:
        stmt = stmt.where(A.c.action == action)
    with store.read() as conn:
        return [r._asdict() for r in conn.execute(stmt)]
