"""The flow map: the systems found in the traffic as nodes, a curve per interface and message
type between them, its width by volume and its colour by health. Clicking a curve chooses
that flow (the window filters the message table to it)."""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPainterPathStroker, QPalette, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsScene, QGraphicsSimpleTextItem, QGraphicsView

from core.flows import Flow, FlowMap

HEALTH_COLOURS = {"ok": "#2e8540", "warn": "#c27c0e", "bad": "#c0392b"}
HEALTH_WORDS = {"ok": "flowing", "warn": "some NAKs or missing ACKs", "bad": "failing or silent"}
NODE_W, NODE_H = 190, 44


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
        for name, at in self.positions.items():
            self._node(name, at, name == home)
        scene.setSceneRect(scene.itemsBoundingRect().adjusted(-30, -30, 30, 30))
        self.fitInView(scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def _layout(self, flow_map: FlowMap, home: str | None) -> dict[str, QPointF]:
        """The practice's own system in the middle, the others around it on a circle."""
        others = [s for s in flow_map.systems if s != home]
        radius = max(260.0, 60.0 * len(others))
        out = {home: QPointF(0, 0)} if home in flow_map.systems else {}
        for i, name in enumerate(others):
            angle = 2 * math.pi * i / max(1, len(others)) - math.pi / 2
            out[name] = QPointF(radius * 1.4 * math.cos(angle), radius * math.sin(angle))
        return out

    def _curve(self, flow: Flow, nth: int) -> QPainterPath:
        a, b = self.positions[flow.source], self.positions[flow.target]
        mid = (a + b) / 2
        dx, dy = b.x() - a.x(), b.y() - a.y()
        length = math.hypot(dx, dy) or 1.0
        # flows between one pair fan out; the two directions bend to opposite sides
        bend = 28.0 * (nth + 1) * (1 if flow.source < flow.target else -1)
        control = QPointF(mid.x() - dy / length * bend, mid.y() + dx / length * bend)
        path = QPainterPath(a)
        path.quadTo(control, b)
        return path

    def _node(self, name: str, at: QPointF, home: bool) -> None:
        scene = self.scene()
        palette = self.palette()
        rect = QRectF(at.x() - NODE_W / 2, at.y() - NODE_H / 2, NODE_W, NODE_H)
        box = scene.addRect(rect, QPen(palette.color(QPalette.ColorRole.Mid), 1.5),
                            QBrush(palette.color(QPalette.ColorRole.Highlight if home else QPalette.ColorRole.Base)))
        box.setZValue(2)
        label = QGraphicsSimpleTextItem(name)
        font = QFont(self.font())
        font.setBold(home)
        label.setFont(font)
        label.setBrush(palette.color(QPalette.ColorRole.HighlightedText if home else QPalette.ColorRole.Text))
        r = label.boundingRect()
        label.setPos(at.x() - r.width() / 2, at.y() - r.height() / 2)
        label.setZValue(3)
        scene.addItem(label)
        box.setToolTip(f"{name}{' (this practice)' if home else ''}")

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
