"""The Queue tab: groups and items (qtmodeltester), keyboard triage, conflicts told to the person."""
from __future__ import annotations

from datetime import datetime

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QDialog, QMessageBox

from core.commands.context import Context
from core.commands.triage import Assign
from core.store import queue
from tests.helpers.stores import demo_store, settle_workers
from ui.actions import operations
from ui.dialogs.acknowledge import AcknowledgeDialog
from ui.dialogs.resend_confirm import ResendConfirmDialog
from ui.views.queue_view import QueueView

NOW = datetime(2026, 11, 24, 13, 0)


@pytest.fixture
def qstore(tmp_path):
    s = demo_store(f"sqlite:///{tmp_path / 'q.db'}", tmp_path, 4000)
    yield s
    settle_workers()
    s.close()


@pytest.fixture
def view(qtbot, qstore):
    v = QueueView(Context(qstore, actor="alice@ws1", now=lambda: NOW))
    qtbot.addWidget(v)
    v.show()
    v.refresh()
    qtbot.waitUntil(lambda: v.model.rowCount() > 3, timeout=10_000)
    return v


def expand_all(qtbot, v):
    for r in range(v.model.rowCount()):
        v.tree.expand(v.model.index(r, 0))
    qtbot.waitUntil(lambda: all(g["children"] is not None for g in v.model.groups), timeout=10_000)


def test_queue_model(qtbot, qtmodeltester, view, qstore):
    expand_all(qtbot, view)
    qtmodeltester.check(view.model)
    groups = view.model.groups
    assert sum(g["items"] for g in groups) == len(queue.items(qstore, states=["open"]))
    assert all(len(g["children"]) == g["items"] for g in groups)


def test_keyboard_acknowledge_of_a_whole_group(qtbot, view, monkeypatch):
    monkeypatch.setattr(AcknowledgeDialog, "exec", lambda self: 1)
    monkeypatch.setattr(AcknowledgeDialog, "values", lambda self: ("resolved_upstream", "fixed at Quest"))
    group = max(range(view.model.rowCount()), key=lambda r: view.model.groups[r]["items"])
    signature = view.model.groups[group]["signature"]
    view.tree.setFocus()
    view.tree.selectionModel().setCurrentIndex(view.model.index(group, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                                               | QItemSelectionModel.SelectionFlag.Rows)
    with qtbot.waitSignal(operations().did_change, timeout=10_000), qtbot.waitSignal(view.notice, timeout=10_000) as told:
        qtbot.keyClick(view.tree, Qt.Key.Key_A)
    assert told.args[0].endswith("items acknowledged")
    qtbot.waitUntil(lambda: signature not in {g["signature"] for g in view.model.groups}, timeout=10_000)
    acked = queue.items(view.ctx.store, states=["acknowledged"])
    assert acked and all(i["signature"] == signature and i["ack_reason"] == "resolved_upstream" for i in acked)


def test_a_conflict_is_told_and_the_view_catches_up(qtbot, view, monkeypatch):
    expand_all(qtbot, view)
    group_index = view.model.index(0, 0)
    item_index = view.model.index(0, 0, group_index)
    item = view.model.node(item_index)
    Assign(Context(view.ctx.store, actor="bob@ws2")).run({item["id"]: None}, "bob")  # another console, first
    told = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: told.append(text))
    monkeypatch.setattr(AcknowledgeDialog, "exec", lambda self: 1)
    monkeypatch.setattr(AcknowledgeDialog, "values", lambda self: ("duplicate", None))
    view.tree.selectionModel().setCurrentIndex(item_index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                               | QItemSelectionModel.SelectionFlag.Rows)
    view.acknowledge()
    qtbot.waitUntil(lambda: bool(told), timeout=10_000)
    assert "changed by someone else by bob" in told[0]
    assert next(i for i in queue.items(view.ctx.store) if i["id"] == item["id"])["triage_state"] == "open"


def test_choosing_an_item_shows_its_message(qtbot, view):
    expand_all(qtbot, view)
    group = next(r for r, g in enumerate(view.model.groups) if g["children"][0]["message_id"])
    index = view.model.index(0, 0, view.model.index(group, 0))
    with qtbot.waitSignal(view.message_chosen) as chosen:
        view.tree.setCurrentIndex(index)
    assert chosen.args == [view.model.node(index)["message_id"]]


