"""Charts of one flow (or all traffic) over the Overview's time window: messages and errors
per bucket, ACK latency p50 and p95, and open queue items, stacked on one UTC time axis."""
from __future__ import annotations

import math
from datetime import UTC

import pyqtgraph as pg
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

from core.store.flows import Series

ROWS = (("messages", "messages / bucket"), ("errors", "errors / bucket"), ("latency", "ACK latency (s)"),
        ("queue", "open queue items"))


class FlowCharts(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.view = pg.GraphicsLayoutWidget()
        palette = self.palette()
        self.view.setBackground(palette.color(QPalette.ColorRole.Base))
        self.text = palette.color(QPalette.ColorRole.Text).name()
        self.accent = palette.color(QPalette.ColorRole.Highlight)
        self.plots: dict[str, pg.PlotItem] = {}
        first = None
        for i, (key, label) in enumerate(ROWS):
            plot = self.view.addPlot(row=i, col=0, axisItems={"bottom": pg.DateAxisItem(utcOffset=0)})
            plot.setLabel("left", label, color=self.text)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setMenuEnabled(False)
            plot.getAxis("left").setWidth(64)
            plot.getAxis("left").enableAutoSIPrefix(False)
            if first is None:
                first = plot
            else:
                plot.setXLink(first)
            if key != "queue":
                plot.getAxis("bottom").setStyle(showValues=False)
            self.plots[key] = plot
        self.plots["latency"].addLegend(offset=(-10, 5))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)

    def show_series(self, s: Series, title: str) -> None:
        for plot in self.plots.values():
            plot.clear()
        self.plots["messages"].setTitle(title, color=self.text)
        if not s.starts:
            return
        xs = [t.replace(tzinfo=UTC).timestamp() for t in s.starts]
        width = (xs[1] - xs[0]) * 0.9 if len(xs) > 1 else 50
        self.plots["messages"].addItem(pg.BarGraphItem(x=xs, height=s.messages, width=width, brush=self.accent))
        self.plots["errors"].addItem(pg.BarGraphItem(x=xs, height=s.errors, width=width, brush="#c0392b"))
        for values, name, colour in ((s.latency_p50, "p50", "#2e86c1"), (s.latency_p95, "p95", "#c27c0e")):
            points = [(x, v) for x, v in zip(xs, values) if v is not None]
            if points:
                self.plots["latency"].plot([p[0] for p in points], [p[1] for p in points], name=name,
                                           pen=pg.mkPen(colour, width=2))
        self.plots["queue"].plot(xs, s.queue_depth, pen=pg.mkPen("#7d3c98", width=2))
        for key, values in (("messages", s.messages), ("errors", s.errors), ("queue", s.queue_depth)):
            top = max(1, max(values))
            self.plots[key].setYRange(0, top * 1.08, padding=0)  # counts start at zero
            step = count_step(top)
            self.plots[key].getAxis("left").setTickSpacing(step, step)  # whole numbers: no "0.5 errors"

    def apply_palette(self) -> None:
        """Follow the window's light or dark palette (the theme can change while it is shown)."""
        palette = self.palette()
        self.view.setBackground(palette.color(QPalette.ColorRole.Base))
        self.text = palette.color(QPalette.ColorRole.Text).name()
        self.accent = palette.color(QPalette.ColorRole.Highlight)
        for (_, label), plot in zip(ROWS, self.plots.values()):
            plot.setLabel("left", label, color=self.text)
            for side in ("left", "bottom"):
                plot.getAxis(side).setTextPen(self.text)


def count_step(top: float) -> int:
    """A tick step of 1, 2 or 5 times a power of ten that gives about five whole-number ticks."""
    raw = max(1.0, top / 5)
    power = 10 ** int(math.floor(math.log10(raw)))
    return int(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))
