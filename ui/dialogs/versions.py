"""Any two versions of a message side by side: the original and its corrections (masked while
the privacy screen is on, and following it while open)."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QHBoxLayout, QLabel, QVBoxLayout

from core.commands.context import Context
from core.hl7.encoding import decode
from core.store import messages
from ui.privacy_screen import screen
from ui.views.diff_view import DiffView, changed_fields, segments
from ui.workers import submit


def load_versions(ctx: Context, message_id: int) -> list[tuple[int, int, str, str]]:
    """(message id, version number, decoded text, what it is in words) of every version, oldest
    first: who made each correction and when, and the fields it changed."""
    ids = messages.versions(ctx.store, message_id)
    made = messages.history(ctx.store, ids)
    out: list[tuple[int, int, str, str]] = []
    for mid in ids:
        row = messages.get(ctx.store, mid)
        text = decode(row["raw"], row["charset"])[0]
        if row["version_no"] == 1:
            words = f"version 1 (message {mid}), as it arrived {row['received_at']:%Y-%m-%d %H:%M}"
        else:
            who = made.get(mid, {})
            before = next(t for m, _, t, _ in out if m == row["parent_id"]) if row["parent_id"] else ""
            fields = ", ".join(changed_paths(before, text)) or "nothing"
            words = (f"version {row['version_no']} (message {mid}), by {who.get('actor', 'unknown')} "
                     f"{who['at']:%Y-%m-%d %H:%M}" if who else f"version {row['version_no']} (message {mid})")
            words += f", changed {fields}"
        out.append((mid, row["version_no"], text, words))
    return out


def changed_paths(before: str, after: str) -> list[str]:
    """The field paths (PID-3, OBX[2]-5) that differ between two versions, segment by segment."""
    a, b = segments(before), segments(after)
    sep = before[3:4] if before.startswith("MSH") else "|"
    out, seen = [], {}
    for i in range(max(len(a), len(b))):
        la, lb = (a[i] if i < len(a) else ""), (b[i] if i < len(b) else "")
        seg = (lb or la)[:3]
        seen[seg] = seen.get(seg, 0) + 1
        if la != lb:
            name = seg + (f"[{seen[seg]}]" if seen[seg] > 1 else "")
            shift = 1 if seg == "MSH" else 0  # MSH-1 is the separator itself
            out += [f"{name}-{n + shift}" for n in sorted(changed_fields(la, lb, sep)) if n]
    return out


class VersionsDialog(QDialog):
    def __init__(self, ctx: Context, message_id: int, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Versions of message {message_id}")
        self.resize(1200, 640)
        self.versions: list[tuple[int, int, str, str]] = []
        self.left, self.right = QComboBox(), QComboBox()
        for combo in (self.left, self.right):  # a version's words (who, when, which fields) shown whole
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
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

    def _loaded(self, found: list[tuple[int, int, str, str]]) -> None:
        self.versions = found
        for combo in (self.left, self.right):
            combo.blockSignals(True)
            for *_, words in found:
                combo.addItem(words)
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
