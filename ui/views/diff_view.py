"""Two versions of a message side by side, one segment a line: changed lines marked lightly,
and within them the fields that differ marked strongly. Under the privacy screen both sides
are shown masked; what changed is still worked out on the real text."""
from __future__ import annotations

import difflib

from PySide6.QtGui import QColor, QFontDatabase, QTextCursor, QTextFormat
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QTextEdit, QVBoxLayout, QWidget

from core import privacy
from core.hl7.structure import delimiters_of


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

    def show_versions(self, before: str, after: str, left_title: str = "Before", right_title: str = "After",
                      *, masked: bool = False) -> int:
        """Show both (masked when asked); returns how many lines differ."""
        a, b = segments(before), segments(after)
        shown_a, shown_b = (segments(privacy.mask_text(before)), segments(privacy.mask_text(after))) if masked else (a, b)
        sep = delimiters_of(before).field
        left, right, changed_left, changed_right = [], [], [], []
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
            for k in range(max(i2 - i1, j2 - j1)):
                la = shown_a[i1 + k] if i1 + k < i2 else ""
                lb = shown_b[j1 + k] if j1 + k < j2 else ""
                if op != "equal":
                    fields = changed_fields(a[i1 + k] if i1 + k < i2 else "", b[j1 + k] if j1 + k < j2 else "", sep)
                    changed_left.append((len(left), field_spans(la, fields, sep)))
                    changed_right.append((len(right), field_spans(lb, fields, sep)))
                left.append(la)
                right.append(lb)
        self.left.setPlainText("\n".join(left))
        self.right.setPlainText("\n".join(right))
        self._mark(self.left, changed_left, QColor(255, 80, 80, 50), QColor(255, 80, 80, 150))
        self._mark(self.right, changed_right, QColor(60, 200, 90, 50), QColor(60, 200, 90, 160))
        self.left_title.setText(left_title)
        self.right_title.setText(right_title)
        return len(changed_left)

    def point_at(self, path: str) -> None:
        """Mark the field a receiver's ERR points at in the left side (amber), beside the changes."""
        from core.hl7.edit import Path as FieldPath

        try:
            target = FieldPath.parse(path)
        except ValueError:
            return
        seen = 0
        for n, line in enumerate(self.left.toPlainText().split("\n")):
            if line[:3] != target.segment:
                continue
            seen += 1
            if seen == target.occurrence:
                spans = field_spans(line, {target.field - (1 if target.segment == "MSH" else 0)}, line[3:4] or "|")
                self._add(self.left, n, spans or [(0, 3)], QColor(255, 190, 40, 170))  # not there: its segment
                return

    @staticmethod
    def _add(edit: QPlainTextEdit, line: int, spans: list[tuple[int, int]], colour: QColor) -> None:
        block = edit.document().findBlockByLineNumber(line)
        edit.setExtraSelections([*edit.extraSelections(), *(_span(block, s, e, colour) for s, e in spans)])

    @staticmethod
    def _mark(edit: QPlainTextEdit, lines: list[tuple[int, list[tuple[int, int]]]], line_colour: QColor,
              field_colour: QColor) -> None:
        marks = []
        for line, spans in lines:
            block = edit.document().findBlockByLineNumber(line)
            sel = QTextEdit.ExtraSelection()
            sel.format.setBackground(line_colour)
            sel.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            sel.cursor = QTextCursor(block)
            marks.append(sel)
            marks += [_span(block, start, end, field_colour) for start, end in spans]
        edit.setExtraSelections(marks)


def _span(block, start: int, end: int, colour: QColor) -> QTextEdit.ExtraSelection:
    """A stretch of one line, coloured."""
    sel = QTextEdit.ExtraSelection()
    sel.format.setBackground(colour)
    cursor = QTextCursor(block)
    cursor.setPosition(block.position() + start)
    cursor.setPosition(block.position() + end, QTextCursor.MoveMode.KeepAnchor)
    sel.cursor = cursor
    return sel


def changed_fields(a: str, b: str, sep: str = "|") -> set[int]:
    """The field numbers (0 is the segment ID) that differ between two versions of a segment."""
    fa, fb = a.split(sep), b.split(sep)
    return {n for n in range(max(len(fa), len(fb))) if (fa[n] if n < len(fa) else None) != (fb[n] if n < len(fb) else None)}


def field_spans(line: str, fields: set[int], sep: str = "|") -> list[tuple[int, int]]:
    """Character ranges of those fields in the line as shown (a masked field is its mask); an
    emptied field is marked by the separator in front of it."""
    spans, pos = [], 0
    for n, value in enumerate(line.split(sep) if line else []):
        if n in fields:
            spans.append((pos, pos + len(value)) if value else (max(pos - len(sep), 0), pos))
        pos += len(value) + len(sep)
    return [(s, e) for s, e in spans if e > s]
