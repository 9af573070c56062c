"""The flow map: the systems found in the traffic as nodes, a curve per interface and message
type between them, its width by volume and its colour by health. Clicking a curve chooses
that flow (the window filters the message table to it)."""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPainterPathStroker, QPalette, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsTextItem,
    QGraphicsView,
)

from core.flows import Flow, FlowMap

HEALTH_COLOURS = {"ok": "#2e8540", "warn": "#c27c0e", "bad": "#c0392b"}
HEALTH_WORDS = {"ok": "flowing", "warn": "some NAKs or missing ACKs", "bad": "failing or silent"}


class FlowEdge(QGraphicsPathItem):
    def __init__(self, flow: Flow, path: QPainterPath, width: float) -> None:
        super().__init__(path)
        self.flow = flow
        colour = QColor(HEALTH_COLOURS[flow.health])
        self.setPen(QPen(colour, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        silence = f"; last message {flow.silence_s / 60:.0f} min before the window's end" if flow.silence_s else ""
        self.setToolTip(f"{flow.interface}: {flow.message_type}\n{flow.messages:,} messages, {flow.naks:,} NAKs, "
                        f"{flow.missing:,} missing ACKs, {flow.unparseable:,} unparseable ({flow.error_rate:.1%} errors)"
                        f"{silence}\nHealth: {HEALTH_WORDS[flow.health]}. Click to see its messages.")

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(max(self.pen().widthF(), 10))  # easy to hit, however thin
        return stroker.createStroke(self.path())


class FlowMapView(QGraphicsView):
    flow_chosen = Signal(object)  # the Flow

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setMinimumSize(420, 320)
        self.edges: list[FlowEdge] = []
        self.positions: dict[str, QPointF] = {}

    def show_map(self, flow_map: FlowMap, home: str | None = None) -> None:
        scene = self.scene()
        scene.clear()
        self.edges = []
        if not flow_map.flows:
            text = scene.addSimpleText("No traffic in this time window.")
            text.setBrush(self.palette().color(QPalette.ColorRole.Text))
            return
        self.positions = self._layout(flow_map, home)
        top = max(f.messages for f in flow_map.flows)
        pairs: dict[tuple[str, str], int] = {}
        for flow in sorted(flow_map.flows, key=lambda f: -f.messages):
            key = tuple(sorted((flow.source, flow.target)))
            nth = pairs[key] = pairs.get(key, -1) + 1
            width = 1.5 + 7 * math.log10(1 + flow.messages) / math.log10(1 + top)
            edge = FlowEdge(flow, self._curve(flow, nth), width)
            scene.addItem(edge)
            self.edges.append(edge)
        by_pair: dict[tuple[str, str], list[Flow]] = {}
        for flow in flow_map.flows:
            by_pair.setdefault(tuple(sorted((flow.source, flow.target))), []).append(flow)
        for pair, pair_flows in by_pair.items():
            self._pair_label(pair, pair_flows)
        for name, at in self.positions.items():
            self._node(name, at, name == home)
        # the boxes keep their size on screen, so leave room for them around the curves' ends
        scene.setSceneRect(scene.itemsBoundingRect().adjusted(-90, -30, 90, 30))
        self.fitInView(scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def _layout(self, flow_map: FlowMap, home: str | None) -> dict[str, QPointF]:
        """The practice's own system in the middle, the others around it on a circle."""
        others = [s for s in flow_map.systems if s != home]
        radius = max(160.0, 34.0 * len(others))
        out = {home: QPointF(0, 0)} if home in flow_map.systems else {}
        for i, name in enumerate(others):
            angle = 2 * math.pi * i / max(1, len(others)) - math.pi / 2
            out[name] = QPointF(radius * 1.25 * math.cos(angle), radius * math.sin(angle))
        return out

    def _curve(self, flow: Flow, nth: int) -> QPainterPath:
        a, b = self.positions[flow.source], self.positions[flow.target]
        mid = (a + b) / 2
        dx, dy = b.x() - a.x(), b.y() - a.y()
        length = math.hypot(dx, dy) or 1.0
        # flows between one pair fan out; the two directions bend to opposite sides
        bend = 34.0 * (nth + 1) * (1 if flow.source < flow.target else -1)
        control = QPointF(mid.x() - dy / length * bend, mid.y() + dx / length * bend)
        path = QPainterPath(a)
        path.quadTo(control, b)
        return path

    def _node(self, name: str, at: QPointF, home: bool) -> None:
        """A system: a box with its name, the same size on screen however the map is zoomed."""
        palette = self.palette()
        font = QFont(self.font())
        font.setBold(home)
        label = QGraphicsSimpleTextItem(name)
        label.setFont(font)
        label.setBrush(palette.color(QPalette.ColorRole.HighlightedText if home else QPalette.ColorRole.Text))
        r = label.boundingRect()
        w, h = max(r.width() + 20, 110), r.height() + 14
        box = QGraphicsRectItem(-w / 2, -h / 2, w, h)
        box.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1.5))
        box.setBrush(QBrush(palette.color(QPalette.ColorRole.Highlight if home else QPalette.ColorRole.Base)))
        box.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        box.setPos(at)
        box.setZValue(2)
        box.setToolTip(f"{name}{' (this practice)' if home else ''}")
        label.setParentItem(box)
        label.setPos(-r.width() / 2, -r.height() / 2)
        self.scene().addItem(box)

    def _pair_label(self, pair: tuple[str, str], pair_flows: list[Flow]) -> None:
        """The types and volumes between two systems, one line each in its flow's colour, halfway
        along; one label per pair, so the flows of a busy pair do not write over each other."""
        lines = "<br>".join(
            f"<span style='color:{QColor(HEALTH_COLOURS[f.health]).darker(125).name()}'>{f.message_type} {f.messages:,}</span>"
            for f in sorted(pair_flows, key=lambda f: -f.messages))
        label = QGraphicsTextItem()
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1.5))
        label.setFont(small)
        label.setHtml(f"<div style='background:{self.palette().color(QPalette.ColorRole.Base).name()}'>{lines}</div>")
        label.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        a, b = self.positions[pair[0]], self.positions[pair[1]]
        label.setPos(a + (b - a) * 0.5)
        label.setOpacity(0.92)
        label.setZValue(1)
        self.scene().addItem(label)

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        item = self.itemAt(event.position().toPoint())
        if isinstance(item, FlowEdge) and event.button() == Qt.MouseButton.LeftButton:
            self.flow_chosen.emit(item.flow)
            return
        super().mousePressEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self.scene().items():
            self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
