"""The Queue tab: groups and items, filters, and keyboard-driven triage.

Keys: A acknowledge, R reopen, O assign an owner, E correct, S resend, P reprocess through the engine,
Enter show the message.
Actions apply to the chosen items, or to every item of a chosen group.
"""
from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from core import labels
from core.changes import NOTHING, WRITE, Changes
from core.commands.context import Context
from core.commands.reprocess import Reprocess
from core.commands.resend import Outcome, Plan, Resend
from core.commands.triage import Acknowledge, Assign, Reopen, group_items
from core.ingest import utcnow
from core.store import queue
from core.store.queue import QueueFilter
from core.vocabulary import QueueKind, TriageState
from ui.actions import operations, run_command
from ui.dialogs.acknowledge import AcknowledgeDialog
from ui.dialogs.correct import CorrectionDialog
from ui.dialogs.resend_confirm import ResendConfirmDialog
from ui.models.queue_tree import (
    COL_KIND,
    COL_MESSAGE,
    COL_OWNER,
    COL_PATIENT,
    COL_PROBLEM,
    COL_SENT,
    COL_STATE,
    COL_WHEN,
    QueueTreeModel,
)
from ui.workers import SignalProgress, submit

STATES = (*((s.words, [s]) for s in TriageState), ("Any state", None))
AGES = (("Any age", None), ("Older than 1 hour", timedelta(hours=1)), ("Older than 24 hours", timedelta(days=1)),
        ("Older than 7 days", timedelta(days=7)))