def test_items_show_message_patient_and_time_and_the_screen_masks_the_patient(qtbot, view):
    from core import privacy
    from ui.models.queue_tree import COL_MESSAGE, COL_PATIENT, COL_SENT

    expand_all(qtbot, view)
    group = next(r for r, g in enumerate(view.model.groups) if g["children"][0]["patient_id"])
    item = view.model.groups[group]["children"][0]
    cell = lambda col: view.model.index(0, col, view.model.index(group, 0)).data()  # noqa: E731
    assert item["control_id"] in cell(COL_MESSAGE) and item["message_type"] in cell(COL_MESSAGE)
    assert cell(COL_PATIENT).startswith(item["patient_id"]) and cell(COL_SENT).startswith("2026-")
    view.model.set_privacy(True)
    assert cell(COL_PATIENT) == privacy.MASK and item["control_id"] in cell(COL_MESSAGE)
    # every column a person needs to triage is within the default width of the tree
    assert sum(view.tree.columnWidth(c) for c in range(COL_SENT + 1)) < 1000


def test_a_refresh_keeps_expanded_groups_and_the_chosen_item(qtbot, view):
    expand_all(qtbot, view)
    group = max(range(view.model.rowCount()), key=lambda r: view.model.groups[r]["items"])
    chosen = view.model.groups[group]["children"][1]["id"]
    view.tree.selectionModel().setCurrentIndex(view.model.index(1, 0, view.model.index(group, 0)),
                                               QItemSelectionModel.SelectionFlag.ClearAndSelect
                                               | QItemSelectionModel.SelectionFlag.Rows)
    expanded = {g["signature"] for r, g in enumerate(view.model.groups) if view.tree.isExpanded(view.model.index(r, 0))}
    with qtbot.waitSignal(view.model.loaded, timeout=10_000):
        view.refresh()
    qtbot.waitUntil(lambda: view.model.node(view.tree.currentIndex()) is not None
                    and view.model.node(view.tree.currentIndex()).get("id") == chosen, timeout=10_000)
    assert {g["signature"] for r, g in enumerate(view.model.groups) if view.tree.isExpanded(view.model.index(r, 0))} == expanded


def _choose_group(view, row):
    view.tree.setFocus()
    view.tree.selectionModel().setCurrentIndex(view.model.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                                               | QItemSelectionModel.SelectionFlag.Rows)


def test_a_group_action_covers_exactly_what_the_filter_shows(qtbot, view, qstore, monkeypatch):
    """A signature that spans interfaces: with one interface chosen, the group's row count is
    what the dialog offers and what is acknowledged; the other interfaces' items stay open."""
    items = queue.items(qstore, states=["open"])
    spans: dict[str, set] = {}
    for i in items:
        spans.setdefault(i["signature"], set()).add(i["interface_id"])
    signature, interfaces = next((s, ifs) for s, ifs in spans.items() if len(ifs - {None}) > 1)
    iface = sorted(interfaces - {None})[0]
    with qtbot.waitSignal(view.model.loaded, timeout=10_000):
        view.set_interface(iface)
    row = next(r for r, g in enumerate(view.model.groups) if g["signature"] == signature)
    shown = view.model.groups[row]["items"]
    offered = []
    monkeypatch.setattr(AcknowledgeDialog, "__init__", lambda self, count, parent=None: (
        offered.append(count), QDialog.__init__(self, parent))[1])
    monkeypatch.setattr(AcknowledgeDialog, "exec", lambda self: 1)
    monkeypatch.setattr(AcknowledgeDialog, "values", lambda self: ("duplicate", None))
    _choose_group(view, row)
    with qtbot.waitSignal(operations().did_change, timeout=10_000):
        qtbot.keyClick(view.tree, Qt.Key.Key_A)
    acked = queue.items(qstore, states=["acknowledged"])
    assert offered == [shown] and len(acked) == shown and {i["interface_id"] for i in acked} == {iface}
    still_open = [i for i in queue.items(qstore, states=["open"]) if i["signature"] == signature]
    assert still_open and iface not in {i["interface_id"] for i in still_open}


def _resend_view(qtbot, store):
    view = QueueView(Context(store, actor="alice@ws1"))
    qtbot.addWidget(view)
    view.refresh()
    qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=10_000)
    return view


def test_resend_from_the_queue_confirms_destination_and_records(qtbot, store, monkeypatch):
    from tests.helpers.resend import Receiver, enable, setup

    items, iface = setup(store, 2)
    receiver = Receiver("AA")
    try:
        enable(store, iface, receiver.port)
        view = _resend_view(qtbot, store)
        asked = []

        def confirm(self):
            asked.append(self.text.toPlainText())
            return 1

        monkeypatch.setattr(ResendConfirmDialog, "exec", confirm)
        _choose_group(view, next(r for r, g in enumerate(view.model.groups) if g["kind"] == "nak_error"))
        told = []
        view.notice.connect(told.append)
        with qtbot.waitSignal(operations().did_change, timeout=20_000):
            view.actions["S"].trigger()
        assert "Resend 2 messages of ECW → QUEST to 127.0.0.1" in asked[0] and "clinical" in asked[0]
        assert "Resend: 1 of 2 sent and answered" in told and "Resend: 2 of 2 sent and answered" in told
        assert len(receiver.received) == 2
        assert {i["triage_state"] for i in queue.items(store, kinds=["nak_error"])} == {"resent"}
    finally:
        receiver.stop()


