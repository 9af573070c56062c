"""Secrets (client secrets, private keys, bearer and refresh tokens) live only in the OS
keyring. This is the one place that touches it; the demo workspace and the tests keep
them in this process's memory instead (`use_memory`), so they never reach the real one.

A secret is named by what it belongs to (an endpoint) and what it is (client_secret,
private_key, bearer_token, refresh_token). Values are never logged or exported, and every
value this process has read or written is scrubbed from any text before it is shown or
stored (`scrub`): a token server that echoes the request must not print the secret.
"""
from __future__ import annotations

import base64
from urllib.parse import quote, quote_plus

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, NoKeyringError, PasswordDeleteError

SERVICE = "lanewatch"
KINDS = ("client_secret", "private_key", "bearer_token", "refresh_token", "audit_key", "store_password",
         "engine_password", "mailbox_password")


NO_KEYRING = ("No OS keyring is available, so the secret was not kept: unlock or install one (Windows Credential "
              "Manager and the macOS Keychain come with the system; on Linux, GNOME Keyring or KWallet through Secret "
              "Service), or, on a workstation without a desktop, `pip install keyrings.alt` for an encrypted file keyring")
MASK = "[secret]"
_known: set[str] = set()  # values read or written by this process, scrubbed from every text


class SecretStoreError(RuntimeError):
    """The keyring cannot be used; the message says what to do."""


def _remember(value: str | None) -> str | None:
    if value and len(value) >= 4:
        _known.add(value)
    return value


def scrub(text: str | None, *extra: str) -> str | None:
    """Text with every secret this process knows (and `extra`) replaced by [secret], also in
    the forms a server may echo it in: URL-encoded, and inside HTTP Basic credentials."""
    if not text:
        return text
    for value in sorted(_known | {e for e in extra if e and len(e) >= 4}, key=len, reverse=True):
        for form in {value, quote(value, safe=""), quote_plus(value)}:
            text = text.replace(form, MASK)
    if "Basic " in text:  # client_secret_basic: base64(client_id:secret)
        for token in text.split():
            try:
                decoded = base64.b64decode(token, validate=True).decode("utf-8", "replace")
            except ValueError:
                continue
            if any(v in decoded for v in _known):
                text = text.replace(token, MASK)
    return text


def _name(owner: str, kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown secret kind {kind!r}")
    return f"{owner}:{kind}"


# Windows Credential Manager holds at most 2,560 bytes a credential (1,280 characters as it
# stores them): a PEM private key does not fit. A longer secret is kept in pieces under
# NAME#1..n, and NAME says how many; every keyring is treated so, so a store moves freely.
PIECE = 1000
_PIECES = "lanewatch-pieces:"


def put(owner: str, kind: str, value: str) -> None:
    _remember(value)
    name = _name(owner, kind)
    pieces = [value[i:i + PIECE] for i in range(0, len(value), PIECE)]
    try:
        _drop_pieces(name)
        if len(pieces) > 1:
            for i, piece in enumerate(pieces, 1):
                keyring.set_password(SERVICE, f"{name}#{i}", piece)
            value = f"{_PIECES}{len(pieces)}"
        keyring.set_password(SERVICE, name, value)
    except NoKeyringError as exc:
        raise SecretStoreError(NO_KEYRING) from exc
    except KeyringError as exc:
        raise SecretStoreError(f"The OS keyring refused the secret: {type(exc).__name__}") from exc


def get(owner: str, kind: str) -> str | None:
    name = _name(owner, kind)
    try:
        value = keyring.get_password(SERVICE, name)
        if count := _pieces(value):
            pieces = [keyring.get_password(SERVICE, f"{name}#{i}") for i in range(1, count + 1)]
            if None in pieces:
                raise SecretStoreError(f"The OS keyring holds only part of the {kind.replace('_', ' ')}: save it again")
            value = "".join(pieces)
        return _remember(value)
    except NoKeyringError as exc:
        raise SecretStoreError(NO_KEYRING) from exc
    except KeyringError as exc:
        raise SecretStoreError(f"The OS keyring could not be read: {type(exc).__name__}") from exc


def _pieces(value: str | None) -> int:
    """How many pieces a secret kept as NAME#1..n is in (0: it is kept whole)."""
    return int(value[len(_PIECES):]) if value and value.startswith(_PIECES) else 0


def _drop_pieces(name: str) -> None:
    """The pieces of a long secret kept under `name` before, if any."""
    for i in range(1, _pieces(keyring.get_password(SERVICE, name)) + 1):
        try:
            keyring.delete_password(SERVICE, f"{name}#{i}")
        except PasswordDeleteError:
            pass


def delete(owner: str, kind: str) -> None:
    name = _name(owner, kind)
    try:
        _drop_pieces(name)
        keyring.delete_password(SERVICE, name)
    except PasswordDeleteError:
        pass
    except KeyringError as exc:
        raise SecretStoreError(f"The OS keyring could not be changed: {type(exc).__name__}") from exc


class _Refused:
    """A priority that raises when keyring asks for it: the backend is never viable."""

    def __get__(self, obj, owner) -> float:
        raise RuntimeError("the memory keyring is used only when asked for")


class MemoryKeyring(KeyringBackend):
    """Secrets held by this process only, gone when it ends: only ever by `use_memory` (the
    demo, tests). Its priority refuses, so keyring never picks it on its own for a machine
    that has no keyring (it did, and secrets "saved in the OS keyring" were gone)."""

    priority = _Refused()

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.values.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


def use_memory() -> MemoryKeyring:
    """Keep secrets in memory from now on (the demo, tests); returns the ring."""
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    return ring
