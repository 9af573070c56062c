"""The audit trail: append-only, each entry chained to the one before by a hash, and signed.

Every triage action and every opening of a message's detail (it shows PHI) appends an
entry: who, when, what, on which item or message, before and after. An entry's hash
covers its content and the previous entry's hash, and the head row holds the newest
hash and count, so an edited, deleted or inserted row breaks the chain where it happened
and `verify` names the first broken link.

Hashes alone do not stop someone with the database: they can rewrite an entry and
recompute every hash after it. So each entry is also signed (Ed25519, over its hash) with
its workstation's private key, which lives only in that workstation's keyring; the public
keys are registered in the store (`audit_keys`) and shown by their fingerprints. And each
workstation keeps the head it last verified outside the store (`check`): a chain that has
become shorter, or whose verified part was rewritten, is reported even when it is whole.
"""
from __future__ import annotations

import getpass
import hashlib
import json
import logging
import socket
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, insert, select, text, update

from core import secrets
from core.store.models import AuditEntry, AuditHead, AuditKey

A, H, K = AuditEntry.__table__, AuditHead.__table__, AuditKey.__table__
GENESIS = "0" * 64
log = logging.getLogger(__name__)
_signing: dict[str, tuple[str, Ed25519PrivateKey] | None] = {}  # workstation → its key, loaded once


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
    signer = _signer(conn, entries[0]["at"])
    for r in rows:
        r["signer"], r["signature"] = (signer[0], signer[1].sign(r["hash"].encode()).hex()) if signer else (None, None)
    conn.execute(insert(A), rows)
    conn.execute(update(H).where(H.c.id == 1).values(hash=prev))
    return [r["seq"] for r in rows]


def fingerprint(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def _signer(conn: Connection, now: datetime) -> tuple[str, Ed25519PrivateKey] | None:
    """This workstation's signing key (made on first use, kept in its keyring) with its
    public half registered in the store. None, and entries go unsigned (verify says so),
    when there is no keyring to keep a key in."""
    workstation = socket.gethostname()
    if workstation not in _signing:
        _signing[workstation] = _load_key(workstation)
    found = _signing[workstation]
    if found is not None and conn.execute(select(K.c.fingerprint).where(K.c.fingerprint == found[0])).first() is None:
        raw = found[1].public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        conn.execute(insert(K), {"fingerprint": found[0], "public_key": raw.hex(), "workstation": os_actor(),
                                 "registered_at": now})
    return found


def _load_key(workstation: str) -> tuple[str, Ed25519PrivateKey] | None:
    owner = f"audit:{workstation}"
    try:
        pem = secrets.get(owner, "audit_key")
        if pem is None:
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
            secrets.put(owner, "audit_key", pem)
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (secrets.SecretStoreError, ValueError, TypeError) as exc:
        log.warning("audit entries from this workstation go unsigned: %s", type(exc).__name__)
        return None
    if not isinstance(key, Ed25519PrivateKey):
        return None
    return fingerprint(key.public_key()), key


@dataclass
class Break:
    seq: int
    why: str


def verify(conn: Connection) -> Break | None:
    """The first broken link of the chain, or None when every entry checks out."""
    return _walk(conn, Report())


@dataclass
class Report:
    """What `check` found: the chain's length, who signed how much, and what is wrong."""

    entries: int = 0
    head: str = GENESIS
    signers: dict[str, list] = field(default_factory=dict)  # fingerprint → [workstation, entries signed]
    unsigned: int = 0
    broken: Break | None = None
    warnings: list[str] = field(default_factory=list)  # against what this workstation verified before

    @property
    def intact(self) -> bool:
        return self.broken is None and not self.warnings


def _walk(conn: Connection, report: Report) -> Break | None:
    keys = {r.fingerprint: (Ed25519PublicKey.from_public_bytes(bytes.fromhex(r.public_key)), r.workstation)
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


def check(conn: Connection, heads_file: Path, store: str) -> Report:
    """Verify the chain and its signatures, then compare it with the head this workstation
    verified last time (kept in `heads_file`, outside the store): a shorter chain, or one whose
    verified part now reads differently, is reported even when it checks out on its own.
    The head is moved on only when nothing is wrong."""
    report = Report()
    report.broken = _walk(conn, report)
    heads = _read_heads(heads_file)
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
        _write_heads(heads_file, heads)
    return report


def _head_agrees(conn: Connection, report: Report) -> Break | None:
    head_seq, head_hash = conn.execute(select(H.c.seq, H.c.hash).where(H.c.id == 1)).one()
    if head_seq != report.entries or head_hash != report.head:
        return Break(report.entries + 1, f"the newest entries are missing (the chain ends at {report.entries}, "
                                         f"the head says {head_seq})")
    return None


def _read_heads(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write_heads(path: Path, heads: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(heads, indent=1, sort_keys=True))
    tmp.replace(path)



def verify_store(store) -> Report:
    """`check` for a store, against the head this workstation last verified for it."""
    from core.store.db import data_folder

    with store.engine.connect() as conn:
        return check(conn, data_folder() / "audit-heads.json", store.location)


def describe(report: Report) -> list[str]:
    """The report as lines an operator reads: the verdict, then the signers by fingerprint."""
    if report.broken:
        lines = [f"audit chain broken at entry {report.broken.seq}: {report.broken.why}"]
    elif report.warnings:
        lines = ["audit chain does not match what this workstation verified before: " + "; ".join(report.warnings)]
    else:
        lines = [f"audit chain intact: {report.entries:,} entries, every one linked"
                 + (f", {report.entries - report.unsigned:,} signed" if report.signers else "")
                 + (f", {report.unsigned:,} unsigned (written where no keyring was)" if report.unsigned else "")]
    lines += [f"  key {fp[:16]}… of {who}: {n:,} entries" for fp, (who, n) in sorted(report.signers.items())]
    return lines
