"""Any two versions of a message side by side: the original and its corrections (masked while
the privacy screen is on, and following it while open)."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QHBoxLayout, QLabel, QVBoxLayout

from core.commands.context import Context
from core.commands.correct import versions
from core.hl7.encoding import decode
from core.store import queries
from ui.privacy_screen import screen
from ui.views.diff_view import DiffView
from ui.workers import submit


def load_versions(ctx: Context, message_id: int) -> list[tuple[int, int, str]]:
    """(message id, version number, decoded text) of every version, oldest first."""
    out = []
    for mid in versions(ctx, message_id):
        row = queries.message(ctx.store, mid)
        out.append((mid, row["version_no"], decode(row["raw"], row["charset"])[0]))
    return out


class VersionsDialog(QDialog):
    def __init__(self, ctx: Context, message_id: int, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Versions of message {message_id}")
        self.resize(1200, 640)
        self.versions: list[tuple[int, int, str]] = []
        self.left, self.right = QComboBox(), QComboBox()
        self.diff = DiffView()
        self.summary = QLabel()
        pick = QHBoxLayout()
        for text, combo in (("Compare", self.left), ("with", self.right)):
            pick.addWidget(QLabel(text))
            pick.addWidget(combo)
        pick.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(pick)
        layout.addWidget(self.diff, 1)
        layout.addWidget(self.summary)
        self.left.currentIndexChanged.connect(self.compare)
        self.right.currentIndexChanged.connect(self.compare)
        screen().changed.connect(self._privacy_changed)  # a bound slot: disconnected when the dialog goes
        submit(lambda: load_versions(ctx, message_id), self._loaded, self.summary.setText, context=self)

    def _loaded(self, found: list[tuple[int, int, str]]) -> None:
        self.versions = found
        for combo in (self.left, self.right):
            combo.blockSignals(True)
            for mid, number, _ in found:
                combo.addItem(f"version {number} (message {mid})" + (" — as it arrived" if number == 1 else ""))
            combo.blockSignals(False)
        self.left.setCurrentIndex(0)
        self.right.setCurrentIndex(len(found) - 1)
        self.compare()

    def _privacy_changed(self, _on: bool) -> None:
        self.compare()

    def compare(self) -> None:
        if not self.versions:
            return
        a, b = self.versions[self.left.currentIndex()], self.versions[self.right.currentIndex()]
        changed = self.diff.show_versions(a[2], b[2], self.left.currentText(), self.right.currentText(),
                                          masked=screen().on)
        self.summary.setText(("1 segment differs." if changed == 1 else f"{changed} segments differ.") if changed
                             else "The two versions are the same.")
