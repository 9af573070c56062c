"""Confirm a write (a resend, a reprocess through an engine): where it goes and how many. When
the plan holds messages back (an earlier outcome unknown, or already accepted), the person
must say in words that the receiver was checked before those are planned again; nothing held
goes by default."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout

from core.commands.resend import Plan

HELD_WORDS = {
    "after_unknown": "I checked with the receiver: it does not have the messages whose earlier outcome is unknown.",
    "again": "Send again the messages the receiver already accepted.",
}


class ResendConfirmDialog(QDialog):
    """`replan(after_unknown, again)` makes a new plan (off the GUI thread) and calls back `show_plan`."""

    def __init__(self, plan: Plan, replan: Callable[[bool, bool], None], parent=None, *, title: str = "Resend") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(720, 360)
        self.plan, self.replan = plan, replan
        self.text = QPlainTextEdit(readOnly=True)
        self.checks = {need: QCheckBox(words) for need, words in HELD_WORDS.items()}
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Yes | QDialogButtonBox.StandardButton.Cancel)
        self.send = self.buttons.button(QDialogButtonBox.StandardButton.Yes)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{title} changes state in another system. Check where it goes:"))
        layout.addWidget(self.text, 1)
        for box in self.checks.values():
            box.toggled.connect(self._asked)
            layout.addWidget(box)
        layout.addWidget(self.buttons)
        self.show_plan(plan)

    def _asked(self) -> None:
        self.send.setEnabled(False)
        self.replan(self.checks["after_unknown"].isChecked(), self.checks["again"].isChecked())

    def show_plan(self, plan: Plan | None) -> None:
        if plan is None:
            return
        self.plan = plan
        self.text.setPlainText(plan.confirmation())
        for need, box in self.checks.items():
            box.setVisible(need in plan.held or box.isChecked())
        n = len(plan.targets)
        verb = "Send" if self.windowTitle() == "Resend" else self.windowTitle()
        self.send.setText(f"{verb} {n} message{'s' if n != 1 else ''}" if n else f"Nothing to {verb.lower()}")
        self.send.setEnabled(bool(n))
