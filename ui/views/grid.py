"""The one way the console makes a plain grid: rows chosen whole, alternating colours, no row
numbers, the last column stretched, and the widths given; and the one way any grid is
exported as shown (CSV or JSON, masked while the privacy screen is on, audited)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QFileDialog, QTableView, QTableWidget


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


def plain_table(headers: list[str] | tuple[str, ...], widths: tuple[int, ...] = ()) -> QTableWidget:
    """A grid of text the code fills row by row (a dialog's or a report's): read-only, rows
    chosen whole, rows as tall as the messages table's."""
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(list(headers))
    t.verticalHeader().hide()
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setAlternatingRowColors(True)
    t.setWordWrap(False)
    t.verticalHeader().setDefaultSectionSize(t.fontMetrics().height() + 8)
    t.horizontalHeader().setStretchLastSection(True)
    for col, width in enumerate(widths):
        t.setColumnWidth(col, width)
    return t


def shown_rows(view: QAbstractItemView) -> tuple[list[str], list[list[str]]]:
    """A grid's headers and the text of every row it holds, as shown (masked when its model
    masks), in its order; a tree's rows under their parents, each after its parent."""
    model = view.model()
    columns = [c for c in range(model.columnCount()) if not (isinstance(view, QTableView) and view.isColumnHidden(c))]
    headers = [str(model.headerData(c, Qt.Orientation.Horizontal) or "") for c in columns]
    rows: list[list[str]] = []

    def walk(parent: QModelIndex) -> None:
        for r in range(model.rowCount(parent)):
            rows.append([str(model.index(r, c, parent).data() or "") for c in columns])
            first = model.index(r, 0, parent)
            if not isinstance(view, QTableView) and model.rowCount(first):  # a tree's children
                walk(first)

    walk(QModelIndex())
    return headers, rows


def export_shown(parent, ctx, table: str, view: QAbstractItemView, masked: bool, done=None) -> None:
    """Ask where, then write the grid as shown to CSV or JSON (by the name's ending), audited."""
    from core.commands.export import ExportTable
    from ui.actions import run_command
    from ui.settings import in_documents

    path, chosen = QFileDialog.getSaveFileName(parent, f"Export the {table} table", in_documents(f"{table}.csv"),
                                               "CSV (*.csv);;JSON (*.json)")
    if not path:
        return
    if not Path(path).suffix:
        path += ".json" if chosen.startswith("JSON") else ".csv"
    headers, rows = shown_rows(view)
    run_command(parent, f"Export the {table} table",
                lambda: ExportTable(ctx).run(table, headers, rows, Path(path), masked=masked),
                lambda report: report and done and done(report), changes=ExportTable.changes)
