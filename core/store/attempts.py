"""Resend attempts: each written before its message leaves, completed when the answer comes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select

from core.store.bulk import update_many
from core.store.db import Tx
from core.store.models import ResendAttempt

R = ResendAttempt.__table__


def last(conn: Tx, original_id: int):
    """The newest attempt at any version of a message (state, destination, started_at), or None."""
    return conn.execute(select(R.c.state, R.c.destination, R.c.started_at).where(R.c.original_id == original_id)
                        .order_by(R.c.id.desc()).limit(1)).first()


def start(conn: Tx, attempts: list[dict]) -> list[int]:
    """Record attempts as `sending` (item_id, message_id, original_id, destination, sent, actor,
    started_at each); returns their ids in order."""
    return list(conn.execute(insert(R).returning(R.c.id, sort_by_parameter_order=True),
                             [{**a, "state": "sending"} for a in attempts]).scalars().all())


def finish(conn: Tx, outcomes: list[dict], now: datetime) -> None:
    """Record outcomes (id, state, ack_code, answer_id, detail each)."""
    update_many(conn, R, [{**o, "finished_at": now} for o in outcomes],
                ["state", "ack_code", "answer_id", "detail", "finished_at"])
