"""The Endpoints tab: every FHIR endpoint with its health, and the selected one's latency
history (pyqtgraph, UTC time axis). Probes run off the GUI thread, all endpoints at once,
now and on a timer; discovery on demand."""
from __future__ import annotations

from datetime import UTC, timedelta

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core import labels
from core.changes import Changes
from core.commands.context import Context
from core.commands.endpoints import ConfigureEndpoint, Discover, ProbeEndpoints, RemoveEndpoint, SignIn
from core.store import endpoints
from ui.actions import confirm_then, operations, run_command
from ui.dialogs.endpoint import EndpointDialog
from ui.models.endpoint_table import (
    COL_AUTH,
    COL_CERT,
    COL_FHIR,
    COL_LATENCY,
    COL_NAME,
    COL_PROBED,
    COL_STATUS,
    COL_URL,
    ID_ROLE,
    EndpointTableModel,
)
from ui.views.grid import grid
from ui.views.tab_layout import bar_over_split
from ui.workers import Generation, submit

PROBE_EVERY_MS = 5 * 60 * 1000
HISTORY = timedelta(days=2)
STATUS_COLOURS = {"ok": "#2e8540", "degraded": "#c27c0e", "down": "#c0392b"}


class EndpointsView(QWidget):

    def __init__(self, ctx: Context, parent=None) -> None:
        super().__init__(parent)
        operations().did_change.connect(self._on_change)
        self.ctx = ctx
        self.model = EndpointTableModel(self)
        self.table = grid(self.model, "endpoints", {COL_NAME: 180, COL_URL: 210, COL_AUTH: 80, COL_FHIR: 50,
                                                    COL_STATUS: 100, COL_LATENCY: 70, COL_CERT: 150, COL_PROBED: 140},
                          single=True)
        self.add = QPushButton("Add endpoint…")
        self.edit = QPushButton("Edit…")
        self.remove = QPushButton("Remove…")
        self.discover = QPushButton("Discover")
        self.discover.setToolTip("Fetch the CapabilityStatement, smart-configuration and TLS certificate again")
        self.sign_in = QPushButton("Sign in…")
        self.sign_in.setToolTip("SMART standalone launch: sign in in the system browser; probes then use the session")
        self.probe = QPushButton("Probe all now")
        self.auto = QCheckBox("Probe every 5 minutes")
        self.state = QLabel()
        self.plot = self._plot()
        self.steps = QLabel(wordWrap=True, textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        self._layout()
        self.timer = QTimer(self, interval=PROBE_EVERY_MS)
        self.timer.timeout.connect(self.probe_all)
        self.add.clicked.connect(lambda: self.configure(None))
        self.edit.clicked.connect(lambda: self.configure(self.selected()))
        self.remove.clicked.connect(self.remove_selected)
        self.discover.clicked.connect(self.discover_selected)
        self.sign_in.clicked.connect(self.sign_in_selected)
        self.probe.clicked.connect(self.probe_all)
        self.auto.toggled.connect(lambda on: self.timer.start() if on else self.timer.stop())
        self.auto.setChecked(True)  # scheduled by default; a person can pause it
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._chosen())
        self._history_generation = Generation()
        self.probing = False

    def _plot(self) -> pg.PlotWidget:
        plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(utcOffset=0)})
        base = self.palette().color(QPalette.ColorRole.Base)
        text = self.palette().color(QPalette.ColorRole.Text)
        plot.setBackground(base)
        plot.setLabel("left", "latency (ms)", color=text.name())
        plot.setLabel("bottom", "time (UTC)", color=text.name())
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setMinimumHeight(180)
        plot.getPlotItem().setMenuEnabled(False)
        return plot

    def _layout(self) -> None:
        bar = QHBoxLayout()
        for w in (self.add, self.edit, self.remove, self.discover, self.sign_in, self.probe, self.auto, self.state):
            bar.addWidget(w)
        bar.addStretch(1)
        lower = QWidget()
        v = QVBoxLayout(lower)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(self.steps)
        v.addWidget(self.plot, 1)
        bar_over_split(self, bar, self.table, lower, name="endpoints_split", stretch=(2, 3))

    # -- reading ---------------------------------------------------------------------------
    def _on_change(self, changes: Changes) -> None:
        """A command changed what this view shows (ui.actions): read it again."""
        if changes.endpoints:
            self.refresh()

    def refresh(self) -> None:
        chosen = self.selected()
        submit(lambda: endpoints.overview(self.ctx.store), lambda rows: self._show(rows, chosen),
               lambda text: self.state.setText(f"Could not read the endpoints: {text}"), context=self)

    def _show(self, rows: list[dict], chosen: int | None) -> None:
        self.model.set_rows(rows)
        row = next((i for i, r in enumerate(rows) if r["id"] == chosen), 0 if rows else None)
        if row is not None:
            self.table.selectRow(row)
        self.edit.setEnabled(bool(rows))
        self.discover.setEnabled(bool(rows))
        self.probe.setEnabled(bool(rows) and not self.probing)
        if not rows:
            self.steps.setText("No FHIR endpoints yet: add one to see its health, latency and scope inventory.")
        self._chosen()

    def _chosen(self) -> None:
        row = self._selected_row()
        self.sign_in.setEnabled(row is not None and row["auth"] == "standalone")
        self.show_history()

    def _selected_row(self) -> dict | None:
        endpoint_id = self.selected()
        return next((r for r in self.model.rows if r["id"] == endpoint_id), None)

    def selected(self) -> int | None:
        index = self.table.currentIndex()
        return index.siblingAtColumn(COL_NAME).data(ID_ROLE) if index.isValid() else None

    def show_history(self) -> None:
        endpoint_id = self.selected()
        if endpoint_id is None:
            self.plot.clear()
            return
        token = self._history_generation.next()
        since = self.ctx.now() - HISTORY
        submit(lambda: endpoints.history(self.ctx.store, endpoint_id, since),
               lambda rows: self._draw(rows) if self._history_generation.current(token) else None, context=self)

    def _draw(self, rows: list[dict]) -> None:
        self.plot.clear()
        row = self.model.rows[self.table.currentIndex().row()] if self.table.currentIndex().isValid() else None
        if not rows:
            self.steps.setText(f"{row['name'] if row else ''}: not probed yet.")
            return
        xs = [r["at"].replace(tzinfo=UTC).timestamp() for r in rows]
        ys = [r["latency_ms"] or 0 for r in rows]
        self.plot.plot(xs, ys, pen=pg.mkPen(self.palette().color(QPalette.ColorRole.Highlight), width=2))
        self.plot.plot(xs, ys, pen=None, symbol="o", symbolSize=7, symbolPen=None,
                       symbolBrush=[pg.mkBrush(STATUS_COLOURS.get(r["status"], "#888")) for r in rows])
        last = rows[-1]
        self.steps.setText(f"{row['name'] if row else ''}: last probe {last['at']:%Y-%m-%d %H:%M:%S} UTC, "
                           f"{last['status']} in {last['latency_ms']:.0f} ms"
                           + (f". {last['detail']}" if last["detail"] else "") + f". {len(rows)} probes in the last two days.")

    # -- acting ----------------------------------------------------------------------------
    def probe_all(self) -> None:
        if self.probing or not self.model.rows:
            return
        self.probing = True
        self.probe.setEnabled(False)
        self.state.setText(f"Probing {labels.plural(len(self.model.rows), 'endpoint')}…")

        def done(results) -> None:
            self.probing = False
            bad = sum(p.status != "ok" for _, p in results)
            self.state.setText(f"Probed {len(results)}: {bad} not OK." if bad else f"Probed {len(results)}: all OK.")
            self.refresh()

        def failed(text: str) -> None:
            self.probing = False
            self.state.setText(f"Probe failed: {text}")
            self.refresh()

        submit(lambda: ProbeEndpoints(self.ctx).run(), done, failed, context=self)

    def remove_selected(self) -> None:
        row = self._selected_row()
        if row is None:
            return
        confirm_then(self, "Remove endpoint", f"Remove {row['name']} ({row['base_url']}), its probe history and its "
                     "secrets in the keyring? The removal is recorded in the audit trail.",
                     lambda: RemoveEndpoint(self.ctx).run(row["name"]), lambda _: None, changes=RemoveEndpoint.changes)

    def discover_selected(self) -> None:
        endpoint_id = self.selected()
        if endpoint_id is None:
            return
        name = next(r["name"] for r in self.model.rows if r["id"] == endpoint_id)
        self.state.setText(f"Discovering {name}…")
        run_command(self, "Discover", lambda: Discover(self.ctx).run(name), self._discovered, changes=Discover.changes)

    def sign_in_selected(self) -> None:
        row = self._selected_row()
        if row is None:
            return
        self.state.setText(f"Sign in to {row['name']} in the browser window that opens…")
        name = row["name"]
        run_command(self, "Sign in", lambda: SignIn(self.ctx).run(name), lambda granted: self._signed_in(name, granted),
                    changes=SignIn.changes)

    def _signed_in(self, name: str, granted: str | None) -> None:
        """granted is None when the sign-in failed (the person was told why)."""
        self.state.setText(f"{name}: signed in; granted {granted or 'nothing stated'}" if granted is not None
                           else f"{name}: not signed in")

    def _discovered(self, endpoint: dict | None) -> None:
        if endpoint:
            problem = endpoint.get("discovery_problem")
            self.state.setText(f"{endpoint['name']}: FHIR {endpoint.get('fhir_version') or '?'}"
                               + (f"; {problem}" if problem else ""))

    def configure(self, endpoint_id: int | None) -> None:
        """Add an endpoint (None) or change one: its stored settings are read off the GUI thread first."""
        if endpoint_id is None:
            self._configure(None)
            return
        submit(lambda: endpoints.get(self.ctx.store, endpoint_id), self._configure,
               lambda text: self.state.setText(f"Could not read the endpoint: {text}"), context=self)

    def _configure(self, current: dict | None) -> None:
        dialog = EndpointDialog(current, self)
        if not dialog.exec():
            return
        name, secret, settings = dialog.values()

        def save() -> dict:
            ConfigureEndpoint(self.ctx).run(name, secret=secret, **settings)
            return Discover(self.ctx).run(name)

        self.state.setText(f"Saving {name} and discovering it…")
        run_command(self, "Endpoint", save, self._discovered, changes=ConfigureEndpoint.changes)
