from __future__ import annotations

import base64

from PySide6.QtWidgets import QFileDialog

from core.commands.detail import Detail
from core.hl7.structure import build, find
from core.privacy import PHI_FIELDS
from ui.views.detail_pane import DetailPane, value_bytes

PDF = b"%PDF-1.4 a discharge summary " * 20
TEXT = ("MSH|^~\\&|DICTATE|NUANCE|ECW|NFM|20260101||MDM^T02|D1|P|2.5\r"
        "PID|1||MRN7^^^NFM^MR||ROE^RICHARD\r"
        f"OBX|1|ED|PN^Progress note||^AP^PDF^Base64^{base64.b64encode(PDF).decode()}||||||F\r")


def detail() -> Detail:
    row = {"id": 7, "message_type": "MDM^T02", "control_id": "D1", "version": "2.5", "message_time": None,
           "sending_app": "DICTATE", "sending_facility": "NUANCE", "receiving_app": "ECW", "receiving_facility": "NFM",
           "patient_id": "MRN7", "patient_name": "ROE^RICHARD", "parse_state": "ok", "source": "/logs/in.hl7",
           "offset": 0, "size": len(TEXT), "parent_id": None, "version_no": 1}
    return Detail(row, TEXT, "utf-8", build(TEXT, "2.5", PHI_FIELDS), ["ACK state: Accepted."], [(8, "its ACK")])


def test_long_values_are_shortened_and_saved_whole_and_decoded(qtbot, tmp_path, monkeypatch):
    pane = DetailPane()
    qtbot.addWidget(pane)
    pane.show_detail(detail())
    assert "more characters" in pane.raw.toPlainText().splitlines()[2]
    obx5 = find(pane.detail.tree, "OBX-5")
    assert value_bytes(obx5) == (PDF, ".bin")
    model = pane.tree_model
    obx = model.index(2, 0)
    row = next(r for r in range(model.rowCount(obx)) if model.index(r, 0, obx).data() == "OBX-5")
    pane.tree.setCurrentIndex(model.index(row, 0, obx))
    assert pane.save_value.isEnabled()
    target = tmp_path / "note.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    with qtbot.waitSignal(pane.notice):
        pane.save_value.click()
    assert target.read_bytes() == PDF


def test_links_and_explanation_are_shown(qtbot):
    pane = DetailPane()
    qtbot.addWidget(pane)
    pane.show_detail(detail())
    assert pane.explanation.text() == "ACK state: Accepted."
    button = pane.links.itemAt(0).widget()
    assert "its ACK (message 8)" in button.text()
    with qtbot.waitSignal(pane.open_message) as opened:
        button.click()
    assert opened.args == [8]
    pane.set_privacy(True)
    assert "MRN7" not in pane.raw.toPlainText() and "ROE" not in pane.summary.text()
