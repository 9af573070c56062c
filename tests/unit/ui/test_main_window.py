"""The console window on a generated store, driven as a person would."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from core.privacy import MASK
from core.store.messages import MessageFilter
from core.store.messages import page as message_page
from tests.helpers.stores import settle_workers
from ui.main_window import MainWindow
from ui.models.message_table import COL_PATIENT
from ui.workers import IngestThread


@pytest.fixture
def window(qtbot, small_store, settings):
    w = MainWindow(small_store, settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.messages.rowCount() > 0 and w.interfaces.rowCount() > 1, timeout=10_000)
    return w


def test_opens_with_interfaces_messages_and_status(window, small_store):
    assert window.interfaces.rowCount() == 9
    assert window.messages.rowCount() == 500
    assert window.status_count.text().endswith(" ACKs")
    assert small_store.location in window.status_store.text()


def test_choosing_a_nak_shows_it_in_words_and_links_to_its_ack(qtbot, window, small_store):
    nak = message_page(small_store, MessageFilter(ack_states=["error"]), limit=1)[0]
    window.open_message(nak["id"])
    qtbot.waitUntil(lambda: window.detail.detail is not None and window.detail.detail.row["id"] == nak["id"], timeout=5000)
    text = window.detail.explanation.text()
    assert "Error (NAK)" in text and "Application error" in text
    links = window.detail.detail.links
    assert links and links[0][0] == nak["ack_id"]
    window.detail.open_message.emit(links[0][0])
    qtbot.waitUntil(lambda: window.detail.detail.row["id"] == nak["ack_id"], timeout=5000)
    assert window.detail.detail.row["answers_id"] == nak["id"]


def test_sidebar_and_search_filter_the_table(qtbot, window):
    window.sidebar.selectRow(2)
    iface = window.interfaces.rows[1]["id"]
    qtbot.waitUntil(lambda: bool(window.messages.rows) and all(r["interface_id"] == iface for r in window.messages.rows), timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.filter_bar.text.hasFocus()
    window.filter_bar.text.setText("Receiving database unavailable")
    window.sidebar.selectRow(0)
    qtbot.waitUntil(lambda: bool(window.messages.rows) and all(r["ack_code"] == "AR" for r in window.messages.rows), timeout=5000)


def test_privacy_screen_masks_table_tree_and_raw(qtbot, window):
    row = next(i for i, r in enumerate(window.messages.rows) if r["patient_id"])
    window.table.selectRow(row)
    qtbot.waitUntil(lambda: window.detail.detail is not None, timeout=5000)
    patient = window.messages.rows[row]["patient_id"]
    assert patient in window.detail.raw.toPlainText()
    window.act_privacy.trigger()
    assert window.messages.index(row, COL_PATIENT).data() == MASK
    assert patient not in window.detail.raw.toPlainText() and MASK in window.detail.raw.toPlainText()
    assert patient not in window.detail.summary.text()
    window.detail.copy_raw_text()
    assert patient not in QGuiApplication.clipboard().text()
    assert window.prefs.privacy_screen is True
    window.act_privacy.trigger()
    assert window.messages.index(row, COL_PATIENT).data() != MASK


def test_copy_rows(qtbot, window):
    window.table.setFocus()
    window.table.selectRow(0)
    window.copy()
    lines = QGuiApplication.clipboard().text().splitlines()
    assert lines[0].startswith("Time\tDir\tType") and len(lines) == 2


def test_window_splitter_and_column_state_are_remembered(qtbot, small_store, settings, window):
    window.main_split.setSizes([200, 1200])
    window.table.setColumnWidth(2, 177)
    sizes = window.main_split.sizes()
    window.close()
    again = MainWindow(small_store, settings)
    qtbot.addWidget(again)
    again.resize(window.size())  # the offscreen screen is smaller than the window was: restoring clamps to it
    again.show()
    qtbot.waitExposed(again)
    assert settings.value("view/geometry") is not None  # the offscreen screen clamps the size itself
    qtbot.wait(100)
    assert again.main_split.sizes()[0] == sizes[0] == 200
    assert again.table.columnWidth(2) == 177


def test_demo_workspace_ingests_in_the_background_then_feeds_live(qtbot, tmp_path, settings):
    from core.demo import workspace
    from core.store.db import open_store

    store = open_store(f"sqlite:///{tmp_path / 'demo.db'}")
    ingest = IngestThread(store, [workspace(tmp_path, 400)], live_feed=True, feed_every_s=0.3, feed_count=4)
    w = MainWindow(store, settings, ingest=ingest, title_note="demo workspace")
    qtbot.addWidget(w)
    try:
        with qtbot.waitSignal(ingest.caught_up, timeout=20_000) as caught:
            ingest.start()
        assert caught.args[0] > 0
        with qtbot.waitSignal(ingest.added, timeout=20_000):
            pass
        qtbot.waitUntil(lambda: w.messages.rowCount() > caught.args[0] // 2, timeout=10_000)
        before = w.messages.rowCount()
        w.messages.poll_new()
        qtbot.waitUntil(lambda: w.messages.rowCount() > before, timeout=10_000)
    finally:
        ingest.stop()
        w.close()
        settle_workers()
        store.close()


def test_watching_a_folder_from_the_console(qtbot, tmp_path, settings):
    from core.demo import write_logs
    from core.store.db import open_store

    store = open_store(f"sqlite:///{tmp_path / 'own.db'}")
    w = MainWindow(store, settings)
    qtbot.addWidget(w)
    try:
        assert w.messages.rowCount() == 0
        write_logs(tmp_path / "logs", 300)
        w.watch_folder(tmp_path / "logs")
        with qtbot.waitSignal(w.ingest.caught_up, timeout=20_000):
            pass
        qtbot.waitUntil(lambda: w.messages.rowCount() >= 300 and w.interfaces.rowCount() == 9, timeout=10_000)
    finally:
        w.close()
        settle_workers()
        store.close()


def test_without_a_display_the_demo_runs_headless(monkeypatch, tmp_path, capsys):
    from ui.cli import main as entry

    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setattr("core.demo.DEMO_COUNT", 500)
    assert entry.main(["--db", f"sqlite:///{tmp_path / 'd.db'}", "--demo"]) == 0
    out = capsys.readouterr()
    assert "no display" in out.err and " messages in " in out.out


def test_queue_tab_counts_open_items_and_shows_their_messages(qtbot, window, small_store):
    from core.store.queue import items as queue_items

    open_items = len(queue_items(small_store, states=["open"]))
    queue_tab = window.tabs.indexOf(window.queue_split)
    qtbot.waitUntil(lambda: window.tabs.tabText(queue_tab) == f"Queue ({open_items:,} open)", timeout=5000)
    window.tabs.setCurrentWidget(window.queue_split)
    qtbot.waitUntil(lambda: window.queue.model.rowCount() > 0, timeout=5000)
    window.queue.message_chosen.emit(1)
    qtbot.waitUntil(lambda: window.queue_detail.detail is not None and window.queue_detail.detail.row["id"] == 1, timeout=5000)
    window.tabs.setCurrentWidget(window.audit)
    qtbot.waitUntil(lambda: window.audit.model.rowCount() >= 1, timeout=5000)  # that opening was audited
    assert window.audit.model.rows[0]["action"] == "view_message"


def test_listening_from_the_console(qtbot, tmp_path, settings):
    import hl7.client

    from core.store.db import open_store

    store = open_store(f"sqlite:///{tmp_path / 'tap.db'}")
    w = MainWindow(store, settings)
    qtbot.addWidget(w)
    try:
        qtbot.waitUntil(lambda: not w.messages.loading, timeout=5000)
        w.listen("127.0.0.1", 0, "AA")
        qtbot.waitUntil(lambda: w.status_listen.text().startswith("Listening on"), timeout=10_000)
        port = w.listening.port
        with hl7.client.MLLPClient("127.0.0.1", port) as client:
            answer = client.send_message("MSH|^~\\&|LAB|L|EHR|E|20260101120000||ADT^A01|T1|P|2.5\rPID|1||M1||DOE^J\r")
        assert b"MSA|AA|T1" in answer
        qtbot.waitUntil(lambda: "1 received, 1 answered" in w.status_listen.text(), timeout=10_000)
        qtbot.waitUntil(lambda: any(r["control_id"] == "T1" for r in w.messages.rows), timeout=10_000)
        w.act_listen.trigger()  # unchecking stops the tap
        assert w.listening is None and w.status_listen.text() == ""
    finally:
        w.close()
        settle_workers()
        store.close()


def test_refused_resend_settings_reopen_as_typed_with_what_to_change(qtbot, window, monkeypatch):
    from ui.dialogs.interface_settings import InterfaceSettingsDialog

    seen = []

    def exec_(dialog):
        seen.append((dialog.host.text(), dialog.problem.text(), dialog.enabled.isChecked()))
        if len(seen) == 1:  # the person switches writes on but forgets the destination
            dialog.enabled.setChecked(True)
            dialog.write_class.setCurrentText("clinical")
            dialog.port.setValue(2575)
            return 1
        return 0

    monkeypatch.setattr(InterfaceSettingsDialog, "exec", exec_)
    interface_id = window.interfaces.rows[0]["id"]
    window.interface_settings(interface_id)
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=10_000)
    host, problem, enabled = seen[1]
    assert enabled and "destination and a write class" in problem  # what was typed is still there, and why it was refused


def test_f5_keeps_the_chosen_message_and_its_detail(qtbot, window):
    from PySide6.QtCore import QItemSelectionModel

    index = window.messages.index(3, 0)
    window.table.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                                  | QItemSelectionModel.SelectionFlag.Rows)
    chosen = window.messages.rows[3]["id"]
    qtbot.waitUntil(lambda: window.detail.detail is not None and window.detail.detail.row["id"] == chosen, timeout=10_000)
    window.refresh()
    qtbot.waitUntil(lambda: not window.messages.loading and window.table.currentIndex().isValid(), timeout=10_000)
    assert window.messages.rows[window.table.currentIndex().row()]["id"] == chosen
    assert window.detail.detail is not None and window.detail.detail.row["id"] == chosen


def test_quitting_while_the_tap_listens_asks_first(qtbot, window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    window.listen("127.0.0.1", 0, "AA")
    qtbot.waitUntil(lambda: window.status_listen.text().startswith("Listening on"), timeout=10_000)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: (asked.append(a[2]), QMessageBox.StandardButton.No)[1])
    window.close()
    assert asked and "MLLP tap is listening" in asked[0] and window.isVisible()
    window.stop_listening()
    window.close()


def test_file_menu_ingests_files_and_opens_another_store(qtbot, window, tmp_path):
    from core.store.db import open_store

    log = tmp_path / "one.hl7"
    log.write_bytes(b"MSH|^~\\&|LAB|L|EHR|E|20261124110000||ADT^A08|FILE1|P|2.5.1\rPID|1||M1||DOE^J\r")
    before = window.status_count.text()
    window.ingest_files([log])
    qtbot.waitUntil(lambda: "Ingested 1 messages" in window.statusBar().currentMessage()
                    or "Ingested 1 message" in window.statusBar().currentMessage(), timeout=10_000)
    qtbot.waitUntil(lambda: window.status_count.text() != before, timeout=10_000)
    other = tmp_path / "other.db"
    open_store(f"sqlite:///{other}").close()
    second = window.open_store_window(str(other))
    qtbot.addWidget(second)
    assert second is not None and str(other) in second.status_store.text() and second in window.others
    second.close()
    second.store.close()


def test_exports_are_suggested_in_the_documents_folder_not_the_working_directory(qtbot):
    from pathlib import Path

    from PySide6.QtCore import QStandardPaths

    from ui.settings import in_documents

    suggested = Path(in_documents("go-live-board.csv"))
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    expected = documents if documents and Path(documents).is_dir() else str(Path.home())  # none: home, not cwd
    assert suggested.name == "go-live-board.csv" and str(suggested.parent) == expected
    assert suggested.parent != Path.cwd()


def test_a_store_left_behind_by_a_bulk_load_catches_up_behind_the_window(qtbot, settings, tmp_path, monkeypatch):
    import core.ingest
    from core.demo import write_logs
    from core.ingest import Ingestor
    from core.store import indexer
    from core.store.db import open_store

    monkeypatch.setattr(core.ingest, "BULK_BYTES", 0)
    write_logs(tmp_path / "logs", 1500, seed=2)
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    Ingestor(store).ingest_paths([tmp_path / "logs"])
    w = MainWindow(store, settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.messages.rowCount() > 0, timeout=10_000)  # usable at once, indexes or not
    qtbot.waitUntil(lambda: w.statusBar().currentMessage() == "indexes up to date", timeout=20_000)
    with store.read() as conn:
        assert indexer.behind(conn).caught_up
    settle_workers()
    store.close()


def test_a_view_saved_in_the_console_is_listed_audited_and_chosen_again(qtbot, window, small_store, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    from core.store import audit, views

    bar, view = window.messages_view.filter_bar, window.messages_view
    bar.type.setCurrentText("ORU")
    bar.where.setText("OBX[*]-8 in ('H','HH')")
    bar.where.returnPressed.emit()
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("Critical results", True)))
    view.save_view()
    qtbot.waitUntil(lambda: bar.views.count() == 2, timeout=5000)
    [saved] = views.every(small_store)
    assert saved["definition"] == {"type": ["ORU"], "where": "OBX[*]-8 in ('H','HH')"}
    assert audit.page(small_store, limit=1)[0]["action"] == "save_view"
    bar.type.setCurrentIndex(0)
    bar.where.clear()
    bar.where.returnPressed.emit()
    bar.views.activated.emit(1)
    assert bar.type.currentText() == "ORU" and bar.where.text() == "OBX[*]-8 in ('H','HH')"
    listed = view.views_list  # the sidebar lists them too, and one click chooses it
    assert [listed.item(i).text() for i in range(listed.count())] == ["Critical results"]
    bar.type.setCurrentIndex(0)
    window.tabs.setCurrentWidget(window.queue_split)
    listed.itemClicked.emit(listed.item(0))
    assert bar.type.currentText() == "ORU" and window.tabs.currentWidget() is window.right
    qtbot.waitUntil(lambda: window.messages.rowCount() > 0 and not window.messages._loading, timeout=10_000)
    assert all(r["message_type"].startswith("ORU") for r in window.messages.rows)


def test_the_selection_exports_de_identified_from_the_console(qtbot, window, small_store, tmp_path, monkeypatch):
    from PySide6.QtCore import QItemSelectionModel
    from PySide6.QtWidgets import QMessageBox

    from core.hl7.framing import MESSAGE, frame
    from core.store import audit
    from ui.dialogs.export_deidentified import ExportDeidentifiedDialog

    table = window.table
    rows = [r for r in range(window.messages.rowCount()) if window.messages.rows[r]["patient_id"]][:3]
    for r in rows:
        table.selectionModel().select(window.messages.index(r, 0),
                                      QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    target = tmp_path / "vendor.hl7"
    shown = []

    def exec_(dialog):
        shown.append(dialog)
        assert dialog.chosen.isChecked() and "3 selected" in dialog.chosen.text()
        dialog.path.setText("")
        dialog._accept()
        assert "Name the file" in dialog.problem.text()  # refused in the dialog, what was typed kept
        dialog.path.setText(str(target))
        dialog.allow.setText("NTE.3")
        dialog._accept()
        assert "not NTE.3" in dialog.problem.text()
        dialog.allow.setText("NTE-3")
        return ExportDeidentifiedDialog.DialogCode.Accepted

    said = []
    monkeypatch.setattr(ExportDeidentifiedDialog, "exec", exec_)
    monkeypatch.setattr(QMessageBox, "information", staticmethod(lambda parent, title, text: said.append(text)))
    assert window.act_export in table.actions()  # on the table's context menu, and in the File menu
    window.act_export.trigger()
    qtbot.waitUntil(lambda: bool(said), timeout=10_000)
    assert said[0].startswith("3 messages written de-identified to")
    data = target.read_bytes()
    assert sum(p.kind == MESSAGE for p in frame(data)[0]) == 3
    assert not any(window.messages.rows[r]["patient_id"].encode() in data for r in rows)
    entry = audit.page(small_store, limit=1)[0]
    assert entry["action"] == "export" and entry["after"]["allowed"] == ["NTE-3"] and len(entry["after"]["chosen"]["ids"]) == 3


def test_every_grid_exports_as_shown_masked_under_the_privacy_screen_and_audited(qtbot, window, small_store, tmp_path,
                                                                                 monkeypatch):
    import csv
    import json

    from PySide6.QtWidgets import QFileDialog

    from core.store import audit

    target = {"path": None}
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target["path"]), "CSV (*.csv)"))
    window.set_privacy(True)
    try:
        target["path"] = tmp_path / "messages.csv"
        window.tabs.setCurrentWidget(window.right)
        window.act_export_table.trigger()
        qtbot.waitUntil(lambda: target["path"].exists(), timeout=5000)
        rows = list(csv.reader(target["path"].read_text(encoding="utf-8-sig").splitlines()))
        patient = rows[0].index(window.messages.headerData(COL_PATIENT, Qt.Orientation.Horizontal))
        assert len(rows) == window.messages.rowCount() + 1
        assert all(r[patient] in (MASK, "") for r in rows[1:]) and any(r[patient] == MASK for r in rows[1:])
        entry = audit.page(small_store, limit=1)[0]
        assert entry["action"] == "export" and entry["after"]["kind"] == "messages table" and entry["after"]["masked"]
    finally:
        window.set_privacy(False)
    for tab, name in ((window.queue_split, "queue"), (window.audit, "audit"), (window.alerts, "alerts")):
        target["path"] = tmp_path / f"{name}.json"
        window.tabs.setCurrentWidget(tab)
        qtbot.wait(300)
        window.act_export_table.trigger()
        qtbot.waitUntil(lambda: target["path"].exists(), timeout=5000)
        assert isinstance(json.loads(target["path"].read_text()), list)
        assert audit.page(small_store, limit=1)[0]["after"]["kind"] == f"{name} table"
    window.tabs.setCurrentWidget(window.overview)
    window.act_export_table.trigger()
    assert "no table to export" in window.statusBar().currentMessage()


def test_statistics_of_what_the_filters_show_with_drift_charts_and_masking(qtbot, window):
    from datetime import timedelta

    from core.privacy import MASK as HIDDEN

    stats = window.stats
    window.tabs.setCurrentWidget(stats)
    stats.paths.setText("OBX[*]-3.1, PID-5.1, MSH-7, OBX[*]-5[")
    stats.compute()
    assert "Fields:" in stats.state.text()  # a bad path is said where it was typed
    stats.paths.setText("OBX[*]-3.1, PID-5.1, MSH-7")
    stats.since.setText("soonish")
    stats.compute()
    assert "New since:" in stats.state.text()
    stats.since.setText((window.context.now() - timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M"))
    stats.compute()
    qtbot.waitUntil(lambda: stats.go.isEnabled() and stats.summary.rowCount() == 3, timeout=20_000)
    assert "messages read" in stats.state.text()
    assert stats.summary.item(0, 0).text() == "OBX[*]-3.1" and stats.values.rowCount() > 0
    stats.summary.setCurrentCell(2, 0)  # MSH-7: times, a histogram
    assert "equal ranges" in stats.chart.getPlotItem().titleLabel.text
    stats.summary.setCurrentCell(1, 0)
    names = {stats.values.item(r, 0).text() for r in range(stats.values.rowCount())}
    window.set_privacy(True)
    try:
        assert {stats.values.item(r, 0).text() for r in range(stats.values.rowCount())} == {HIDDEN}
        stats.summary.setCurrentCell(0, 0)
        assert stats.values.item(0, 0).text() != HIDDEN  # an observation code identifies no one
    finally:
        window.set_privacy(False)
    assert names and HIDDEN not in names
