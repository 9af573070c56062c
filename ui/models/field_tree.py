"""The detail tree: segments → fields → components → subcomponents of the message shown."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt

from core import labels, privacy
from core.hl7.structure import LONG_VALUE, Node, Tree
from ui.models.common import Index, header

COL_LABEL, COL_NAME, COL_TYPE, COL_VALUE = range(4)
HEADERS = ("Field", "Name", "Type", "Value")
NODE_ROLE = Qt.ItemDataRole.UserRole


def shown_value(node: Node, masked: bool) -> str:
    """The value as the tree shows it: masked, or shortened when long (saved whole on request)."""
    if masked and node.phi and node.text:
        return privacy.MASK
    text = node.text
    return f"{text[:LONG_VALUE]}… ({len(text):,} characters)" if len(text) > LONG_VALUE else text


class FieldTreeModel(QAbstractItemModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.tree: Tree | None = None
        self.privacy = False
        self._parents: dict[int, Node | None] = {}
        self._rows: dict[int, int] = {}

    def set_tree(self, tree: Tree | None) -> None:
        self.beginResetModel()
        self.tree = tree
        self._parents, self._rows = {}, {}
        for i, seg in enumerate(tree.segments if tree else []):
            self._index(seg, None, i)
        self.endResetModel()

    def _index(self, node: Node, parent: Node | None, row: int) -> None:
        self._parents[id(node)], self._rows[id(node)] = parent, row
        for i, child in enumerate(node.children):
            self._index(child, node, i)

    def set_privacy(self, on: bool) -> None:
        self.beginResetModel()  # values change throughout the tree; a reset is the honest signal
        self.privacy = on
        self.endResetModel()

    def _children(self, node: Node | None) -> list[Node]:
        if node is None:
            return self.tree.segments if self.tree else []
        return node.children

    def node(self, index: Index) -> Node | None:
        return index.internalPointer() if index.isValid() else None

    # -- Qt model API --------------------------------------------------------------------
    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:
        if column < 0 or column >= len(HEADERS) or (parent.isValid() and parent.column() != 0):
            return QModelIndex()
        children = self._children(self.node(parent))
        if not 0 <= row < len(children):
            return QModelIndex()
        return self.createIndex(row, column, children[row])

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        node = self.node(index)
        up = self._parents.get(id(node)) if node is not None else None
        if up is None:
            return QModelIndex()
        return self.createIndex(self._rows[id(up)], 0, up)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._children(self.node(parent)))

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return header(HEADERS, section, orientation, role)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node = self.node(index)
        if node is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_VALUE and self._parents.get(id(node)) is None:
                return labels.plural(len(node.children), "field")  # a segment row: its fields are below
            return (node.label, node.name, node.datatype, shown_value(node, self.privacy))[col]
        if role == Qt.ItemDataRole.ToolTipRole and col == COL_VALUE and node.shortened:
            return "Long value shortened: use Save value… to keep all of it"
        if role == NODE_ROLE:
            return node
        return None
