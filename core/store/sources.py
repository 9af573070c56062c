"""Sources: where messages came from and how far each is read. Which stored source a file
on disk is: resumes, renames, rotations, truncations.

A file is known by its device and inode plus a fingerprint of its first KiB, so a renamed
file keeps its offset, a rotated-in file starts afresh, and a reused inode or a file
truncated and rewritten is never mistaken for the old one.
"""
from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path

from sqlalchemy import insert, select, update

from core.sources.discover import shown
from core.store.db import Tx
from core.store.models import Source

S = Source.__table__
FINGERPRINT_BYTES = 1024


def fingerprint(path: Path, length: int) -> str:
    with open(path, "rb") as f:
        head = f.read(length)
    return f"{len(head)}:{hashlib.sha256(head).hexdigest()[:40]}"


def _same_content(path: Path, stored: str | None) -> bool:
    if not stored:
        return True
    length = int(stored.split(":", 1)[0])
    return fingerprint(path, length) == stored


def identify(conn: Tx, path: Path, st: os.stat_result, now: datetime) -> dict:
    """The source row for the file at path, created or updated as the file's story says."""
    path_s = shown(path)
    by_inode = conn.execute(select(S).where(S.c.device == st.st_dev, S.c.inode == st.st_ino, S.c.kind == "file",
                                            S.c.state.in_(("active", "done", "gone"))).order_by(S.c.id.desc())).first()
    if by_inode is not None and _same_content(path, by_inode.fingerprint):
        src = by_inode._asdict()
        if st.st_size < src["offset"]:  # truncated in place (copytruncate): a new generation
            _retire(conn, src["id"], "truncated")
            return _create(conn, path, st, now)
        changes = {"last_seen": now, "size": st.st_size, "state": "active"}
        if src["path"] != path_s:  # renamed or rotated away: keep reading where we were
            changes["path"] = path_s
        if not src["fingerprint"] or int(src["fingerprint"].split(":")[0]) < min(st.st_size, FINGERPRINT_BYTES):
            changes["fingerprint"] = fingerprint(path, FINGERPRINT_BYTES)
        conn.execute(update(S).where(S.c.id == src["id"]).values(**changes))
        src.update(changes)
        return src
    if by_inode is not None:  # the inode was reused by a different file
        _retire(conn, by_inode.id, "gone")
    # a different file now lives at this path: whatever was there before has gone
    conn.execute(update(S).where(S.c.path == path_s, S.c.kind == "file", S.c.state == "active").values(state="gone"))
    return _create(conn, path, st, now)


def _retire(conn: Tx, source_id: int, state: str) -> None:
    conn.execute(update(S).where(S.c.id == source_id).values(state=state))


def _create(conn: Tx, path: Path, st: os.stat_result, now: datetime) -> dict:
    row = {"path": shown(path), "kind": "file", "device": st.st_dev, "inode": st.st_ino,
           "fingerprint": fingerprint(path, FINGERPRINT_BYTES) if st.st_size else None, "size": st.st_size,
           "offset": 0, "state": "active", "error": None, "batch": None, "first_seen": now, "last_seen": now}
    row["id"] = conn.execute(insert(S).returning(S.c.id), row).scalar_one()
    return row


def named(conn: Tx, name: str, kind: str, now: datetime) -> dict:
    """A source that is not a file (a listener, the demo feed), found or made by name."""
    found = conn.execute(select(S).where(S.c.path == name, S.c.kind == kind)).first()
    if found is not None:
        return found._asdict()
    row = {"path": name, "kind": kind, "device": None, "inode": None, "fingerprint": None, "size": 0,
           "offset": 0, "state": "active", "error": None, "batch": None, "first_seen": now, "last_seen": now}
    row["id"] = conn.execute(insert(S).returning(S.c.id), row).scalar_one()
    return row


def advance(conn: Tx, source_id: int, offset: int, now: datetime, *, size: int | None = None, batch: dict | None = None,
            done: bool | None = None) -> None:
    """Record how far a source is read (committed with what was read up to there)."""
    values = {"offset": offset, "last_seen": now}
    if size is not None:
        values["size"] = size
    if done is not None:
        values.update(batch=batch, state="done" if done else "active")
    conn.execute(update(S).where(S.c.id == source_id).values(**values))


def failed(conn: Tx, source_id: int, reason: str) -> None:
    """A source that could not be read, and why."""
    conn.execute(update(S).where(S.c.id == source_id).values(state="error", error=reason))
