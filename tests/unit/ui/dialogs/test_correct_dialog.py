from __future__ import annotations

from datetime import datetime

import pytest

from core.commands.context import CommandError, Context
from core.store import messages, queue
from tests.helpers.stores import demo_store, settle_workers
from ui.dialogs.correct import CorrectionDialog, parse_edits


@pytest.fixture
def cstore(tmp_path):
    s = demo_store(f"sqlite:///{tmp_path / 'c.db'}", tmp_path, 20_000)
    yield s
    settle_workers()
    s.close()


def pid3_items(store):
    return [i for i in queue.items(store, states=["open"], kinds=["invalid"]) if "PID-3" in i["reason"]]


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
    marks = dialog.diff.right.extraSelections()
    assert len(marks) == 2 and marks[1].cursor.selectedText() == "MRN104242"  # the line, and the changed field in it
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        dialog.save()
    [new_id] = dialog.saved
    assert messages.get(cstore, new_id)["parent_id"] == item["message_id"]


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
    assert "A1" in dialog.diff.left.toPlainText() and dialog.summary.text() == "1 segment differs."
    dialog.right.setCurrentIndex(1)
    assert dialog.summary.text() == "The two versions are the same."


@pytest.fixture
def privacy_on():
    from ui.privacy_screen import screen

    screen().set(True)
    yield screen()
    screen().set(False)


def _phi(store, message_id):
    from core import privacy
    from core.hl7.encoding import decode

    row = messages.get(store, message_id)
    return [v for v in privacy.phi_values(decode(row["raw"], row["charset"])[0]) if len(v) > 3]


def _everything_shown(dialog) -> str:
    from PySide6.QtWidgets import QLabel, QPlainTextEdit

    typed = getattr(dialog, "edits", None)  # what the person types is theirs to see
    texts = [w.toPlainText() for w in dialog.findChildren(QPlainTextEdit) if w.isVisibleTo(dialog) and w is not typed]
    return "\n".join(texts + [w.text() for w in dialog.findChildren(QLabel)] + [dialog.windowTitle()])


def test_correct_dialog_under_the_privacy_screen_shows_no_identifier(qtbot, cstore, privacy_on):
    item = pid3_items(cstore)[0]
    secrets = _phi(cstore, item["message_id"])
    assert secrets
    dialog = CorrectionDialog(Context(cstore, actor="alice@ws1"), [item["message_id"]])
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.diff.left.toPlainText().startswith("MSH|"), timeout=10_000)
    assert not dialog.input.isTabEnabled(1) and dialog.masked_note.isVisibleTo(dialog) and not dialog.raw.toPlainText()
    dialog.edits.setPlainText("PID-3.1 = MRN104242\nPID-8 = X")
    dialog.preview()
    qtbot.waitUntil(lambda: "previewed" in dialog.status.text(), timeout=20_000)
    shown = _everything_shown(dialog)
    assert "MRN104242" not in shown and not [s for s in secrets if s in shown]
    assert "PID-8" in dialog.findings.text() or "Validation" in dialog.findings.text()  # field references stay readable
    spans = [s for s in dialog.diff.right.extraSelections() if not s.cursor.selectedText() == ""]
    assert "X" in {s.cursor.selectedText() for s in spans}  # the changed field itself is marked
    privacy_on.set(False)  # the screen goes off while the dialog is open: the raw text can be edited again
    assert dialog.input.isTabEnabled(1) and dialog.raw.toPlainText().startswith("MSH|")
    assert "MRN104242" in dialog.diff.right.toPlainText()


def test_versions_dialog_follows_the_privacy_screen(qtbot, cstore, privacy_on):
    from core.commands.correct import Correct
    from ui.dialogs.versions import VersionsDialog

    item = pid3_items(cstore)[0]
    ctx = Context(cstore, actor="alice@ws1")
    Correct(ctx).save(Correct(ctx).preview(item["message_id"], [("PID-3.1", "MRN104242")], structural=False))
    secrets = _phi(cstore, item["message_id"]) + ["MRN104242"]
    dialog = VersionsDialog(ctx, item["message_id"])
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: bool(dialog.versions), timeout=10_000)
    shown = _everything_shown(dialog)
    assert shown.count("MSH|") == 2 and not [s for s in secrets if s in shown]
    assert dialog.summary.text() == "1 segment differs."
    privacy_on.set(False)
    assert "MRN104242" in dialog.diff.right.toPlainText()


def test_the_dialog_says_what_failed_and_starts_at_the_field_the_nak_points_at(qtbot, store):
    from tests.helpers.resend import setup

    items, _ = setup(store)  # a lab order NAKed 103 at ORC^1^12: the ordering provider is not on file
    dialog = CorrectionDialog(Context(store, actor="alice@ws1"), [items[0]["message_id"]])
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.failed.isVisibleTo(dialog), timeout=10_000)
    assert "Provider not on file" in dialog.failed.text() and "points at ORC-12" in dialog.failed.text()
    assert dialog.edits.toPlainText().startswith("ORC-12 = ")
    marked = [s.cursor.selectedText() for s in dialog.diff.left.extraSelections() if s.cursor.selectedText()]
    assert marked  # the field is marked in the message as it is


def test_versions_say_who_made_each_and_which_fields_changed(qtbot, cstore):
    from core.commands.correct import Correct
    from ui.dialogs.versions import VersionsDialog

    item = pid3_items(cstore)[0]
    ctx = Context(cstore, actor="alice@ws1")
    Correct(ctx).save(Correct(ctx).preview(item["message_id"], [("PID-3.1", "MRN104242")], structural=False))
    dialog = VersionsDialog(ctx, item["message_id"])
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.right.count() == 2, timeout=10_000)
    newest = dialog.right.itemText(1)
    assert "alice@ws1" in newest and "changed PID-3" in newest
    assert "as it arrived" in dialog.left.itemText(0)
