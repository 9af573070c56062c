"""The Statistics tab: field statistics (core.hl7.field_stats) of the messages the Messages
tab's filters show: per path, how often it is filled, its distinct values, the commonest,
its lengths, a chart (the commonest values, or a histogram of times and numbers), and with
"New since" the values first seen since then (drift). Values of identifying fields are
masked while the privacy screen is on."""
from __future__ import annotations

from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core import moments
from core.commands.context import Context
from core.hl7 import query
from core.hl7.field_stats import FieldStats
from core.privacy import MASK, path_identifies
from core.query_filter import hl7_messages
from core.store import messages
from ui.privacy_screen import screen
from ui.views.grid import plain_table
from ui.workers import submit

DEFAULT_PATHS = "OBX[*]-3.1, OBX[*]-8, PV1-3, PID-3[*].4"
SUMMARY = ("Field", "Messages", "Filled", "Fill rate", "Distinct", "Length", "New since")
TOP = 20
STEP = 2000  # messages read between checks of Stop


class StatsView(QWidget):
    def __init__(self, ctx: Context, current_filter: Callable[[], messages.MessageFilter], parent=None) -> None:
        super().__init__(parent)
        self.ctx, self.current_filter = ctx, current_filter
        self.paths = QLineEdit(DEFAULT_PATHS, placeholderText="field paths, comma-separated: OBX[*]-3.1, PV1-3")
        self.since = QLineEdit(placeholderText="new since: 24h, yesterday, 2026-12-01 (blank: no drift)")
        self.since.setMinimumWidth(330)
        self.go = QPushButton("Compute")
        self.go.clicked.connect(self.compute)
        self.paths.returnPressed.connect(self.compute)
        self.stop = QPushButton("Stop", enabled=False)
        self.stop.clicked.connect(lambda: setattr(self, "_stopping", True))
        self.state = QLabel("Statistics of the messages the Messages tab's filters show.")
        self.state.setWordWrap(True)
        self.summary = plain_table(SUMMARY, (170, 80, 80, 80, 80, 90))
        self.summary.setObjectName("stats")
        self.summary.currentCellChanged.connect(lambda row, *_: self._show_path(row))
        self.values = plain_table(("Value", "Count", "First seen"), (190, 70))
        self.chart = pg.PlotWidget(background=None)
        self.chart.setMinimumHeight(200)
        self.chart.showGrid(x=False, y=True, alpha=0.25)
        self.chart.hide()  # no empty axes before there is something to chart
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Fields"))
        bar.addWidget(self.paths, 1)
        bar.addWidget(self.since)
        bar.addWidget(self.go)
        bar.addWidget(self.stop)
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.values)
        lower.addWidget(self.chart)
        lower.setSizes([420, 620])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.summary)
        split.addWidget(lower)
        split.setSizes([180, 500])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addLayout(bar)
        layout.addWidget(self.state)
        layout.addWidget(split, 1)
        self.report: list[dict] = []
        self._stopping = False
        screen().changed.connect(self._privacy_changed)  # a bound slot: disconnected when the view goes

    def _privacy_changed(self, _on: bool) -> None:
        self._show()

    def compute(self) -> None:
        paths = [p.strip() for p in self.paths.text().split(",") if p.strip()]
        try:
            since = moments.moment(self.since.text().strip()) if self.since.text().strip() else None
            stats = FieldStats(paths, since=since)
        except query.QueryError as exc:
            self.state.setText(f"<span style='color:#c0392b'>Fields: {exc.reason}</span>")
            return
        except ValueError as exc:
            self.state.setText(f"<span style='color:#c0392b'>New since: {exc}</span>")
            return
        if not paths:
            self.state.setText("<span style='color:#c0392b'>Name a field path or more: OBX[*]-3.1, PV1-3</span>")
            return
        flt, self._stopping = self.current_filter(), False
        self.go.setEnabled(False)
        self.stop.setEnabled(True)
        self.state.setText("Reading the messages…")

        def work():
            read = 0
            for row, text in hl7_messages(self.ctx.store, flt):
                stats.add(text, row["event_time"])
                read += 1
                if read % STEP == 0 and self._stopping:
                    return stats.report(TOP), since, read, True
            return stats.report(TOP), since, read, False

        submit(work, self._done, self._failed, context=self)

    def _failed(self, text: str) -> None:
        self.go.setEnabled(True)
        self.stop.setEnabled(False)
        self.state.setText(f"Statistics failed: {text}")

    def _done(self, found) -> None:
        self.report, self._since, read, stopped = found
        self.go.setEnabled(True)
        self.stop.setEnabled(False)
        self.state.setText(f"{read:,} HL7 messages read" + (" (stopped: the figures are of those)" if stopped else "")
                           + " — the Messages tab's filters choose which. Choose a field to see its values.")
        self._show()
        if self.report:
            self.summary.setCurrentCell(0, 0)

    def _show(self) -> None:
        self.summary.setRowCount(len(self.report))
        for i, r in enumerate(self.report):
            new = r.get("new_since")
            cells = (r["path"], f"{r['messages']:,}", f"{r['filled']:,}", f"{r['fill_rate']:.1%}", f"{r['distinct']:,}",
                     f"{r['length']['min']}–{r['length']['max']}", "" if new is None else f"{len(new):,}")
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.summary.setItem(i, c, item)
        self._show_path(self.summary.currentRow())

    def _show_path(self, row: int) -> None:
        self.values.setRowCount(0)
        self.chart.clear()
        self.chart.setVisible(0 <= row < len(self.report))
        if not 0 <= row < len(self.report):
            return
        r = self.report[row]
        masked = screen().on and path_identifies(r["path"])
        new = {t["value"]: t["first_seen"] for t in r.get("new_since", [])}
        shown = r.get("new_since") if new else r["top"]
        self.values.setHorizontalHeaderLabels(["Value (new since)" if new else "Value", "Count", "First seen"])
        self.values.setRowCount(len(shown))
        for i, t in enumerate(shown):
            first = t.get("first_seen")
            for c, text in enumerate((MASK if masked else t["value"], f"{t['count']:,}",
                                      f"{first:%m-%d %H:%M}" if first else "")):
                self.values.setItem(i, c, QTableWidgetItem(text))
        self._chart(r, masked)

    def _chart(self, r: dict, masked: bool) -> None:
        plot = self.chart.getPlotItem()
        plot.getAxis("left").setTicks(None)
        brush = pg.mkBrush(self.palette().highlight().color())
        if "histogram" in r:
            h = r["histogram"]
            edges, counts = h["edges"], h["counts"]
            width = edges[1] - edges[0]
            plot.addItem(pg.BarGraphItem(x=[e + width / 2 for e in edges[:-1]], height=counts, width=width * 0.9, brush=brush))
            axis = pg.DateAxisItem(utcOffset=0) if h["kind"] == "time" else pg.AxisItem("bottom")
            plot.setAxisItems({"bottom": axis})
            plot.setTitle(f"{r['path']}: {'times' if h['kind'] == 'time' else 'values'} in {len(counts)} equal ranges")
            return
        top = r["top"][:12]  # across, the commonest on top, each labelled on the left
        plot.setAxisItems({"bottom": pg.AxisItem("bottom")})
        rows = list(range(len(top)))[::-1]
        plot.addItem(pg.BarGraphItem(x0=0, y=rows, width=[t["count"] for t in top], height=0.7, brush=brush))
        plot.getAxis("left").setTicks([[(y, MASK if masked else _short(t["value"])) for y, t in zip(rows, top)]])
        plot.setTitle(f"{r['path']}: the commonest values")


def _short(value: str, most: int = 22) -> str:
    return value if len(value) <= most else value[:most - 1] + "…"

