"""What every operator command is given (DESIGN.md, convention 2), and how it fails."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from core.ingest import utcnow
from core.store import audit
from core.store.db import Store, Tx


@dataclass
class Context:
    store: Store
    actor: str | None = None  # None: the OS user at this host (and the database role on PostgreSQL)
    now: Callable[[], datetime] = field(default=utcnow)

    def who(self, conn: Tx) -> str:
        return self.actor or audit.actor_for(conn)


class CommandError(Exception):
    """A command that could not be carried out, in words for the person who asked."""


class ConflictError(CommandError):
    """Someone else changed the item first; `current` is its state now."""

    def __init__(self, item_id: int, current: dict | None) -> None:
        self.item_id, self.current = item_id, current
        if current is None:
            text = f"Queue item {item_id} no longer exists."
        else:
            by = f" by {current['owner']}" if current.get("owner") else ""
            text = (f"Queue item {item_id} was changed by someone else{by} while you worked: it is now "
                    f"{current['triage_state']}. Nothing was changed; the queue shows its new state.")
        super().__init__(text)
