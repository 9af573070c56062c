"""The go-live board: one row per interface, sortable (numbers sort as numbers)."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, Qt

from ui import icons
from ui.models.common import Index, header

COLUMNS = ("interface", "first_seen", "last_seen", "today", "ack_coverage", "error_rate", "open_items", "silence_s")
HEADERS = ("Interface", "First message (UTC)", "Last message (UTC)", "Today", "ACK coverage", "Error rate",
           "Open items", "Silent for")
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
COL_INTERFACE, COL_FIRST, COL_LAST, COL_TODAY, COL_COVERAGE, COL_ERRORS, COL_OPEN, COL_SILENCE = range(8)
SILENCE_WARN_S = 30 * 60


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(seconds)
    if s < 90:
        return f"{s} s"
    if s < 90 * 60:
        return f"{s // 60} min"
    if s < 48 * 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86400} days"


class BoardModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[dict] = []

    def set_rows(self, rows: list[dict]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: Index | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return header(HEADERS, section, orientation, role)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        r, col = self.rows[index.row()], index.column()
        value = r[COLUMNS[col]]
        if role == SORT_ROLE:
            return -1 if value is None else value.timestamp() if hasattr(value, "timestamp") else value
        if role == Qt.ItemDataRole.DisplayRole:
            if value is None:
                return ""
            if col in (COL_FIRST, COL_LAST):
                return f"{value:%Y-%m-%d %H:%M}"
            if col in (COL_COVERAGE, COL_ERRORS):
                return f"{value:.1%}"
            if col == COL_SILENCE:
                return duration(value)
            return f"{value:,}" if isinstance(value, int) else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= COL_TODAY:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.DecorationRole:
            if col == COL_SILENCE and value is not None and value > SILENCE_WARN_S:
                return icons.state("warn")
            if col == COL_ERRORS and value:
                return icons.state("warn")
        return None
