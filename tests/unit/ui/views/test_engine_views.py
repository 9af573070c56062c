"""Engines in the window, on the demo's loopback engine: Settings → Engines…, the Board's
engine columns, the detail pane's engine keys, and the privacy screen over engine content
that is not HL7."""
from __future__ import annotations

import pytest

from core import demo_engine
from core.commands.context import Context
from core.commands.detail import OpenDetail
from core.store import engines, messages
from tests.helpers.stores import settle_workers
from ui.dialogs.engines import EngineDialog, EnginesDialog
from ui.models.board_table import COL_ENGINE_ERRORS, COL_ENGINE_QUEUED, COL_ENGINE_STATE, COL_INTERFACE
from ui.views.board_view import BoardView
from ui.views.detail_pane import DetailPane

DOCUMENTS = "5f1c8a7e-0004-4c2a-9d6e-1a2b3c4d5e04"


@pytest.fixture
def demo(store):
    ctx = Context(store, actor="tester")
    server = demo_engine.start(ctx)
    yield ctx
    settle_workers()
    server.stop()


def test_the_engines_dialog_lists_the_engine_and_its_channels(qtbot, demo):
    dialog = EnginesDialog(demo)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=5000)
    cells = [dialog.table.item(0, c).text() for c in range(dialog.table.columnCount())]
    assert cells[:5] == [demo_engine.NAME, engines.get(demo.store, demo_engine.NAME)["url"], "3.12.0", "on", "4"]


def test_a_refused_engine_keeps_what_was_typed_and_says_why(qtbot):
    dialog = EngineDialog(None, typed={"name": "m", "url": "https://mirth:8443", "username": "admin"},
                          problem="Nothing was saved: the engine refused the sign-in as admin: wrong user name or password.")
    qtbot.addWidget(dialog)
    assert dialog.url.text() == "https://mirth:8443" and not dialog.problem.isHidden()
    dialog._accept()  # no password for a new engine: said, not saved
    assert "the password" in dialog.problem.text() and not dialog.result()


def test_the_board_shows_each_channel_with_the_engines_state_and_counts(qtbot, demo):
    view = BoardView(demo)
    qtbot.addWidget(view)
    view.refresh()
    qtbot.waitUntil(lambda: view.model.rowCount() >= 4, timeout=5000)
    rows = {view.model.index(r, COL_INTERFACE).data(): r for r in range(view.model.rowCount())}
    lab = rows[f"ECW lab orders to Quest · {demo_engine.NAME}"]
    assert view.model.index(lab, COL_ENGINE_STATE).data() == "Started"
    assert (view.model.index(lab, COL_ENGINE_QUEUED).data(), view.model.index(lab, COL_ENGINE_ERRORS).data()) == ("3", "19")
    assert view.model.index(rows[f"CCD documents to HIE · {demo_engine.NAME}"], COL_ENGINE_STATE).data() == "Stopped"


def test_the_detail_names_the_engine_and_hides_non_hl7_content_behind_the_privacy_screen(qtbot, demo):
    [first] = messages.page(demo.store, messages.MessageFilter(channel=DOCUMENTS, engine_message_id=3, connector="Source"))
    detail = OpenDetail(demo).run(first["id"])
    assert detail.engine["channel_name"] == "CCD documents to HIE" and detail.engine_reference.endswith(
        f"/api/channels/{DOCUMENTS}/messages/3")
    pane = DetailPane()
    qtbot.addWidget(pane)
    pane.show_detail(detail)
    assert "Engine <b>Mirth (demo)</b> · channel CCD documents to HIE · message 3" in pane.summary.text()
    assert "<ClinicalDocument" in pane.raw.toPlainText()
    pane.set_privacy(True)
    assert "ClinicalDocument" not in pane.raw.toPlainText() and "The privacy screen hides this content" in pane.raw.toPlainText()
