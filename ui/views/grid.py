"""The one way the console makes a plain grid: rows chosen whole, alternating colours, no row
numbers, the last column stretched, and the widths given."""
from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QTableView


def grid(model, name: str, widths: dict[int, int] | None = None, *, single: bool = False) -> QTableView:
    t = QTableView(objectName=name, alternatingRowColors=True, wordWrap=False)
    t.setModel(model)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    if single:
        t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.verticalHeader().hide()
    t.horizontalHeader().setStretchLastSection(True)
    for col, width in (widths or {}).items():
        t.setColumnWidth(col, width)
    return t
