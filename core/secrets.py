"""Secrets (client secrets, private keys, bearer and refresh tokens) live only in the OS
keyring. This is the one place that touches it; tests install an in-memory backend.

A secret is named by what it belongs to (an endpoint) and what it is (client_secret,
private_key, bearer_token, refresh_token). Values are never logged or exported.
"""
from __future__ import annotations

import keyring
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
