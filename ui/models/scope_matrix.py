"""The scope inventory as two grids: the matrix (resource type × interaction, with what is
supported, advertised, requested, granted and needed) and the review's flags."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont

from core.fhir.inventory import LAYERS, Flag, Inventory
from core.fhir.scopes import INTERACTION_WORDS, WRITE_INTERACTIONS
from core.vocabulary import Severity
from ui import icons
from ui.models.common import Index, RowsTableModel

COL_RESOURCE, COL_INTERACTION, COL_SUPPORTED = range(3)
LAYER_COLS = {layer: 3 + i for i, layer in enumerate(LAYERS)}
COL_FLAGS = 3 + len(LAYERS)
HEADERS = ("Resource", "Interaction", "Supported", *(layer.title() for layer in LAYERS), "Flags")
SEVERITY_COLOURS = {"high": ("#fde2e1", "#5c2323"), "warn": ("#fff3cd", "#5a4a16"), "info": ("#e8f1fb", "#1f3a5a")}


def tint(kind: str, dark: bool) -> QBrush:
    light_colour, dark_colour = SEVERITY_COLOURS[kind]
    return QBrush(QColor(dark_colour if dark else light_colour))


class ScopeMatrixModel(RowsTableModel):
    HEADERS = HEADERS

    def __init__(self, parent=None, dark: bool = False) -> None:
        super().__init__(parent)
        self.dark = dark
        self._bold = QFont()
        self._bold.setBold(True)

    def set_inventory(self, inventory: Inventory | None, writes_only: bool = False, resource: str = "") -> None:
        rows = inventory.rows(writes_only) if inventory else []
        self.set_rows([r for r in rows if resource.lower() in r["resource"].lower()])

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        r, col = self.row(index), index.column()
        if r is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_RESOURCE:
                return r["resource"]
            if col == COL_INTERACTION:
                return INTERACTION_WORDS[r["interaction"]]
            if col == COL_SUPPORTED:
                return {True: "yes", False: "no", None: "unknown"}[r["supported"]]
            if col == COL_FLAGS:
                return ", ".join(f.replace("_", " ") for f in r["flags"])
            return ", ".join(r[next(layer for layer, c in LAYER_COLS.items() if c == col)])
        if role == Qt.ItemDataRole.FontRole and col == COL_INTERACTION and r["interaction"] in WRITE_INTERACTIONS:
            return self._bold  # writes stand out
        if role == Qt.ItemDataRole.BackgroundRole:
            if col == LAYER_COLS["granted"] and r["granted"] and r["supported"] is False:
                return tint("high", self.dark)  # granted what the server does not support
            if col == LAYER_COLS["needed"] and r["needed"] and not r["granted"] and not r["requested"]:
                return tint("high", self.dark)
            if col == COL_FLAGS and r["flags"]:
                return tint("warn", self.dark)
        if role == Qt.ItemDataRole.ToolTipRole and col == COL_INTERACTION:
            return "a write: create, update or delete" if r["interaction"] in WRITE_INTERACTIONS else "a read"
        return None


COL_SEVERITY, COL_SCOPE, COL_FINDING = range(3)
FLAG_HEADERS = ("Severity", "Scope", "Finding")


class FlagTableModel(RowsTableModel):
    HEADERS = FLAG_HEADERS

    def __init__(self, parent=None, dark: bool = False) -> None:
        super().__init__(parent)
        self.dark = dark

    def set_flags(self, flags: list[Flag], writes_only: bool = False) -> None:
        from core.fhir.scopes import parse

        order = {"high": 0, "warn": 1, "info": 2}
        chosen = [f for f in flags if not writes_only or parse(f.scope).is_write]
        self.set_rows(sorted(chosen, key=lambda f: (order[f.severity], f.scope)))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        f: Flag | None = self.row(index)
        col = index.column()
        if f is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return (f.severity, f.scope, f.text)[col]
        if role == Qt.ItemDataRole.DecorationRole and col == COL_SEVERITY:
            return icons.state(Severity.of(f.severity))
        if role == Qt.ItemDataRole.BackgroundRole and col == COL_SEVERITY:
            return tint(f.severity, self.dark)
        if role == Qt.ItemDataRole.ToolTipRole and col == COL_FINDING:
            return f.text
        return None
