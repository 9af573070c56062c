"""The flow map: the systems found in the traffic as nodes, a curve per interface and message
type between them, its width by volume and its colour by health. Clicking a curve chooses
that flow (the window filters the message table to it)."""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
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

from core.store.flows import Flow, FlowMap

HEALTH_COLOURS = {"ok": "#2e8540", "warn": "#c27c0e", "bad": "#c0392b"}
PAIR_LINES = 4  # at most this many lines a label: a FHIR app's many interactions must not cover the map
LABEL_ROOM = 120  # beside an outer system's box: its flows' types and volumes
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
        self._shown: tuple[FlowMap, str | None] | None = None

    def show_map(self, flow_map: FlowMap, home: str | None = None) -> None:
        """Lay the map out for the view's size, at scale 1: boxes, labels and curves share one
        coordinate system, so none of them is drawn over another (a resize lays it out again)."""
        self._shown = (flow_map, home)
        scene = self.scene()
        scene.clear()
        self.resetTransform()
        self.edges = []
        if not flow_map.flows:
            text = scene.addSimpleText("No traffic in this time window.")
            text.setBrush(self.palette().color(QPalette.ColorRole.Text))
            return
        boxes = {name: self._node(name, name == home) for name in flow_map.systems}
        self.positions = self._layout(flow_map, home, boxes)
        for name, box in boxes.items():
            box.setPos(self.positions[name])
        top = max(f.messages for f in flow_map.flows)
        pairs: dict[tuple[str, str], int] = {}
        for flow in sorted(flow_map.flows, key=lambda f: -f.messages):
            key = tuple(sorted((flow.source, flow.target)))
            nth = pairs[key] = pairs.get(key, -1) + 1
            width = 1.5 + 7 * math.log10(1 + flow.messages) / math.log10(1 + top)
            edge = FlowEdge(flow, self._curve(flow, nth), width)
            edge.setZValue(1)  # above the labels: every curve shows and can be clicked
            scene.addItem(edge)
            self.edges.append(edge)
        by_pair: dict[tuple[str, str], list[Flow]] = {}
        for flow in flow_map.flows:
            by_pair.setdefault(tuple(sorted((flow.source, flow.target))), []).append(flow)
        taken = [box.sceneBoundingRect() for box in boxes.values()]
        for pair, pair_flows in sorted(by_pair.items(), key=lambda kv: -sum(f.messages for f in kv[1])):
            taken.append(self._pair_label(pair, pair_flows, taken))
        area = self.viewport().rect()
        scene.setSceneRect(scene.itemsBoundingRect().united(
            QRectF(-area.width() / 2, -area.height() / 2, area.width(), area.height())).adjusted(-8, -8, 8, 8))

    def _layout(self, flow_map: FlowMap, home: str | None, boxes: dict) -> dict[str, QPointF]:
        """The practice's own system in the middle, the others on an ellipse that fills the view;
        in a view taller than it is wide they sit above and below, never beside the hub."""
        others = [s for s in flow_map.systems if s != home]
        out = {home: QPointF(0, 0)} if home in flow_map.systems else {}
        if not others:
            return out
        area = self.viewport().rect()
        widest = max(boxes[s].rect().width() for s in flow_map.systems)
        tall = boxes[others[0]].rect().height()
        room = max(0.0, min(LABEL_ROOM, (area.width() - 3.4 * widest) / 2))  # beside the outer boxes, when there is any
        rx = max((area.width() - widest) / 2 - 10 - room, widest * 0.9)
        ry = max((area.height() - tall) / 2 - 10, tall * 3)
        if area.width() < 2.6 * widest:  # no room beside the hub: rows above and below it
            return out | self._rows(others, area.width(), ry, widest, tall)
        # with a multiple of four, a whole step would put two systems level with the hub, right
        # beside it: half a step turns them off the horizontal
        offset = -math.pi / 2 + (math.pi / len(others) if len(others) % 4 == 0 else 0)
        for i, name in enumerate(others):
            angle = 2 * math.pi * i / len(others) + offset
            out[name] = QPointF(rx * math.cos(angle), ry * math.sin(angle))
        return self._apart(out, boxes, home)

    @staticmethod
    def _apart(at: dict[str, QPointF], boxes: dict, home: str | None, gap: float = 14.0) -> dict[str, QPointF]:
        """Push boxes that would touch apart sideways (the hub stays where it is)."""
        names = list(at)
        for _ in range(30):
            moved = False
            for i, a in enumerate(names):
                for b in names[i + 1:]:
                    ra = boxes[a].rect().translated(at[a]).adjusted(-gap / 2, -gap / 2, gap / 2, gap / 2)
                    rb = boxes[b].rect().translated(at[b]).adjusted(-gap / 2, -gap / 2, gap / 2, gap / 2)
                    if not ra.intersects(rb):
                        continue
                    push = (min(ra.right(), rb.right()) - max(ra.left(), rb.left())) / 2 + 1
                    left, right = (a, b) if at[a].x() <= at[b].x() else (b, a)
                    for name, dx in ((left, -push), (right, push)):
                        if name != home:
                            at[name] = QPointF(at[name].x() + dx * (2 if home in (left, right) else 1), at[name].y())
                    moved = True
            if not moved:
                break
        return at

    @staticmethod
    def _rows(others: list[str], width: float, ry: float, widest: float, tall: float) -> dict[str, QPointF]:
        """Systems in rows across the view, half above the hub and half below, the rows as far
        from it as the view allows; boxes side by side never touch."""
        per_row = max(1, int((width - 10) // (widest + 12)))
        out = {}
        for side, names in ((-1, others[0::2]), (1, others[1::2])):
            for start in range(0, len(names), per_row):
                row = names[start:start + per_row]
                y = side * (ry - (start // per_row) * tall * 2.4)
                for i, name in enumerate(row):
                    out[name] = QPointF((i - (len(row) - 1) / 2) * (widest + 12), y)
        return out

    def _curve(self, flow: Flow, nth: int) -> QPainterPath:
        a, b = self.positions[flow.source], self.positions[flow.target]
        mid = (a + b) / 2
        dx, dy = b.x() - a.x(), b.y() - a.y()
        length = math.hypot(dx, dy) or 1.0
        # flows between one pair fan out; the two directions bend to opposite sides
        bend = 22.0 * (nth + 1) * (1 if flow.source < flow.target else -1)
        control = QPointF(mid.x() - dy / length * bend, mid.y() + dx / length * bend)
        path = QPainterPath(a)
        path.quadTo(control, b)
        return path

    def _node(self, name: str, home: bool) -> QGraphicsRectItem:
        """A system: a box with its name (a system the messages do not name is said so)."""
        palette = self.palette()
        font = QFont(self.font())
        font.setBold(home)
        label = QGraphicsSimpleTextItem(name if name.strip("? ") else "(system not named)")
        label.setFont(font)
        label.setBrush(palette.color(QPalette.ColorRole.HighlightedText if home else QPalette.ColorRole.Text))
        r = label.boundingRect()
        w, h = max(r.width() + 20, 110), r.height() + 14
        box = QGraphicsRectItem(-w / 2, -h / 2, w, h)
        box.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1.5))
        box.setBrush(QBrush(palette.color(QPalette.ColorRole.Highlight if home else QPalette.ColorRole.Base)))
        box.setZValue(2)
        box.setToolTip(f"{name}{' (this practice)' if home else ''}")
        label.setParentItem(box)
        label.setPos(-r.width() / 2, -r.height() / 2)
        self.scene().addItem(box)
        return box

    def _pair_label(self, pair: tuple[str, str], pair_flows: list[Flow], taken: list[QRectF]) -> QRectF:
        """The types and volumes between two systems, one line each in its flow's colour, along
        the line between them where it covers no box and no other label; returns where it went."""
        ranked = sorted(pair_flows, key=lambda f: -f.messages)
        shown = ranked if len(ranked) <= PAIR_LINES else ranked[: PAIR_LINES - 1]
        lines = "<br>".join(
            [f"<span style='color:{QColor(HEALTH_COLOURS[f.health]).darker(125).name()}'>{f.message_type} {f.messages:,}</span>"
             for f in shown] + ([f"and {len(ranked) - len(shown)} more (choose a curve)"] if len(shown) < len(ranked) else []))
        label = QGraphicsTextItem()
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1.5))
        label.setFont(small)
        label.setHtml(f"<div style='background:{self.palette().color(QPalette.ColorRole.Base).name()}'>{lines}</div>")
        size = label.boundingRect()
        spot = self._beside_outer_node(pair, size, taken) or self._along(pair, size, taken)
        label.setPos(spot.topLeft())
        label.setZValue(1.5)
        self.scene().addItem(label)
        return spot

    def _beside_outer_node(self, pair: tuple[str, str], size: QRectF, taken: list[QRectF]) -> QRectF | None:
        """Beside the pair's outer system, on the side away from the hub: no curve runs there."""
        a, b = (self.positions[p] for p in pair)
        outer = b if abs(b.x()) + abs(b.y()) >= abs(a.x()) + abs(a.y()) else a
        box = next((t for t in taken if t.contains(outer)), None)
        if box is None:
            return None
        right = outer.x() >= 0
        x = box.right() + 6 if right else box.left() - 6 - size.width()
        rect = QRectF(x, outer.y() - size.height() / 2, size.width(), size.height())
        area = self.viewport().rect()
        inside = max(abs(rect.left()), abs(rect.right())) <= area.width() / 2 - 4
        return rect if inside and not any(rect.intersects(t) for t in taken) else None

    def _along(self, pair: tuple[str, str], size: QRectF, taken: list[QRectF]) -> QRectF:
        """Failing that, along the line between the two, or beside it, where it covers no box and no label."""
        a, b = self.positions[pair[0]], self.positions[pair[1]]
        length = math.hypot(b.x() - a.x(), b.y() - a.y()) or 1.0
        across = QPointF(-(b.y() - a.y()) / length, (b.x() - a.x()) / length)  # a unit step off the line
        step = max(size.width(), size.height()) * 0.6
        for off in (0, 1, -1, 2, -2, 3, -3):
            for t in (0.5, 0.62, 0.38, 0.72, 0.28, 0.8, 0.2):
                at = a + (b - a) * t + across * (off * step)
                rect = QRectF(at.x() - size.width() / 2, at.y() - size.height() / 2, size.width(), size.height())
                if not any(rect.intersects(other) for other in taken):
                    return rect
        return QRectF(a + (b - a) * 0.5 - QPointF(size.width() / 2, size.height() / 2), size.size())

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        item = self.itemAt(event.position().toPoint())
        if isinstance(item, FlowEdge) and event.button() == Qt.MouseButton.LeftButton:
            self.flow_chosen.emit(item.flow)
            return
        super().mousePressEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._shown is not None:
            self.show_map(*self._shown)  # laid out anew for the new size
