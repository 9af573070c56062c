"""The go-live board: one row per interface, sortable (numbers sort as numbers)."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from core.labels import duration
from core.vocabulary import Health
from ui import icons
from ui.models.common import Index, RowsTableModel

COLUMNS = ("interface", "first_seen", "last_seen", "today", "ack_coverage", "error_rate", "open_items", "silence_s",
           "engine_state", "engine_queued", "engine_errored")
HEADERS = ("Interface", "First received (UTC)", "Last received (UTC)", "Received today", "ACK coverage", "Error rate",
           "Open items", "Silent for", "Engine channel", "Queued in engine", "Engine errors")
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
(COL_INTERFACE, COL_FIRST, COL_LAST, COL_TODAY, COL_COVERAGE, COL_ERRORS, COL_OPEN, COL_SILENCE, COL_ENGINE_STATE,
 COL_ENGINE_QUEUED, COL_ENGINE_ERRORS) = range(11)
RUNNING = ("STARTED", "STARTING", "DEPLOYING")
SILENCE_WARN_S = 30 * 60


class BoardModel(RowsTableModel):
    HEADERS = HEADERS

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        r, col = self.row(index), index.column()
        if r is None:
            return None
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
            if col == COL_ENGINE_STATE:
                return str(value).capitalize()
            return f"{value:,}" if isinstance(value, int) else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= COL_TODAY and col != COL_ENGINE_STATE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.DecorationRole:
            if col == COL_SILENCE and value is not None and value > SILENCE_WARN_S:
                return icons.state(Health.WARN)
            if col in (COL_ERRORS, COL_ENGINE_ERRORS, COL_ENGINE_QUEUED) and value:
                return icons.state(Health.WARN)
            if col == COL_ENGINE_STATE and value:
                return icons.state(Health.OK if value in RUNNING else Health.DOWN)
        return None
