"""The audit trail, newest first, paged as the view scrolls."""
from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt

from core.store import audit
from core.store.db import Store
from ui.models.common import Index, PagedTableModel

COL_SEQ, COL_AT, COL_ACTOR, COL_ACTION, COL_TARGET, COL_CHANGE = range(6)
HEADERS = ("#", "When (UTC)", "Who", "What", "On", "Before → after")
PAGE = 500


def change_text(before: dict | None, after: dict | None) -> str:
    if not before and not after:
        return ""
    before, after = before or {}, after or {}
    hidden = ("diff", "row_version")  # bookkeeping, not what the person changed
    keys = [k for k in after if k not in hidden and before.get(k) != after.get(k)] or [k for k in after if k not in hidden]
    parts = [f"{k.replace('_', ' ')}: {_shown(before.get(k))} → {_shown(after.get(k))}" for k in keys]
    if "diff" in after:
        n = sum(1 for line in after["diff"] if line[:1] in "+-" and line[:3] not in ("+++", "---"))
        parts.append(f"{n} segment line{'s' if n != 1 else ''} changed")
    return "; ".join(parts)


def _shown(value) -> str:
    """A value as a person reads it: none for None, lists joined, no Python reprs."""
    if value is None or value == "":
        return "none"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


class AuditTableModel(PagedTableModel):
    HEADERS = HEADERS

    def __init__(self, store: Store, parent=None) -> None:
        super().__init__(parent, PAGE)
        self.store = store
        self.actor: str | None = None
        self.action: str | None = None
        self.privacy = False

    def set_privacy(self, on: bool) -> None:
        """A correction's diff holds the message's text: hidden under the privacy screen."""
        self.privacy = on
        if self.rows:
            self.dataChanged.emit(self.index(0, COL_CHANGE), self.index(len(self.rows) - 1, COL_CHANGE))

    def set_filter(self, actor: str | None = None, action: str | None = None) -> None:
        self.actor, self.action = actor, action
        self.reload()

    def query(self):
        store, actor, action, page = self.store, self.actor, self.action, self.page
        return lambda last: audit.page(store, before_seq=last["seq"] if last else None, actor=actor,
                                               action=action, limit=page)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        r, col = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            target = f"item {r['item_id']}" if r["item_id"] else f"message {r['message_id']}" if r["message_id"] else ""
            return (str(r["seq"]), r["at"].strftime("%Y-%m-%d %H:%M:%S"), r["actor"], r["action"].replace("_", " "),
                    target, change_text(r["before"], r["after"]))[col]
        if role == Qt.ItemDataRole.ToolTipRole and col == COL_CHANGE and (r["before"] or r["after"]) and not self.privacy:
            return json.dumps({"before": r["before"], "after": r["after"]}, indent=1, default=str)[:3000]
        return None
