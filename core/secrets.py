"""Secrets (client secrets, private keys, bearer and refresh tokens) live only in the OS
keyring. This is the one place that touches it; the demo workspace and the tests keep
them in this process's memory instead (`use_memory`), so they never reach the real one.

A secret is named by what it belongs to (an endpoint) and what it is (client_secret,
private_key, bearer_token, refresh_token). Values are never logged or exported.
"""
from __future__ import annotations

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, NoKeyringError, PasswordDeleteError

SERVICE = "lanewatch"
KINDS = ("client_secret", "private_key", "bearer_token", "refresh_token")


class SecretStoreError(RuntimeError):
    """The keyring cannot be used; the message says what to do."""


def _name(owner: str, kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown secret kind {kind!r}")
    return f"{owner}:{kind}"


def put(owner: str, kind: str, value: str) -> None:
    try:
        keyring.set_password(SERVICE, _name(owner, kind), value)
    except NoKeyringError as exc:
        raise SecretStoreError("No OS keyring is available to keep the secret: install or unlock one "
                               "(Windows Credential Manager, macOS Keychain, Secret Service on Linux)") from exc
    except KeyringError as exc:
        raise SecretStoreError(f"The OS keyring refused the secret: {type(exc).__name__}") from exc


def get(owner: str, kind: str) -> str | None:
    try:
        return keyring.get_password(SERVICE, _name(owner, kind))
    except KeyringError as exc:
        raise SecretStoreError(f"The OS keyring could not be read: {type(exc).__name__}") from exc


def delete(owner: str, kind: str) -> None:
    try:
        keyring.delete_password(SERVICE, _name(owner, kind))
    except PasswordDeleteError:
        pass
    except KeyringError as exc:
        raise SecretStoreError(f"The OS keyring could not be changed: {type(exc).__name__}") from exc


class MemoryKeyring(KeyringBackend):
    """Secrets held by this process only, gone when it ends."""

    priority = 1

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
