"""The Overview (map and charts), the go-live board, alerts and a trace, in the window."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog

from core import alerts
from core.store import alerts as store_alerts
from core.store.messages import MessageFilter
from core.store.messages import page as message_page
from ui.main_window import MainWindow
from ui.models.board_table import COL_TODAY, BoardModel
from ui.views.flow_map import FlowEdge

NOW = datetime(2026, 11, 24, 12, 0)  # the demo small_store ends then


@pytest.fixture
def window(qtbot, small_store, settings):
    w = MainWindow(small_store, settings)
    w.context.now = lambda: NOW  # every view shares the window's context
    qtbot.addWidget(w)
    w.show()
    return w


def test_overview_draws_the_flows_and_a_click_filters_the_messages(qtbot, window):
    assert window.tabs.currentWidget() is window.overview  # the first question of the morning
    window.overview.refresh()
    qtbot.waitUntil(lambda: bool(window.overview.map.edges), timeout=5000)
    edges = window.overview.map.edges
    assert len(edges) == len(window.overview.flow_map.flows) and "systems" in window.overview.summary.text()
    widths = [e.pen().widthF() for e in edges]
    assert widths == sorted(widths, reverse=True)  # the busiest flow is drawn widest
    qtbot.waitUntil(lambda: bool(window.overview.charts.plots["messages"].listDataItems()
                                 or window.overview.charts.plots["messages"].items), timeout=5000)
    busiest: FlowEdge = edges[0]
    qtbot.waitUntil(lambda: window.interfaces.rowCount() > 1, timeout=5000)
    window.overview.map.flow_chosen.emit(busiest.flow)
    assert window.tabs.currentWidget() is window.right
    qtbot.waitUntil(lambda: bool(window.messages.rows) and all(
        r["message_type"] == busiest.flow.message_type and r["interface_id"] == busiest.flow.interface_id
        for r in window.messages.rows), timeout=5000)


def test_board_sorts_and_exports(qtbot, window, tmp_path, monkeypatch, qtmodeltester):
    window.tabs.setCurrentWidget(window.board)
    qtbot.waitUntil(lambda: window.board.model.rowCount() > 3, timeout=5000)
    qtmodeltester.check(window.board.model)
    window.board.table.sortByColumn(COL_TODAY, Qt.SortOrder.DescendingOrder)
    proxy = window.board.proxy
    todays = [window.board.model.rows[proxy.mapToSource(proxy.index(r, 0)).row()]["today"] for r in range(proxy.rowCount())]
    assert todays == sorted(todays, reverse=True)
    target = tmp_path / "board.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.board.export_shown()
    qtbot.waitUntil(lambda: target.exists(), timeout=5000)
    header = [window.board.proxy.headerData(c, Qt.Orientation.Horizontal) for c in range(window.board.proxy.columnCount())]
    assert target.read_text(encoding="utf-8-sig").splitlines()[0] == ",".join(header)
    assert len(target.read_text(encoding="utf-8-sig").splitlines()) == proxy.rowCount() + 1
    assert BoardModel().rowCount() == 0


def test_alerts_raise_announce_and_acknowledge(qtbot, window, small_store, monkeypatch):
    alerts.add_rule(window.context, "nak_burst", 1, window_min=24 * 60)
    with qtbot.waitSignal(window.alerts.raised, timeout=5000) as raised:
        window.alerts.evaluate()
    assert raised.args[0] and window.statusBar().currentMessage().startswith("Alert: ")
    qtbot.waitUntil(lambda: window.alerts.alerts.rowCount() > 0, timeout=5000)
    assert window.tabs.tabText(window.tabs.indexOf(window.alerts)).startswith("Alerts (")
    window.alerts.alert_table.selectRow(0)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("seen, calling the lab", True))
    window.alerts.acknowledge()
    qtbot.waitUntil(lambda: window.alerts.alerts.rows and window.alerts.alerts.rows[0]["state"] == "acknowledged",
                    timeout=5000)


def test_trace_from_the_detail_pane(qtbot, window, small_store):
    order = message_page(small_store, MessageFilter(types=["ORM"], acks=False), limit=1)[0]
    window.tabs.setCurrentWidget(window.right)
    window.open_message(order["id"])
    qtbot.waitUntil(lambda: window.detail.detail is not None and window.detail.trace.isEnabled(), timeout=5000)
    window.detail.trace.click()
    from ui.dialogs.trace import TraceDialog

    qtbot.waitUntil(lambda: any(isinstance(w, TraceDialog) for w in window.findChildren(TraceDialog)), timeout=5000)
    dialog = window.findChildren(TraceDialog)[0]
    assert dialog.table.rowCount() >= 1 and dialog.trace.kind == "order"
    with qtbot.waitSignal(dialog.open_message, timeout=2000):
        dialog.table.cellDoubleClicked.emit(0, 0)
    dialog.close()


def test_a_visit_trace_under_the_privacy_screen_names_no_patient(qtbot, window, small_store):
    from ui.dialogs.trace import TraceDialog

    adt = next(m for m in message_page(small_store, MessageFilter(types=["ADT"], acks=False), limit=50) if m["patient_id"])
    window.set_privacy(True)
    try:
        window.show_trace(adt["id"])
        qtbot.waitUntil(lambda: bool(window.findChildren(TraceDialog)), timeout=5000)
        dialog = window.findChildren(TraceDialog)[0]
        assert dialog.trace.kind == "visit"
        assert adt["patient_id"] not in dialog.windowTitle() + dialog.heading.text()
        window.set_privacy(False)
        assert adt["patient_id"] in dialog.windowTitle()
        dialog.close()
    finally:
        window.set_privacy(False)


def test_alert_rules_are_edited_switched_and_deleted_in_the_tab(qtbot, window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from ui.views.alerts_view import RuleDialog

    rule = alerts.add_rule(window.context, "queue_depth", 500)
    view = window.alerts
    view.refresh()
    qtbot.waitUntil(lambda: any(r["id"] == rule for r in view.rules.rows), timeout=5000)
    row = next(i for i, r in enumerate(view.rules.rows) if r["id"] == rule)
    view.rule_table.selectRow(row)

    def exec_(dialog):
        assert dialog.threshold.value() == 500 and not dialog.kind.isEnabled()
        dialog.threshold.setValue(750)
        return 1

    monkeypatch.setattr(RuleDialog, "exec", exec_)
    view.edit_rule()
    qtbot.waitUntil(lambda: next(r for r in store_alerts.rules(window.context.store) if r["id"] == rule)["threshold"] == 750,
                    timeout=5000)
    qtbot.waitUntil(lambda: any(r["id"] == rule for r in view.rules.rows), timeout=5000)
    view.rule_table.selectRow(next(i for i, r in enumerate(view.rules.rows) if r["id"] == rule))
    view.switch_rule()
    qtbot.waitUntil(lambda: not next(r for r in store_alerts.rules(window.context.store) if r["id"] == rule)["enabled"], timeout=5000)
    qtbot.waitUntil(lambda: any(r["id"] == rule and not r["enabled"] for r in view.rules.rows), timeout=5000)
    view.rule_table.selectRow(next(i for i, r in enumerate(view.rules.rows) if r["id"] == rule))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    view.delete_rule()
    qtbot.waitUntil(lambda: all(r["id"] != rule for r in store_alerts.rules(window.context.store)), timeout=5000)


def test_a_trace_of_seconds_reads_in_seconds_not_clock_decimals(qtbot, small_store):
    from datetime import timedelta

    from core.store.trace import Step, Trace
    from ui.dialogs.trace import TraceDialog

    t0 = datetime(2026, 11, 24, 9, 0, 44)
    steps = [Step(1, t0, "ORM^O01 order (NW)", "ECW → QUEST", timedelta(0), "accepted"),
             Step(2, t0 + timedelta(seconds=3), "ACK AA", "QUEST → ECW", timedelta(seconds=3))]
    dialog = TraceDialog(Trace("order", "placer P1", steps), None)
    qtbot.addWidget(dialog)
    axis = dialog.plot.getAxis("bottom")
    assert axis.labelText == "seconds after the first message"
    assert not isinstance(axis, __import__("pyqtgraph").DateAxisItem)


@pytest.mark.parametrize("size", [(620, 720), (1400, 900), (400, 700)])
def test_the_map_draws_no_box_or_label_over_another_and_every_curve_can_be_clicked(qtbot, small_store, size):
    from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsTextItem

    from core.store import flows as core_flows
    from ui.views.flow_map import FlowMapView

    view = FlowMapView()
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    fm = core_flows.flow_map(small_store, NOW - timedelta(days=2), NOW)
    view.show_map(fm, fm.home)
    boxes = [i.sceneBoundingRect() for i in view.scene().items() if isinstance(i, QGraphicsRectItem)]
    labels = [i.sceneBoundingRect() for i in view.scene().items() if isinstance(i, QGraphicsTextItem)]
    assert len(boxes) == len(fm.systems)
    for i, a in enumerate(boxes + labels):
        for b in (boxes + labels)[i + 1:]:
            assert not a.intersects(b), (a, b)
    for edge in view.edges:  # a point a third of the way along each curve picks that curve
        point = view.mapFromScene(edge.path().pointAtPercent(0.33))
        hit = [item for item in view.items(point) if hasattr(item, "flow")]
        assert edge in hit or any(h.flow == edge.flow for h in hit)


def test_count_charts_tick_in_whole_numbers():
    from ui.views.flow_charts import count_step

    assert [count_step(n) for n in (1, 3, 8, 23, 70, 441, 9000)] == [1, 1, 2, 5, 20, 100, 2000]


def test_a_field_drift_rule_is_added_in_the_tab_with_its_path(qtbot, window, monkeypatch):
    from ui.views.alerts_view import RuleDialog

    def exec_(dialog):
        assert not dialog.path.isEnabled()  # only field drift watches a field
        dialog.kind.setCurrentIndex(dialog.kind.findData("field_drift"))
        assert dialog.path.isEnabled()
        dialog.path.setText("OBX[*]-3.1")
        dialog.threshold.setValue(2)
        return 1

    monkeypatch.setattr(RuleDialog, "exec", exec_)
    window.alerts.add_rule()
    qtbot.waitUntil(lambda: any(r["kind"] == "field_drift" for r in window.alerts.rules.rows), timeout=5000)
    rule = next(r for r in window.alerts.rules.rows if r["kind"] == "field_drift")
    assert rule["path"] == "OBX[*]-3.1"
    row = window.alerts.rules.rows.index(rule)
    assert window.alerts.rules.index(row, 1).data() == "> 2 new values of OBX[*]-3.1"
