"""The Scopes tab: one endpoint's SMART scope inventory, the matrix and the review's flags,
filterable to writes and to a resource, exported as CSV or a self-contained HTML report."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from core.changes import Changes
from core.commands.context import Context
from core.fhir import inventory, report
from core.fhir.inventory import Inventory
from core.store import endpoints
from ui.actions import operations
from ui.models.scope_matrix import (
    COL_FINDING,
    COL_INTERACTION,
    COL_RESOURCE,
    COL_SCOPE,
    COL_SEVERITY,
    COL_SUPPORTED,
    LAYER_COLS,
    FlagTableModel,
    ScopeMatrixModel,
)
from ui.settings import in_documents
from ui.views.grid import grid
from ui.views.tab_layout import bar_over_split
from ui.workers import Generation, submit


class ScopesView(QWidget):
    def __init__(self, ctx: Context, dark: bool = False, parent=None) -> None:
        super().__init__(parent)
        operations().did_change.connect(self._on_change)
        self.ctx = ctx
        self.inventory: Inventory | None = None
        self.endpoint: dict | None = None
        self._generation = Generation()
        self.matrix = ScopeMatrixModel(self, dark)
        self.flags = FlagTableModel(self, dark)
        self.chooser = QComboBox(minimumWidth=220, minimumContentsLength=28,  # a long endpoint name never widens the window
                                 sizeAdjustPolicy=QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.writes = QCheckBox("Writes only")
        self.writes.setToolTip("Only create, update and delete: what needs contracted access and sign-off")
        self.resource = QLineEdit(placeholderText="Resource type", clearButtonEnabled=True, maximumWidth=200)
        self.csv = QPushButton("Export CSV…")
        self.html = QPushButton("Export HTML report…")
        self.summary = QLabel(wordWrap=True)
        self.matrix_view = grid(self.matrix, "scope_matrix", {
            COL_RESOURCE: 160, COL_INTERACTION: 80, COL_SUPPORTED: 76, **dict.fromkeys(LAYER_COLS.values(), 120),
            LAYER_COLS["advertised"]: 170})
        self.flag_view = grid(self.flags, "scope_flags", {COL_SEVERITY: 80, COL_SCOPE: 300, COL_FINDING: 500})
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Endpoint"))
        for w in (self.chooser, self.writes, self.resource, self.csv, self.html):
            bar.addWidget(w)
        bar.addStretch(1)
        bar_over_split(self, bar, self.flag_view, self.matrix_view, name="scopes_split", stretch=(2, 3),
                       between=(self.summary,))
        self.chooser.currentIndexChanged.connect(self.load)
        self.writes.toggled.connect(self._filter)
        self.resource.textChanged.connect(self._filter)
        self.csv.clicked.connect(lambda: self.export("csv"))
        self.html.clicked.connect(lambda: self.export("html"))

    def _on_change(self, changes: Changes) -> None:
        """A command changed what this view shows (ui.actions): read it again."""
        if changes.endpoints:
            self.refresh()

    def refresh(self) -> None:
        """Reload the list of endpoints (keeping the chosen one) and its inventory."""
        chosen = self.chooser.currentData()
        submit(lambda: endpoints.overview(self.ctx.store), lambda rows: self._endpoints(rows, chosen), context=self)

    def _endpoints(self, rows: list[dict], chosen: int | None) -> None:
        self.chooser.blockSignals(True)
        self.chooser.clear()
        for r in rows:
            self.chooser.addItem(r["name"], r["id"])
        index = self.chooser.findData(chosen)
        self.chooser.setCurrentIndex(index if index >= 0 else 0)
        self.chooser.blockSignals(False)
        self.load()

    def load(self) -> None:
        endpoint_id = self.chooser.currentData()
        for w in (self.csv, self.html):
            w.setEnabled(endpoint_id is not None)
        if endpoint_id is None:
            self.inventory = self.endpoint = None
            self.summary.setText("No FHIR endpoints yet: add one on the Endpoints tab.")
            self._filter()
            return
        token = self._generation.next()

        def build() -> tuple[dict, Inventory]:
            e = endpoints.get(self.ctx.store, endpoint_id)
            return e, inventory.of_endpoint(e)

        submit(build, lambda found: self._show(*found) if self._generation.current(token) else None,
               lambda text: self.summary.setText(f"Could not build the inventory: {text}"), context=self)

    def _show(self, endpoint: dict, inventory: Inventory) -> None:
        self.endpoint, self.inventory = endpoint, inventory
        s = inventory.summary()
        known = "from its CapabilityStatement" if endpoint.get("capability") else "no CapabilityStatement yet (Discover)"
        self.summary.setText(
            f"{endpoint['name']}: {s['resource_types']} resource types ({known}); scopes: {s['advertised_scopes']} "
            f"advertised, {s['requested_scopes']} requested, {s['granted_scopes']} granted, {s['needed_scopes']} needed. "
            f"Findings: {s['flags']['high']} high, {s['flags']['warn']} to review, {s['flags']['info']} for information.")
        self._filter()

    def _filter(self) -> None:
        writes = self.writes.isChecked()
        self.matrix.set_inventory(self.inventory, writes, self.resource.text().strip())
        self.flags.set_flags(self.inventory.flags if self.inventory else [], writes)

    def export(self, kind: str) -> None:
        if self.inventory is None or self.endpoint is None:
            return
        suggested = f"scopes-{self.endpoint['name'].replace(' ', '_')}.{kind}"
        path, _ = QFileDialog.getSaveFileName(self, "Export the scope inventory", in_documents(suggested),
                                              "CSV (*.csv)" if kind == "csv" else "HTML (*.html)")
        if not path:
            return
        writes = self.writes.isChecked()
        text = (report.to_csv(self.inventory, writes) if kind == "csv" else
                report.to_html(self.inventory, endpoint=f"{self.endpoint['name']} ({self.endpoint['base_url']})",
                               client=self.endpoint.get("client_id"), generated=self.ctx.now(), writes_only=writes))
        Path(path).write_text(text, encoding="utf-8")
        self.summary.setText(f"Exported to {path}")
