"""Saved views: named filters of messages, shared through the store, with owner and time."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update

from core.store.db import Store, Tx
from core.store.models import SavedView

V = SavedView.__table__


def get(conn: Tx, name: str) -> dict | None:
    row = conn.execute(select(V).where(V.c.name == name)).first()
    return row._asdict() if row else None


def named(store: Store, name: str) -> dict | None:
    with store.read() as conn:
        return get(conn, name)


def every(store: Store) -> list[dict]:
    with store.read() as conn:
        return [r._asdict() for r in conn.execute(select(V).order_by(V.c.name))]


def put(conn: Tx, name: str, owner: str, definition: dict, now: datetime) -> None:
    """Save a view under `name`, replacing one of that name (its creation time kept)."""
    if get(conn, name) is None:
        conn.execute(insert(V), {"name": name, "owner": owner, "definition": definition, "created_at": now, "updated_at": now})
    else:
        conn.execute(update(V).where(V.c.name == name).values(owner=owner, definition=definition, updated_at=now))


def remove(conn: Tx, name: str) -> dict | None:
    """Delete a view; what it was, or None when there was none."""
    found = get(conn, name)
    if found is not None:
        conn.execute(delete(V).where(V.c.name == name))
    return found