def test_key_s_on_the_follow_up_of_an_unknown_outcome_sends_only_after_the_receiver_was_checked(qtbot, store, monkeypatch):
    from core.commands.resend import Resend
    from tests.helpers.resend import Receiver, ctx, enable, setup

    items, iface = setup(store)
    receiver = Receiver("close_mid", kind="raw")
    try:
        enable(store, iface, receiver.port)
        Resend(ctx(store), ack_timeout=1).run(Resend(ctx(store)).plan({items[0]["id"]: None}))
        receiver.behaviour = "AA"
        view = _resend_view(qtbot, store)
        seen = []

        def confirm(self, tick: bool):
            seen.append((self.text.toPlainText(), self.send.isEnabled(), not self.checks["after_unknown"].isHidden()))
            if tick:
                self.checks["after_unknown"].setChecked(True)
                qtbot.waitUntil(lambda: self.send.isEnabled(), timeout=10_000)
            return 1

        row = next(r for r, g in enumerate(view.model.groups) if g["kind"] == "failed_resend")
        monkeypatch.setattr(ResendConfirmDialog, "exec", lambda self: confirm(self, False))
        _choose_group(view, row)
        view.actions["S"].trigger()
        qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
        text, enabled, box = seen[0]
        assert "outcome is unknown" in text and not enabled and box
        qtbot.wait(300)
        assert len(receiver.received) == 1  # nothing went

        monkeypatch.setattr(ResendConfirmDialog, "exec", lambda self: confirm(self, True))
        with qtbot.waitSignal(operations().did_change, timeout=20_000):
            view.actions["S"].trigger()
        assert len(receiver.received) == 2
    finally:
        receiver.stop()


def test_a_refused_resend_says_how_to_enable_it_and_opens_the_settings(qtbot, store, monkeypatch):
    from tests.helpers.resend import setup

    items, iface = setup(store)
    view = _resend_view(qtbot, store)
    shown = []

    def exec_(box):
        shown.append(box.text())
        box.buttons()[[b.text() for b in box.buttons()].index("Open resend settings…")].click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    _choose_group(view, next(r for r, g in enumerate(view.model.groups) if g["kind"] == "nak_error"))
    with qtbot.waitSignal(view.settings_wanted, timeout=10_000) as wanted:
        view.actions["S"].trigger()
    assert wanted.args == [iface] and "writes are not enabled" in shown[0] and "--writes on" in shown[0]


def test_acknowledge_keeps_what_was_typed_and_says_what_to_change(qtbot):
    dialog = AcknowledgeDialog(3)
    qtbot.addWidget(dialog)
    dialog.reason.setCurrentIndex(dialog.reason.findData("other"))
    dialog._accept()
    assert dialog.result() == 0 and "A note is needed" in dialog.problem.text() and not dialog.problem.isHidden()
    dialog.note.setPlainText("called the lab")
    dialog._accept()
    assert dialog.result() == 1 and dialog.values() == ("other", "called the lab")


def test_under_the_screen_codes_stay_readable_and_the_patient_does_not(qtbot, view):
    from core import privacy
    from core.ingest import Ingestor

    order = (b"MSH|^~\\&|ECW|NFM|LABX|LX|20261124100000||ORM^O01|PRIV1|P|2.5.1\rPID|1||MRN77^^^NFM^MR||MOUSE^MINNIE\r"
             b"ORC|NW|PL1\rOBR|1|PL1||GLU^Glucose\r")
    nak = (b"MSH|^~\\&|LABX|LX|ECW|NFM|20261124100001||ACK|N1|P|2.5.1\rMSA|AE|PRIV1|MOUSE MINNIE MRN77 not on file\r"
           b"ERR||PID^1^3|101^Required field missing^HL70357|E\r")
    Ingestor(view.ctx.store, now=lambda: NOW).ingest_messages("lab", [order, nak], transport="file")
    view.refresh()
    qtbot.waitUntil(lambda: any("LABX" in (g["signature"] or "") for g in view.model.groups), timeout=10_000)
    expand_all(qtbot, view)
    view.model.set_privacy(True)
    row = next(r for r, g in enumerate(view.model.groups) if "LABX" in g["signature"])
    title = view.model.index(row, 0).data()
    assert title.startswith("101 at PID-3") and not title.startswith("#")  # codes and references stay readable
    shown = view.model.index(0, 0, view.model.index(row, 0)).data()
    assert "MOUSE" not in shown and "MRN77" not in shown and privacy.MASK in shown and "not on file" in shown