class QueueView(QWidget):
    message_chosen = Signal(int)
    settings_wanted = Signal(int)  # an interface whose resend settings the person wants to open
    notice = Signal(str)  # something to say in the status bar

    def __init__(self, ctx: Context, parent=None) -> None:
        super().__init__(parent)
        operations().did_change.connect(self._on_change)
        self.ctx = ctx
        self.interface_id: int | None = None
        self.model = QueueTreeModel(ctx.store, self)
        self.state = QComboBox()
        self.state.addItems([s[0] for s in STATES])
        self.kind = QComboBox()
        self.kind.addItem("Any problem", None)
        for code, words in ((k.value, k.words) for k in QueueKind):
            self.kind.addItem(words, code)
        self.owner = QLineEdit(placeholderText="Owner (- for unassigned)", clearButtonEnabled=True)
        self.age = QComboBox()
        self.age.addItems([a[0] for a in AGES])
        self.tree = QTreeView(objectName="queue", uniformRowHeights=True, alternatingRowColors=True)
        self.tree.setModel(self.model)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for col, width in ((COL_PROBLEM, 380), (COL_MESSAGE, 170), (COL_PATIENT, 150), (COL_SENT, 120), (COL_KIND, 130),
                           (COL_STATE, 110), (COL_OWNER, 70), (COL_WHEN, 120)):
            self.tree.setColumnWidth(col, width)
        self._kept: dict | None = None  # what the person had open and chosen, put back after a refresh
        self.model.loaded.connect(self._restore)
        self.model.items_loaded.connect(self._restore_items)
        self.tree.selectionModel().currentChanged.connect(self._current_changed)
        self.tree.activated.connect(self._current_changed)

        filters = QHBoxLayout()
        for w in (self.state, self.kind, self.owner, self.age):
            filters.addWidget(w)
        filters.addStretch(1)
        buttons = QHBoxLayout()
        self.actions: dict[str, QAction] = {}
        for key, text, slot in (("A", "Acknowledge…", self.acknowledge), ("R", "Reopen", self.reopen),
                                ("O", "Assign…", self.assign), ("E", "Correct…", self.correct),
                                ("S", "Resend…", self.resend), ("P", "Reprocess in engine…", self.reprocess)):
            action = QAction(f"{text} ({key})", self, shortcut=QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(slot)
            self.tree.addAction(action)
            self.actions[key] = action
            button = QPushButton(action.text())
            button.clicked.connect(action.trigger)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addLayout(filters)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        for combo in (self.state, self.kind, self.age):
            combo.currentIndexChanged.connect(self.refresh)
        self.owner.editingFinished.connect(self.refresh)
        self.model.failed.connect(lambda text: self.notice.emit(f"Queue query failed: {text}"))

    # -- filters -------------------------------------------------------------------------
    def queue_filter(self) -> QueueFilter:
        age = AGES[self.age.currentIndex()][1]
        owner = self.owner.text().strip()
        return QueueFilter(states=STATES[self.state.currentIndex()][1], kinds=[self.kind.currentData()] if self.kind.currentData() else None,
                           interface_id=self.interface_id, owner="" if owner == "-" else owner or None,
                           older_than=utcnow() - age if age else None)

    def set_interface(self, interface_id: int | None) -> None:
        self.interface_id = interface_id
        self.refresh()

    def _on_change(self, changes: Changes) -> None:
        """A command changed what this view shows (ui.actions): read it again."""
        if changes.queue or changes.messages:
            self.refresh()

    def refresh(self) -> None:
        """Reload, keeping the expanded groups, the chosen rows and the scroll position."""
        self._kept = self._keep()
        self.model.set_filter(self.queue_filter())

    def _keep(self) -> dict:
        expanded, groups, items = set(), set(), set()
        for row, g in enumerate(self.model.groups):
            if self.tree.isExpanded(self.model.index(row, 0)):
                expanded.add(g["signature"])
        for index in self.tree.selectionModel().selectedRows():
            node = self.model.node(index)
            if node["node"] == "item":
                items.add(node["id"])
            else:
                groups.add(node["signature"])
        current = self.model.node(self.tree.currentIndex())
        return {"expanded": expanded, "groups": groups, "items": items, "scroll": self.tree.verticalScrollBar().value(),
                "current": (current["node"], current.get("id") or current.get("signature")) if current else None}

    def _restore(self) -> None:
        kept = self._kept
        if not kept:
            return
        for row, g in enumerate(self.model.groups):
            index = self.model.index(row, 0)
            if g["signature"] in kept["expanded"]:
                self.tree.expand(index)  # its items come back on their own (items_loaded)
            if g["signature"] in kept["groups"]:
                self._select(index, kept["current"] == ("group", g["signature"]))
        self.tree.verticalScrollBar().setValue(kept["scroll"])

    def _restore_items(self, signature: str) -> None:
        kept = self._kept
        if not kept or not kept["items"]:
            return
        row = next((r for r, g in enumerate(self.model.groups) if g["signature"] == signature), None)
        if row is None:
            return
        parent = self.model.index(row, 0)
        for i, item in enumerate(self.model.groups[row]["children"] or []):
            if item["id"] in kept["items"]:
                self._select(self.model.index(i, 0, parent), kept["current"] == ("item", item["id"]))
        self.tree.verticalScrollBar().setValue(kept["scroll"])

    def _select(self, index: QModelIndex, current: bool) -> None:
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        if current:
            self.tree.selectionModel().setCurrentIndex(index, flags)
        else:
            self.tree.selectionModel().select(index, flags)

    # -- triage --------------------------------------------------------------------------
    def chosen(self) -> dict[int, int | None]:
        """The chosen items with the row version shown; a group brings exactly the items the view's
        filter shows in it (its state, kind, owner, age and interface), as many as its row counts."""
        chosen: dict[int, int | None] = {}
        flt = self.queue_filter()
        for index in self.tree.selectionModel().selectedRows():
            node = self.model.node(index)
            if node["node"] == "item":
                chosen[node["id"]] = node["row_version"]
            else:
                chosen.update(group_items(self.ctx, node["signature"], flt))
        return chosen

    def _after(self, result, done: str | None = None) -> None:
        """Say what was done (the views refresh from the window's one change signal); after a
        refusal (someone else changed an item first) the queue reads again to show it."""
        if result is None:
            self.refresh()
        elif done:
            self.notice.emit(f"{labels.plural(len(result), 'item')} {done}")

    def acknowledge(self) -> None:
        items = self.chosen()
        if not items:
            return
        dialog = AcknowledgeDialog(len(items), self)
        if dialog.exec():
            reason, note = dialog.values()
            run_command(self, "Acknowledge", lambda: Acknowledge(self.ctx).run(items, reason, note),
                        lambda r: self._after(r, "acknowledged"), changes=Acknowledge.changes)

    def reopen(self) -> None:
        if items := self.chosen():
            run_command(self, "Reopen", lambda: Reopen(self.ctx).run(items), lambda r: self._after(r, "reopened"),
                        changes=Reopen.changes)

    def assign(self) -> None:
        items = self.chosen()
        if not items:
            return
        owner, ok = QInputDialog.getText(self, "Assign", f"Owner of {labels.plural(len(items), 'item')} (empty to clear):")
        if ok:
            run_command(self, "Assign", lambda: Assign(self.ctx).run(items, owner),
                        lambda r: self._after(r, f"assigned to {owner}" if owner.strip() else "unassigned"),
                        changes=Assign.changes)

    def correct(self) -> None:
        chosen = list(self.chosen())
        if chosen:  # the items' messages are read off the GUI thread, then the dialog opens
            submit(lambda: sorted({i["message_id"] for i in queue.items(self.ctx.store, QueueFilter(ids=chosen))
                                   if i["message_id"]}), self._correct_messages,
                   lambda text: self.notice.emit(f"Could not read the chosen items: {text}"), context=self)

    def _correct_messages(self, message_ids: list[int]) -> None:
        if message_ids:
            dialog = CorrectionDialog(self.ctx, message_ids, self)
            if dialog.exec():
                self._after(dialog.saved, "saved as corrected versions")
                if dialog.saved:
                    self.message_chosen.emit(dialog.saved[-1])  # the detail pane follows: the new version

    def resend(self) -> None:
        """Plan, confirm (destination, write class, count; held messages only when the person
        says the receiver was checked), send; outcomes shown when they are in."""
        self._write("Resend", lambda progress=None: Resend(self.ctx, progress=progress))

    def reprocess(self) -> None:
        """The same for items from an engine: reprocessed through it (engine, channel,
        destinations and count confirmed; held messages only on the person's word)."""
        self._write("Reprocess", lambda progress=None: Reprocess(self.ctx, progress=progress))

    def _write(self, title: str, command) -> None:
        items = self.chosen()
        if items:
            run_command(self, title, lambda: command().plan(items), lambda plan: self._confirm_write(title, command, items, plan),
                        changes=NOTHING)

    def _confirm_write(self, title: str, command, items: dict[int, int | None], plan: Plan | None) -> None:
        if plan is None:
            return
        if not plan.targets and not plan.held:
            box = QMessageBox(QMessageBox.Icon.Information, title, plan.confirmation(), parent=self)
            box.addButton(QMessageBox.StandardButton.Close)
            open_settings = box.addButton("Open resend settings…", QMessageBox.ButtonRole.AcceptRole) if plan.unset else None
            box.exec()
            if open_settings is not None and box.clickedButton() is open_settings:
                self.settings_wanted.emit(min(plan.unset))
            return
        dialog = ResendConfirmDialog(plan, lambda unknown, again: run_command(
            self, title, lambda: command().plan(items, after_unknown=unknown, again=again),
            lambda p: dialog.show_plan(p), changes=NOTHING), self, title=title)
        if dialog.exec() and dialog.plan.targets:
            chosen = dialog.plan
            progress = SignalProgress(self)
            what = "sent and answered" if title == "Resend" else "taken by the engine"
            progress.moved.connect(lambda done, total: self.notice.emit(f"{title}: {done:,} of {total:,} {what}"))
            run_command(self, title, lambda: command(progress).run(chosen), lambda outcomes: self._written(title, outcomes),
                        changes=WRITE)

    def _written(self, title: str, outcomes: list[Outcome] | None) -> None:
        if outcomes:
            counts: dict[str, int] = {}
            for o in outcomes:
                counts[o.state] = counts.get(o.state, 0) + 1
            summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
            if set(counts) - {"accepted"}:
                details = "\n".join(f"item {o.item_id}: {o.state}: {o.detail}" for o in outcomes if o.state != "accepted")
                QMessageBox.warning(self, title, f"{summary}.\n\n{details[:3000]}")
            self.notice.emit(f"{title}: {summary}")
        self._after(outcomes)

    def _current_changed(self, current: QModelIndex, *_) -> None:
        node = self.model.node(current)
        if node and node["node"] == "item" and node["message_id"]:
            self.message_chosen.emit(node["message_id"])
