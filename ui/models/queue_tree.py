"""The queue: groups of identical failures (one signature each), newest first, expanding to
their items. A group's items are fetched off the GUI thread when it is first expanded."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt, Signal

from core import labels, privacy
from core.signatures import Signature
from core.store import queue
from core.store.db import Store
from core.store.queue import QueueFilter
from core.vocabulary import QueueKind, TriageState
from ui import icons
from ui.models.common import Index, header
from ui.workers import Generation, submit

COL_PROBLEM, COL_MESSAGE, COL_PATIENT, COL_SENT, COL_KIND, COL_STATE, COL_OWNER, COL_WHEN = range(8)
HEADERS = ("Problem", "Message", "Patient", "Message time", "Kind", "Items / state", "Owner", "Newest / failed")


def _when(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M") if t else ""


class QueueTreeModel(QAbstractItemModel):
    failed = Signal(str)
    loaded = Signal()
    items_loaded = Signal(str)  # a group's items arrived (its signature)

    def __init__(self, store: Store, parent=None) -> None:
        super().__init__(parent)
        self.store = store
        self.filter = QueueFilter(states=[TriageState.OPEN])
        self.groups: list[dict] = []
        self._generation = Generation()
        self._loading: set[str] = set()  # groups whose items are on their way
        self.privacy = False

    # -- loading -------------------------------------------------------------------------
    def set_filter(self, flt: QueueFilter) -> None:
        self.filter = flt
        self.reload()

    def reload(self) -> None:
        token, flt = self._generation.next(), self.filter
        self._loading.clear()
        submit(lambda: queue.groups(self.store, flt), lambda groups: self._groups_arrived(token, groups),
               self.failed.emit, context=self)

    def _groups_arrived(self, token: int, groups: list[dict]) -> None:
        if not self._generation.current(token):
            return
        self.beginResetModel()
        self.groups = [dict(g, node="group", row=i, children=None) for i, g in enumerate(groups)]
        self.endResetModel()
        self.loaded.emit()

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:
        node = self.node(parent)
        return bool(node and node["node"] == "group" and node["children"] is None and node["signature"] not in self._loading)

    def fetchMore(self, parent: Index = QModelIndex()) -> None:
        if not self.canFetchMore(parent):
            return
        group = self.node(parent)
        token, flt = self._generation.value, QueueFilter(**{**vars(self.filter), "signature": group["signature"]})
        self._loading.add(group["signature"])
        submit(lambda: queue.items(self.store, flt), lambda items: self._items_arrived(token, group, items),
               self.failed.emit, context=self)

    def _items_arrived(self, token: int, group: dict, items: list[dict]) -> None:
        if not self._generation.current(token) or group["children"] is not None:
            return
        self._loading.discard(group["signature"])
        parent = self.createIndex(group["row"], 0, group)
        if items:
            self.beginInsertRows(parent, 0, len(items) - 1)
        group["children"] = [dict(item, node="item", group=group, row=i) for i, item in enumerate(items)]
        if items:
            self.endInsertRows()
        self.items_loaded.emit(group["signature"])

    def set_privacy(self, on: bool) -> None:
        """Receivers write identifiers into NAK texts: under the privacy screen an item's words lose
        its patient's identifiers, and codes and field references stay readable."""
        self.beginResetModel()
        self.privacy = on
        self.endResetModel()

    # -- what the view asks --------------------------------------------------------------
    def node(self, index: Index) -> dict | None:
        """The group or item behind an index. Views ask this, not data(): a node links to its group
        and the group to its items, which Qt's QVariant conversion would follow round forever."""
        return index.internalPointer() if index.isValid() else None

    # -- Qt model API --------------------------------------------------------------------
    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:
        if not 0 <= column < len(HEADERS) or (parent.isValid() and parent.column() != 0):
            return QModelIndex()
        node = self.node(parent)
        rows = self.groups if node is None else (node["children"] or []) if node["node"] == "group" else []
        return self.createIndex(row, column, rows[row]) if 0 <= row < len(rows) else QModelIndex()

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        node = self.node(index)
        if node is None or node["node"] == "group":
            return QModelIndex()
        return self.createIndex(node["group"]["row"], 0, node["group"])

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        if parent.isValid() and parent.column() != 0:
            return 0
        node = self.node(parent)
        if node is None:
            return len(self.groups)
        return len(node["children"] or []) if node["node"] == "group" else 0

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return len(HEADERS)

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:
        node = self.node(parent)
        if node is None:
            return bool(self.groups) and not parent.isValid()
        return node["node"] == "group" and parent.column() == 0 and (node["children"] is None or bool(node["children"]))

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return header(HEADERS, section, orientation, role)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node = self.node(index)
        if node is None:
            return None
        col, group = index.column(), node["node"] == "group"
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_PATIENT:
                return "" if group else privacy.mask(labels.patient(node), self.privacy) or ""
            text = self._group_text(node, col) if group else self._item_text(node, col)
            if self.privacy and col == COL_PROBLEM and not group:  # a group's title is a signature: no identifier in it
                return privacy.mask_known(text, [node.get("patient_id"), node.get("patient_name")])
            return text
        if role == Qt.ItemDataRole.DecorationRole:
            if col == COL_KIND:
                return icons.state(QueueKind.of(node["kind"]))
            if col == COL_STATE and not group:
                return icons.state(TriageState.of(node["triage_state"]))
        if role == Qt.ItemDataRole.ToolTipRole and col == COL_PROBLEM and not self.privacy:
            return node["example"] if group else node["reason"]
        return None

    @staticmethod
    def _group_text(g: dict, col: int) -> str:
        return {COL_PROBLEM: Signature.parse(g["signature"]).title(), COL_KIND: QueueKind.label(g["kind"]),
                COL_STATE: f"{g['items']:,}", COL_WHEN: _when(g["newest"])}.get(col, "")

    @staticmethod
    def _item_text(i: dict, col: int) -> str:
        state = i["triage_state"] + (f" ({i['ack_reason'].replace('_', ' ')})" if i.get("ack_reason") else "")
        message = f"{i['message_type'] or ''} {i['control_id'] or ''}".strip() if i["message_id"] else "(a whole file)"
        return {COL_PROBLEM: i["reason"], COL_MESSAGE: message, COL_SENT: _when(i.get("message_time")),
                COL_KIND: QueueKind.label(i["kind"]), COL_STATE: state, COL_OWNER: i["owner"] or "",
                COL_WHEN: _when(i["created_at"])}.get(col, "")
