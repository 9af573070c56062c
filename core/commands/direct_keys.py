"""The practice's Direct certificates: adding one (a PKCS#12 file, or a certificate and its
key) puts the certificate in the store and the private key in the keyring; messages
encrypted to it are opened as they are read from then on, and those stored sealed before
are opened at once. Both changes are audited (the
certificate named, the key never recorded)."""
from __future__ import annotations

import re

from core.changes import Changes
from core.commands.context import CommandError, Context
from core.ingest import open_sealed
from core.secrets import SecretStoreError
from core.store import audit, direct_keys
from core.store.direct_keys import KeyFileError
from core.vocabulary import AuditAction

KEYS = Changes(audit=True)
_ADDRESS = re.compile(r"^([^@\s]+@)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class AddKey:
    changes = Changes(audit=True, messages=True, queue=True, interfaces=True)  # what was sealed may open

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(self, address: str, **files) -> dict:
        """`address` (or a domain, for a domain-bound certificate); files as core.store.direct_keys.read_files."""
        address = address.strip().lower()
        if not _ADDRESS.match(address):
            raise CommandError("Name the Direct address the certificate is for (clinic@direct.example.org), or its domain.")
        try:
            certificate, private = direct_keys.read_files(**files)
        except KeyFileError as exc:
            raise CommandError(f"Nothing was saved: {exc}.") from None
        with self.ctx.store.begin() as conn:
            try:
                row = direct_keys.add(conn, address, certificate, private, self.ctx.now())
            except SecretStoreError as exc:
                raise CommandError(f"Nothing was saved: {exc}.") from None
            audit.append(conn, actor=self.ctx.who(conn), action=AuditAction.ADD_DIRECT_KEY, at=self.ctx.now(),
                         after={**{k: str(v) for k, v in row.items()}, "private_key": "stored in the OS keyring"})
        with self.ctx.store.begin() as conn:  # the key kept whatever happens next
            row["opened"] = open_sealed(conn, self.ctx.now())
        return row


class RemoveKey:
    changes = KEYS

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(self, address: str) -> None:
        with self.ctx.store.begin() as conn:
            row = direct_keys.remove(conn, address.strip().lower())
            if row is None:
                raise CommandError(f"There is no Direct certificate for {address!r} (see `lanewatch direct-key list`).")
            audit.append(conn, actor=self.ctx.who(conn), action=AuditAction.REMOVE_DIRECT_KEY, at=self.ctx.now(),
                         before=row)
