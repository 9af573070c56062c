"""The audit trail, newest first, paged as the view scrolls."""
from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal

from core.store import queries
from core.store.db import Store
from ui.models.common import Index, header
from ui.workers import Generation, submit

COL_SEQ, COL_AT, COL_ACTOR, COL_ACTION, COL_TARGET, COL_CHANGE = range(6)
HEADERS = ("#", "When (UTC)", "Who", "What", "On", "Before → after")
PAGE = 500


def change_text(before: dict | None, after: dict | None) -> str:
    if not before and not after:
        return ""
    before, after = before or {}, after or {}
    keys = [k for k in after if k != "diff" and before.get(k) != after.get(k)] or list(after)
    parts = [f"{k}: {before.get(k)!s} → {after.get(k)!s}" for k in keys if k != "diff"]
    if "diff" in after:
        parts.append(f"{sum(1 for line in after['diff'] if line[:1] in '+-' and line[:3] not in ('+++', '---'))} line(s) changed")
    return "; ".join(parts)


class AuditTableModel(QAbstractTableModel):
    failed = Signal(str)

    def __init__(self, store: Store, parent=None) -> None:
        super().__init__(parent)
        self.store = store
        self.rows: list[dict] = []
        self.actor: str | None = None
        self.action: str | None = None
        self._generation = Generation()
        self._exhausted, self._loading = False, False
        self.privacy = False

    def set_privacy(self, on: bool) -> None:
        """A correction's diff holds the message's text: hidden under the privacy screen."""
        self.privacy = on
        if self.rows:
            self.dataChanged.emit(self.index(0, COL_CHANGE), self.index(len(self.rows) - 1, COL_CHANGE))

    def reload(self, actor: str | None = None, action: str | None = None) -> None:
        self.actor, self.action = actor, action
        self._generation.next()
        self.beginResetModel()
        self.rows, self._exhausted, self._loading = [], False, False
        self.endResetModel()
        self.fetchMore()

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: Index = QModelIndex()) -> None:
        if not self.canFetchMore(parent):
            return
        self._loading = True
        token, before = self._generation.value, self.rows[-1]["seq"] if self.rows else None
        actor, action = self.actor, self.action
        submit(lambda: queries.audit_page(self.store, before_seq=before, actor=actor, action=action, limit=PAGE),
               lambda rows: self._arrived(token, rows), self.failed.emit, context=self)

    def _arrived(self, token: int, rows: list[dict]) -> None:
        if not self._generation.current(token):
            return
        self._loading, self._exhausted = False, len(rows) < PAGE
        if rows:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(rows) - 1)
            self.rows.extend(rows)
            self.endInsertRows()

    @property
    def loading(self) -> bool:
        return self._loading

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return header(HEADERS, section, orientation, role)

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
