"""The go-live board: per interface, first and last message, volume today, ACK coverage,
error rate, open queue items and silence; sortable, exported as CSV."""
from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core.commands.context import Context
from core.store import flows
from ui.models.board_table import COL_INTERFACE, SORT_ROLE, BoardModel
from ui.privacy_screen import screen
from ui.views.grid import export_shown, grid
from ui.workers import submit


class BoardView(QWidget):
    def __init__(self, ctx: Context, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = BoardModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = grid(self.proxy, "board", {COL_INTERFACE: 220, 1: 150, 2: 150})
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COL_INTERFACE, Qt.SortOrder.AscendingOrder)
        self.export = QPushButton("Export…")
        self.export.setToolTip("The board as shown, to CSV or JSON (audited)")
        self.export.clicked.connect(self.export_shown)
        self.state = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(self.export)
        bar.addWidget(self.state, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)

    def refresh(self) -> None:
        now = self.ctx.now()
        submit(lambda: flows.board(self.ctx.store, now), self._show,
               lambda text: self.state.setText(f"Could not read the board: {text}"), context=self)

    def _show(self, rows: list[dict]) -> None:
        self.model.set_rows(rows)
        self.state.setText(f"{len(rows)} interfaces, as of {self.ctx.now():%H:%M:%S} UTC. Click a heading to sort.")

    def export_shown(self) -> None:
        export_shown(self, self.ctx, "board", self.table, screen().on,
                     lambda report: self.state.setText(f"{report['rows']} rows exported to {report['to']}"))
