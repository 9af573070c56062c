"""The compare dialogs: two messages side by side, two views paired by a field, both masked
under the privacy screen."""
from core.commands.context import Context
from core.commands.views import SaveView
from core.privacy import MASK
from core.store import messages
from ui.dialogs.compare import NO_SEGMENT, CompareDialog, CompareViewsDialog
from ui.privacy_screen import screen


def _two_orus(store):
    rows = messages.page(store, messages.MessageFilter(types=["ORU"]), limit=2)
    return rows[0]["id"], rows[1]["id"]


def test_two_messages_side_by_side_with_what_differs_marked_and_masked(qtbot, small_store):
    a, b = _two_orus(small_store)
    dialog = CompareDialog(Context(small_store), a, b)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() > 0, timeout=5000)
    cells = {dialog.table.item(r, 0).text(): (dialog.table.item(r, 1).text(), dialog.table.item(r, 2).text())
             for r in range(dialog.table.rowCount())}
    assert "MSH-10" in cells and all(left != right for left, right in cells.values())
    assert "differ," in dialog.said.text() and f"Message {a}" in dialog.heads[0].text()
    dialog.only_differences.setChecked(False)
    assert dialog.table.rowCount() == len(dialog.rows) > len(cells)
    screen().set(True)
    try:
        shown = {dialog.table.item(r, 0).text(): dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())}
        assert shown["PID-5.1"] == MASK and shown["MSH-9"].startswith("ORU^R01") and "privacy screen on" in dialog.said.text()
    finally:
        screen().set(False)
    assert NO_SEGMENT not in shown["MSH-9"]


def test_two_views_paired_by_a_field(qtbot, small_store):
    ctx = Context(small_store, actor="ana")
    SaveView(ctx).run("orders", {"type": ["ORM"]})
    SaveView(ctx).run("results", {"type": ["ORU"]})
    dialog = CompareViewsDialog(ctx)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.right.count() == 2, timeout=5000)
    dialog.key.setText("ORC-2[")
    dialog.run()
    assert "Paired by" in dialog.problem.text()
    dialog.key.setText("ORC-2")
    dialog.run()
    qtbot.waitUntil(lambda: dialog.found is not None, timeout=20_000)
    assert "matched" in dialog.summary.text() and dialog.keys.rowCount() > 0
    kinds = {dialog.keys.item(r, 0).text() for r in range(dialog.keys.rowCount())}
    assert kinds <= {"Differ", "Only in orders", "Only in results"} and kinds
