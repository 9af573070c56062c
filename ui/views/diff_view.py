"""Two versions of a message side by side, one segment a line, changed lines marked."""
from __future__ import annotations

import difflib

from PySide6.QtGui import QColor, QFontDatabase, QTextCursor, QTextFormat
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QTextEdit, QVBoxLayout, QWidget


def segments(text: str) -> list[str]:
    return [s for s in text.replace("\r\n", "\r").replace("\n", "\r").split("\r")]


class DiffView(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.left, self.right = self._side(), self._side()
        self.left_title, self.right_title = QLabel("Before"), QLabel("After")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for title, side in ((self.left_title, self.left), (self.right_title, self.right)):
            column = QVBoxLayout()
            column.addWidget(title)
            column.addWidget(side)
            layout.addLayout(column)
        self.left.verticalScrollBar().valueChanged.connect(self.right.verticalScrollBar().setValue)
        self.right.verticalScrollBar().valueChanged.connect(self.left.verticalScrollBar().setValue)

    @staticmethod
    def _side() -> QPlainTextEdit:
        edit = QPlainTextEdit(readOnly=True)
        edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        return edit

    def show_versions(self, before: str, after: str, left_title: str = "Before", right_title: str = "After") -> int:
        """Show both; returns how many lines differ."""
        a, b = segments(before), segments(after)
        left, right, changed_left, changed_right = [], [], [], []
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
            span = max(i2 - i1, j2 - j1)
            for k in range(span):
                if op != "equal":
                    changed_left.append(len(left))
                    changed_right.append(len(right))
                left.append(a[i1 + k] if i1 + k < i2 else "")
                right.append(b[j1 + k] if j1 + k < j2 else "")
        self.left.setPlainText("\n".join(left))
        self.right.setPlainText("\n".join(right))
        self._mark(self.left, changed_left, QColor(255, 80, 80, 60))
        self._mark(self.right, changed_right, QColor(60, 200, 90, 70))
        self.left_title.setText(left_title)
        self.right_title.setText(right_title)
        return len(changed_left)

    @staticmethod
    def _mark(edit: QPlainTextEdit, lines: list[int], colour: QColor) -> None:
        marks = []
        for line in lines:
            sel = QTextEdit.ExtraSelection()
            sel.format.setBackground(colour)
            sel.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            cursor = QTextCursor(edit.document().findBlockByLineNumber(line))
            sel.cursor = cursor
            marks.append(sel)
        edit.setExtraSelections(marks)
