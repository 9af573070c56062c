"""Compare: two messages field by field (core.hl7.compare), and two saved views' messages
keyed by a field path. Both follow the privacy screen: identifying fields and keys are
masked while it is on; what differs is still worked out on the real text."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
)

from core.commands.context import CommandError, Context
from core.commands.views import as_filter
from core.hl7 import query
from core.hl7.compare import FieldRow, compare, compare_sets
from core.privacy import MASK, identifies, path_identifies
from core.query_filter import hl7_messages, hl7_text
from core.store import messages, views
from ui.privacy_screen import screen
from ui.views.grid import plain_table
from ui.workers import submit

SET_IGNORE = "MSH-7, MSH-10"
NO_SEGMENT = "(no segment)"


def _differs_brush() -> QBrush:
    return QBrush(QColor(255, 196, 0, 70))  # a warm wash that reads on the light and the dark theme


def _shown(value: str | None, masked: bool) -> str:
    if value is None:
        return NO_SEGMENT
    return MASK if masked and value else value


class CompareDialog(QDialog):
    """Two messages side by side: a row a field (or the part of one that differs)."""

    def __init__(self, ctx: Context, left_id: int, right_id: int, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Compare messages {left_id} and {right_id}")
        self.resize(1100, 720)
        self.ctx, self.ids = ctx, (left_id, right_id)
        self.rows: list[FieldRow] = []
        self.heads = (QLabel(), QLabel())
        self.only_differences = QCheckBox("Only the fields that differ", checked=True)
        self.only_differences.toggled.connect(self._show)
        self.table = plain_table(["Field", f"Message {left_id}", f"Message {right_id}"], (130, 440))
        self.table.setAlternatingRowColors(False)  # what differs is marked by colour
        self.said = QLabel("Reading the two messages…")
        top = QHBoxLayout()
        for head in self.heads:
            head.setWordWrap(True)
            top.addWidget(head, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.only_differences)
        layout.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.said, 1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        bottom.addWidget(close)
        layout.addLayout(bottom)
        screen().changed.connect(self._show)  # a bound slot: disconnected when the dialog goes
        submit(self._read, self._loaded, lambda text: self.said.setText(f"Could not read them: {text}"), context=self)

    def _read(self) -> tuple[list[dict | None], list[FieldRow] | None]:
        rows = [messages.get(self.ctx.store, i) for i in self.ids]
        texts = [hl7_text(r) if r else None for r in rows]
        return rows, compare(*texts) if all(t is not None for t in texts) else None

    def _loaded(self, found) -> None:
        rows, compared = found
        for head, row, mid in zip(self.heads, rows, self.ids):
            head.setText(f"<b>Message {mid}</b>: {row['message_type'] or '?'} {row['control_id'] or ''}<br>"
                         f"{row['message_time'] or row['received_at']:%Y-%m-%d %H:%M:%S} · {row['sending_app'] or '?'} → "
                         f"{row['receiving_app'] or '?'}" if row else f"<b>Message {mid}</b>: not in this store")
        if compared is None:
            self.said.setText("Only HL7 v2 messages are compared field by field: one of these is mail, a document, or gone.")
            return
        self.rows = compared
        self._show()

    def _show(self, *_) -> None:
        masked = screen().on
        shown = [r for r in self.rows if not (self.only_differences.isChecked() and r.same)]
        self.table.setRowCount(len(shown))
        brush = _differs_brush()
        for i, r in enumerate(shown):
            phi = masked and identifies(r.segment, r.number)
            cells = (r.path, _shown(r.left, phi), _shown(r.right, phi))
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if not r.same:
                    item.setBackground(brush)
                self.table.setItem(i, c, item)
        differ = sum(not r.same for r in self.rows)
        self.said.setText(f"{differ} differ, {len(self.rows) - differ} the same" + ("   ·   privacy screen on" if masked else ""))


class CompareViewsDialog(QDialog):
    """Two saved views' messages paired by a field path: how many matched, which are on one
    side only, which matched but differ, and in which fields. A pair opens side by side."""

    def __init__(self, ctx: Context, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare two views")
        self.resize(1100, 720)
        self.ctx = ctx
        self.left, self.right = QComboBox(), QComboBox()
        self.key = QLineEdit("ORC-2", placeholderText="ORC-2, OBR-3, PID-3.1")
        self.ignore = QLineEdit(SET_IGNORE, placeholderText="fields not compared, e.g. MSH-7, MSH-10")
        self.go = QPushButton("Compare")
        self.go.clicked.connect(self.run)
        self.problem = QLabel(wordWrap=True)
        self.problem.setStyleSheet("color: #c0392b")
        self.summary = QLabel(wordWrap=True)
        self.fields = plain_table(["Pairs", "Field that differed"], (90,))
        self.keys = plain_table(["", "Key", "Left", "Right", "Fields that differ"], (130, 200, 80, 80))
        self.keys.setAlternatingRowColors(False)
        self.keys.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.keys.doubleClicked.connect(self._open_pair)
        form = QFormLayout()
        row = QHBoxLayout()
        row.addWidget(self.left, 1)
        row.addWidget(QLabel("against"))
        row.addWidget(self.right, 1)
        form.addRow("Views", row)
        form.addRow("Paired by", self.key)
        form.addRow("Not compared", self.ignore)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.fields)
        split.addWidget(self.keys)
        split.setSizes([320, 780])
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        go_row = QHBoxLayout()
        go_row.addWidget(self.problem, 1)
        go_row.addWidget(self.go)
        layout.addLayout(go_row)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self.found = None
        screen().changed.connect(self._show)
        submit(lambda: views.every(ctx.store), self._views, context=self)

    def _views(self, found: list[dict]) -> None:
        names = [v["name"] for v in found]
        for box in (self.left, self.right):
            box.addItems(names)
        if len(names) > 1:
            self.right.setCurrentIndex(1)
        if len(names) < 2:
            self.problem.setText("Save two views first (Messages → Save view…): each is one side.")
            self.go.setEnabled(False)

    def _paths(self) -> tuple[str, list[str]] | None:
        key, ignore = self.key.text().strip(), [p.strip() for p in self.ignore.text().split(",") if p.strip()]
        for what, path in (("Paired by", key), *(("Not compared", p) for p in ignore)):
            try:
                query.FieldPath.parse(path)
            except query.QueryError as exc:
                self.problem.setText(f"{what}: {exc.reason}")
                return None
        return key, ignore

    def run(self) -> None:
        paths = self._paths()
        if paths is None:
            return
        key, ignore = paths
        left, right = self.left.currentText(), self.right.currentText()
        self.problem.setText("")
        self.summary.setText(f"Comparing {left} with {right}…")
        self.go.setEnabled(False)

        def work():
            def side(name):
                found = views.named(self.ctx.store, name)
                if found is None:
                    raise CommandError(f"There is no view called {name!r} any more.")
                for row, text in hl7_messages(self.ctx.store, as_filter(found["definition"])):
                    yield row["id"], text
            return left, right, compare_sets(side(left), side(right), key, ignore)

        submit(work, self._done, self._failed, context=self)

    def _failed(self, text: str) -> None:
        self.go.setEnabled(True)
        self.summary.setText(f"The comparison failed: {text}")

    def _done(self, found) -> None:
        self.go.setEnabled(True)
        self.found = found
        self._show()

    def _show(self, *_) -> None:
        if self.found is None:
            return
        left, right, s = self.found
        masked = screen().on and path_identifies(s.key)
        self.summary.setText(
            f"Paired by {s.key}: <b>{s.matched:,}</b> matched, <b>{s.different:,}</b> of them different; "
            f"<b>{len(s.only_left):,}</b> only in {left}, <b>{len(s.only_right):,}</b> only in {right}"
            + (f"; {len(s.no_key):,} without {s.key}" if s.no_key else "") + ". Double-click a pair to see it side by side.")
        self.fields.setRowCount(len(s.fields))
        for i, (field_path, n) in enumerate(s.fields.most_common()):
            self.fields.setItem(i, 0, QTableWidgetItem(f"{n:,}"))
            self.fields.setItem(i, 1, QTableWidgetItem(field_path))
        rows = [("Differ", p["key"], p["left"], p["right"], ", ".join(p["fields"])) for p in s.pairs]
        rows += [(f"Only in {left}", k, m, None, "") for k, m in s.only_left]
        rows += [(f"Only in {right}", k, None, m, "") for k, m in s.only_right]
        self.keys.setRowCount(len(rows))
        brush = _differs_brush()
        for i, (kind, k, a, b, fields) in enumerate(rows):
            for c, text in enumerate((kind, MASK if masked else k, "" if a is None else str(a), "" if b is None else str(b), fields)):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, (a, b))
                if kind == "Differ":
                    item.setBackground(brush)
                self.keys.setItem(i, c, item)

    def _open_pair(self, index) -> None:
        a, b = self.keys.item(index.row(), 0).data(Qt.ItemDataRole.UserRole)
        if a is not None and b is not None:
            CompareDialog(self.ctx, a, b, self).show()

