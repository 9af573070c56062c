"""IMAP mailboxes read as sources: their settings (the password is in the keyring; how far
each is read is its source's offset, the last UID taken, under its UIDVALIDITY)."""
from __future__ import annotations

from sqlalchemy import delete, insert, select, update

from core.store.db import Store, Tx
from core.store.models import Mailbox

B = Mailbox.__table__
SETTINGS = ("host", "port", "security", "username", "folder", "ca_file", "smtp_host", "smtp_port", "smtp_security",
            "writes_enabled")


def find(conn: Tx, name: str):
    return conn.execute(select(B).where(B.c.name == name)).first()


def get(store: Store, name: str) -> dict | None:
    with store.read() as conn:
        row = find(conn, name)
    return row._asdict() if row else None


def every(store: Store) -> list[dict]:
    with store.read() as conn:
        return [r._asdict() for r in conn.execute(select(B).order_by(B.c.name))]


def add(conn: Tx, values: dict) -> int:
    return conn.execute(insert(B).returning(B.c.id), values).scalar_one()


def change(conn: Tx, mailbox_id: int, **values) -> None:
    conn.execute(update(B).where(B.c.id == mailbox_id).values(**values))


def remove(conn: Tx, mailbox_id: int) -> None:
    conn.execute(delete(B).where(B.c.id == mailbox_id))


def submitting_for(conn: Tx, sender: str | None):
    """The mailbox whose SMTP submission sends as `sender`: its own user first, else one of
    the sender's domain; None when no mailbox has an SMTP server."""
    if not sender:
        return None
    boxes = conn.execute(select(B).where(B.c.smtp_host.is_not(None)).order_by(B.c.name)).all()
    domain = sender.rpartition("@")[2]
    return (next((b for b in boxes if b.username.lower() == sender), None)
            or next((b for b in boxes if b.username.lower().rpartition("@")[2] == domain), None))
