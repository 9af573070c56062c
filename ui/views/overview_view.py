"""The Overview tab: "is everything flowing?" The flow map and the charts share one time
window; the map is read off the GUI thread and refreshed every few seconds while shown
(one query per refresh, not a repaint per message). Clicking a flow charts it and
filters the message table to it."""
from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from core.commands.context import Context
from core.store import flows
from ui.views.flow_charts import FlowCharts
from ui.views.flow_map import HEALTH_WORDS, FlowMapView
from ui.views.tab_layout import bar_over_split
from ui.workers import Generation, submit

WINDOWS = (("Last hour", timedelta(hours=1), timedelta(minutes=1)), ("Last 6 hours", timedelta(hours=6), timedelta(minutes=5)),
           ("Last 24 hours", timedelta(hours=24), timedelta(minutes=15)), ("Last 7 days", timedelta(days=7), timedelta(hours=2)))
REFRESH_MS = 10_000


class OverviewView(QWidget):
    flow_chosen = Signal(object)  # a core.store.flows.Flow: show its messages

    def __init__(self, ctx: Context, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.window_box = QComboBox()
        for label, span, _ in WINDOWS:
            self.window_box.addItem(label, span)
        self.window_box.setCurrentIndex(2)
        self.all_traffic = QPushButton("Chart all traffic")
        self.summary = QLabel(wordWrap=True)  # long words must not widen the window
        self.map = FlowMapView()
        self.charts = FlowCharts()
        self.chosen: flows.Flow | None = None
        self.flow_map: flows.FlowMap | None = None
        self._generation, self._chart_generation = Generation(), Generation()
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Time window"))
        bar.addWidget(self.window_box)
        bar.addWidget(self.all_traffic)
        bar.addWidget(self.summary, 1)
        bar_over_split(self, bar, self.map, self.charts, name="overview_split", stretch=(3, 2),
                       orientation=Qt.Orientation.Horizontal)
        self.timer = QTimer(self, interval=REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.window_box.currentIndexChanged.connect(lambda _: self.refresh())
        self.all_traffic.clicked.connect(lambda: self._choose(None, emit=False))
        self.map.flow_chosen.connect(lambda flow: self._choose(flow, emit=True))

    def span(self) -> tuple[timedelta, timedelta]:
        _, span, bucket = WINDOWS[self.window_box.currentIndex()]
        return span, bucket

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self.timer.start()

    def hideEvent(self, event) -> None:  # noqa: N802
        super().hideEvent(event)
        self.timer.stop()

    def refresh(self) -> None:
        until = self.ctx.now()
        span, _ = self.span()
        token = self._generation.next()

        submit(lambda: flows.flow_map(self.ctx.store, until - span, until),
               lambda found: self._show(found) if self._generation.current(token) else None,
               lambda text: self.summary.setText(f"Could not read the flows: {text}"), context=self)

    def _show(self, flow_map: flows.FlowMap) -> None:
        self.flow_map = flow_map
        self.map.show_map(flow_map, flow_map.home)
        counts = {h: sum(1 for f in flow_map.flows if f.health == h) for h in ("ok", "warn", "bad")}
        total = sum(f.messages for f in flow_map.flows)
        self.summary.setText(f"{total:,} messages (ACKs not counted) sent in this window, in {len(flow_map.flows)} flows "
                             f"between {len(flow_map.systems)} systems: "
                             f"{counts['ok']} {HEALTH_WORDS['ok']}, {counts['warn']} with {HEALTH_WORDS['warn']}, "
                             f"{counts['bad']} {HEALTH_WORDS['bad']}.")
        if self.chosen is not None:  # the same flow in the new window, if it is still there
            self.chosen = next((f for f in flow_map.flows if (f.interface_id, f.message_type) ==
                                (self.chosen.interface_id, self.chosen.message_type)), None)
        self._chart()

    def _choose(self, flow: flows.Flow | None, emit: bool) -> None:
        self.chosen = flow
        self._chart()
        if emit and flow is not None:
            self.flow_chosen.emit(flow)

    def _chart(self) -> None:
        until = self.ctx.now()
        span, bucket = self.span()
        flow = self.chosen
        token = self._chart_generation.next()
        title = f"{flow.interface} ({flow.message_type})" if flow else "All traffic"
        submit(lambda: flows.series(self.ctx.store, until - span, until, bucket=bucket,
                                    interface_id=flow.interface_id if flow else None,
                                    message_type=flow.message_type if flow else None),
               lambda s: self.charts.show_series(s, f"{title}, per {_words(bucket)}")
               if self._chart_generation.current(token) else None, context=self)


def _words(bucket: timedelta) -> str:
    minutes = int(bucket.total_seconds() // 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h"
