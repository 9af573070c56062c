"""Acknowledge, reopen and assign queue items: one item, a selection or a whole group.

Each change is a compare-and-set on the item's row version, so two consoles on one shared
store cannot both act on an item: the second is told, and nothing of theirs is written.
Every change appends an audit entry with the item's state before and after.
"""
from __future__ import annotations

from dataclasses import replace

from core.changes import TRIAGE
from core.commands.context import CommandError, ConflictError, Context
from core.store import audit, queue
from core.store.db import Tx
from core.store.queue import QueueFilter
from core.vocabulary import AuditAction, TriageState

ACK_REASONS = {
    "resolved_upstream": "Resolved upstream", "duplicate": "Duplicate", "test_message": "Test message",
    "will_not_fix": "Will not fix", "other": "Other",
}
_SHOWN = ("triage_state", "owner", "note", "ack_reason", "row_version")


def _state(row) -> dict:
    return {k: getattr(row, k) for k in _SHOWN}


class _Transition:
    changes = TRIAGE
    action: AuditAction

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _apply(self, items: dict[int, int | None], values: dict) -> list[int]:
        """Set values on each item (id -> the row version the person saw, or None for "as it is now")."""
        if not items:
            raise CommandError("No queue items were chosen.")
        with self.ctx.store.begin() as conn:
            actor, now = self.ctx.who(conn), self.ctx.now()
            for item_id, seen in items.items():
                self._one(conn, item_id, seen, values, actor, now)
        return list(items)

    def _one(self, conn: Tx, item_id: int, seen: int | None, values: dict, actor: str, now) -> None:
        row = queue.get(conn, item_id)
        if row is None or (seen is not None and row.row_version != seen):
            raise ConflictError(item_id, _state(row) if row else None)
        if not queue.change(conn, item_id, row.row_version, values, now):  # changed between our read and our write
            now_row = queue.get(conn, item_id)
            raise ConflictError(item_id, _state(now_row) if now_row else None)
        after = {**_state(row), **values, "row_version": row.row_version + 1}
        audit.append(conn, actor=actor, action=self.action, at=now, item_id=item_id, message_id=row.message_id,
                     before=_state(row), after=after)


class Acknowledge(_Transition):
    """Mark items handled with a reason and a note (Iguana's "mark error as handled")."""

    action = AuditAction.ACKNOWLEDGE

    def run(self, items: dict[int, int | None], reason: str, note: str | None = None) -> list[int]:
        if reason not in ACK_REASONS:
            raise CommandError(f"Choose a reason: {', '.join(ACK_REASONS)}.")
        if reason == "other" and not (note or "").strip():
            raise CommandError('A note is needed when the reason is "other".')
        return self._apply(items, {"triage_state": TriageState.ACKNOWLEDGED, "ack_reason": reason, "note": note})


class Reopen(_Transition):
    """Undo an acknowledgement (or a resolution): the item is open again."""

    action = AuditAction.REOPEN

    def run(self, items: dict[int, int | None], note: str | None = None) -> list[int]:
        return self._apply(items, {"triage_state": TriageState.OPEN, "ack_reason": None, "note": note})


class Assign(_Transition):
    action = AuditAction.ASSIGN

    def run(self, items: dict[int, int | None], owner: str | None) -> list[int]:
        return self._apply(items, {"owner": (owner or "").strip() or None})


def group_items(ctx: Context, signature: str, flt: QueueFilter | None = None) -> dict[int, int]:
    """Every item of a group (one signature) that the filter shows (by default the open ones),
    with its row version: a group action covers exactly the items the person sees counted."""
    return queue.versions(ctx.store, replace(flt or QueueFilter(states=[TriageState.OPEN]), signature=signature))
