"""The audit trail's rules: append-only, each entry chained to the one before by a hash, and signed.

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

The chain lives in the store (core.store.audit appends to it and walks it); this module
holds what needs no store: who the actor is, how an entry is hashed and signed, where this
workstation keeps the head it verified, and how a check reads to a person.
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

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core import secrets
from core.labels import plural

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


def entry_hash(prev_hash: str, seq: int, at: datetime, actor: str, action: str, item_id: int | None,
               message_id: int | None, before: dict | None, after: dict | None) -> str:
    body = json.dumps([seq, at.isoformat(timespec="microseconds"), actor, action, item_id, message_id, before, after],
                      sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def fingerprint(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def signing_key() -> tuple[str, Ed25519PrivateKey] | None:
    """This workstation's signing key (made on first use, kept in its keyring) and its
    fingerprint; None, and entries go unsigned (verify says so), when there is no keyring."""
    workstation = socket.gethostname()
    if workstation not in _signing:
        _signing[workstation] = _load_key(workstation)
    return _signing[workstation]


def public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def public_key(hex_key: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(hex_key))


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


def read_heads(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def write_heads(path: Path, heads: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(heads, indent=1, sort_keys=True))
    tmp.replace(path)


def describe(report: Report) -> list[str]:
    """The report as lines an operator reads: the verdict, then the signers by fingerprint."""
    if report.broken:
        lines = [f"audit chain broken at entry {report.broken.seq}: {report.broken.why}"]
    elif report.warnings:
        lines = ["audit chain does not match what this workstation verified before: " + "; ".join(report.warnings)]
    else:
        lines = [f"audit chain intact: {plural(report.entries, 'entry', 'entries')}, every one linked"
                 + (f", {report.entries - report.unsigned:,} signed" if report.signers else "")
                 + (f", {report.unsigned:,} unsigned (written where no keyring was)" if report.unsigned else "")]
    lines += [f"  key {fp[:16]}… of {who}: {n:,} entries" for fp, (who, n) in sorted(report.signers.items())]
    return lines
