from __future__ import annotations

from datetime import datetime

import pytest

from core.commands.context import CommandError, Context
from core.store import queries
from tests.conftest import demo_store, settle_workers
from ui.dialogs.correct import CorrectionDialog, parse_edits


@pytest.fixture
def cstore(tmp_path):
    s = demo_store(f"sqlite:///{tmp_path / 'c.db'}", tmp_path, 20_000)
    yield s
    settle_workers()
    s.close()


def pid3_items(store):
    return [i for i in queries.queue_items(store, states=["open"], kinds=["invalid"]) if "PID-3" in i["reason"]]


def test_parse_edits():
    assert parse_edits("PID-3.1 = MRN1\n\n# note\nOBR-4.2=Glucose, fasting") == [("PID-3.1", "MRN1"), ("OBR-4.2", "Glucose, fasting")]
    with pytest.raises(CommandError, match="Line 1"):
        parse_edits("PID-3.1 MRN1")


def test_preview_shows_the_diff_then_saves_a_version(qtbot, cstore):
    item = pid3_items(cstore)[0]
    ctx = Context(cstore, actor="alice@ws1", now=lambda: datetime(2026, 11, 24, 13))
    dialog = CorrectionDialog(ctx, [item["message_id"]])
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.raw.toPlainText().startswith("MSH|"), timeout=10_000)
    dialog.edits.setPlainText("PID-3.1 = MRN104242")
    assert not dialog.save_button.isEnabled()
    dialog.preview()
    qtbot.waitUntil(dialog.save_button.isEnabled, timeout=20_000)
    assert "MRN104242" in dialog.diff.right.toPlainText() and "MRN104242" not in dialog.diff.left.toPlainText()
    assert len(dialog.diff.right.extraSelections()) == 1  # one changed line marked
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        dialog.save()
    [new_id] = dialog.saved
    assert queries.message(cstore, new_id)["parent_id"] == item["message_id"]


def test_bulk_correction_for_a_group(qtbot, cstore):
    items = pid3_items(cstore)
    ids = sorted({i["message_id"] for i in items})
    dialog = CorrectionDialog(Context(cstore, actor="alice@ws1"), ids, first_shown=2)
    qtbot.addWidget(dialog)
    assert dialog.input.count() == 1  # raw text makes no sense for many messages
    dialog.edits.setPlainText("PID-3.1 = UNKNOWN")
    dialog.preview()
    qtbot.waitUntil(dialog.save_button.isEnabled, timeout=20_000)
    assert len(dialog.previews) == 2
    with qtbot.waitSignal(dialog.accepted, timeout=20_000):
        dialog.save()
    assert len(dialog.saved) == len(ids)
    assert not pid3_items(cstore)


def test_versions_dialog_compares_any_two(qtbot, cstore):
    from core.commands.correct import Correct
    from ui.dialogs.versions import VersionsDialog

    item = pid3_items(cstore)[0]
    ctx = Context(cstore, actor="alice@ws1")
    first = Correct(ctx).save(Correct(ctx).preview(item["message_id"], [("PID-3.1", "A1")], structural=False))
    second = Correct(ctx).save(Correct(ctx).preview(first, [("PID-3.1", "A2")], structural=False))
    dialog = VersionsDialog(ctx, second)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.left.count() == 3, timeout=10_000)
    assert "A2" in dialog.diff.right.toPlainText() and "A2" not in dialog.diff.left.toPlainText()
    dialog.left.setCurrentIndex(1)
    assert "A1" in dialog.diff.left.toPlainText() and dialog.summary.text() == "1 line(s) differ."
    dialog.right.setCurrentIndex(1)
    assert dialog.summary.text() == "The two versions are the same."
