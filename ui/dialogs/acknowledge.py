"""Acknowledge: a reason from the list and a note, for one item, a selection or a group."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QPlainTextEdit

from core.commands.triage import ACK_REASONS


class AcknowledgeDialog(QDialog):
    def __init__(self, count: int, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Acknowledge")
        self.reason = QComboBox()
        for code, words in ACK_REASONS.items():
            self.reason.addItem(words, code)
        self.note = QPlainTextEdit(placeholderText="What was done, or why nothing will be (seen in the audit trail)")
        self.note.setMaximumHeight(90)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(f"Acknowledge {count} item{'s' if count != 1 else ''}")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(QLabel(f"Mark {count} queue item{'s' if count != 1 else ''} as handled."))
        form.addRow("Reason", self.reason)
        form.addRow("Note", self.note)
        self.problem = QLabel(wordWrap=True)
        self.problem.setStyleSheet("color: #c0392b")
        self.problem.hide()
        form.addRow(self.problem)
        form.addRow(buttons)

    def _accept(self) -> None:
        """What the command would refuse is said here, and the dialog stays open with what was typed."""
        reason, note = self.values()
        if reason == "other" and not note:
            self.problem.setText('A note is needed when the reason is "Other": say what was done.')
            self.problem.show()
            self.note.setFocus()
            return
        self.accept()

    def values(self) -> tuple[str, str | None]:
        return self.reason.currentData(), self.note.toPlainText().strip() or None
