"""A trace on a timeline: each message of an order or visit chain as a point on its route's
lane, with the turnaround times; double-click a row to open that message."""
from __future__ import annotations

from datetime import UTC

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QDialog, QLabel, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout

from core import privacy
from core.labels import duration
from core.store.trace import Trace
from ui.privacy_screen import screen

COLOURS = {"order": "#2e86c1", "ACK": "#7f8c8d", "result": "#2e8540", "other": "#7d3c98"}


def _colour(what: str) -> str:
    return COLOURS["ACK"] if what.startswith("ACK") else COLOURS["result"] if "result" in what else \
        COLOURS["order"] if " order" in what else COLOURS["other"]


class TraceDialog(QDialog):
    open_message = Signal(int)

    def __init__(self, t: Trace, parent=None) -> None:
        super().__init__(parent)
        self.resize(1000, 620)
        self.trace = t
        self.heading = QLabel(wordWrap=True)
        screen().changed.connect(self._privacy_changed)  # a bound slot: disconnected when the dialog goes
        self._title()
        self.plot = self._timeline(t)
        self.table = QTableWidget(len(t.steps), 5)
        self.table.setHorizontalHeaderLabels(["When (UTC)", "After the first", "What", "Route", "ACK state"])
        for row, s in enumerate(t.steps):
            for col, text in enumerate((f"{s.at:%Y-%m-%d %H:%M:%S}", duration(s.since_start.total_seconds()), s.what, s.route,
                                        (s.ack_state or "").replace("_", " "))):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                item.setData(Qt.ItemDataRole.UserRole, s.message_id)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.table.cellDoubleClicked.connect(lambda row, _: self.open_message.emit(t.steps[row].message_id))
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.plot)
        split.addWidget(self.table)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(split, 1)

    def _privacy_changed(self, _on: bool) -> None:
        self._title()

    def _title(self) -> None:
        """The key names the patient for a visit: masked while the privacy screen is on."""
        t = self.trace
        key = t.key
        if screen().on:
            for value in sorted(t.identifiers, key=len, reverse=True):
                key = key.replace(value, privacy.MASK)
        turn = "; ".join(f"{k} {duration(v.total_seconds())}" for k, v in t.turnarounds.items()) or "no turnaround to show"
        self.setWindowTitle(f"Trace: {t.kind} {key}")
        self.heading.setText(f"<b>{t.kind.title()}</b> {key}: {len(t.steps)} messages. {turn}."
                             + "".join(f"<br>{note}" for note in t.notes))

    def _timeline(self, t: Trace) -> pg.PlotWidget:
        routes = list(dict.fromkeys(s.route for s in t.steps))
        short = (t.steps[-1].at - t.steps[0].at).total_seconds() < 120  # a clock would read "44.000": say seconds
        plot = pg.PlotWidget(axisItems={} if short else {"bottom": pg.DateAxisItem(utcOffset=0)})
        if short:
            plot.setLabel("bottom", "seconds after the first message")
        plot.setBackground(self.palette().color(QPalette.ColorRole.Base))
        text = self.palette().color(QPalette.ColorRole.Text)
        plot.getAxis("left").setTicks([[(i, r) for i, r in enumerate(routes)]])
        plot.getAxis("left").setWidth(150)
        plot.setMenuEnabled(False)
        plot.showGrid(x=True, alpha=0.2)
        xs = [s.since_start.total_seconds() if short else s.at.replace(tzinfo=UTC).timestamp() for s in t.steps]
        ys = [routes.index(s.route) for s in t.steps]
        plot.plot(xs, ys, pen=pg.mkPen(text, width=1, style=Qt.PenStyle.DotLine))
        plot.plot(xs, ys, pen=None, symbol="o", symbolSize=12, symbolPen=None,
                  symbolBrush=[pg.mkBrush(_colour(s.what)) for s in t.steps])
        for i, (x, y, s) in enumerate(zip(xs, ys, t.steps)):  # labels above and below in turn, so neighbours do not collide
            label = pg.TextItem(_short(s.what), color=text, anchor=(0.5, 1.3) if i % 2 == 0 else (0.5, -0.3))
            label.setPos(x, y)
            plot.addItem(label)
        plot.setYRange(-0.7, len(routes) - 0.3)
        span = (xs[-1] - xs[0]) or (10 if short else 60)
        plot.setXRange(xs[0] - span * 0.1, xs[-1] + span * 0.1)
        plot.setMinimumHeight(220)
        return plot


def _short(what: str) -> str:
    """A step's words on the timeline: "final result", "ACK AA", "ORM^O01 order"."""
    return what.split("result: ", 1)[1] + " result" if "result: " in what else what
