"""The message table: keyset pages of the store, fetched off the GUI thread as the view scrolls.

Rows hold list columns only (never raw bytes). A new filter bumps the generation, so a
page still in flight for the old filter is dropped when it lands (DESIGN.md, conventions
5 and 6). New traffic is pulled in batches on a timer by `poll_new`, never per message.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal

from core import labels, privacy
from core.store import interfaces, messages
from core.store.db import Store
from core.store.messages import MessageFilter
from core.vocabulary import AckState, Direction, ParseState
from ui import icons
from ui.models.common import Index, PagedTableModel
from ui.workers import submit

COL_TIME, COL_DIRECTION, COL_TYPE, COL_CONTROL_ID, COL_ROUTE, COL_PATIENT, COL_PARSE, COL_ACK = range(8)
HEADERS = ("Time", "Dir", "Type", "Control ID", "Sender → receiver", "Patient", "Parse", "ACK")
ROW_ROLE = Qt.ItemDataRole.UserRole
PAGE = 500


class MessageTableModel(PagedTableModel):
    HEADERS = HEADERS
    searched = Signal(int)  # messages read so far by a field query's page (emitted off the GUI thread)

    def __init__(self, store: Store, parent=None, page: int = PAGE) -> None:
        super().__init__(parent, page)
        self.store = store
        self.filter = MessageFilter()
        self.home: tuple | None = None  # the practice's own system: directions are told from its side
        self.privacy = False
        self._newest_id = 0  # the largest id seen, for polling new traffic

    def query(self):
        """A field query's page may read many candidates: it says how many as it goes, and stops
        once another filter is shown."""
        store, flt, page, token = self.store, self.filter, self.page, self._generation.value
        return lambda last: messages.page(store, flt, after=(last["event_time"], last["id"]) if last else None,
                                          limit=page, stopped=lambda: not self._generation.current(token),
                                          told=self.searched.emit if flt.test else None)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row, col = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, col)
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icon(row, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, col)
        if role == ROW_ROLE:
            return row
        return None

    # -- what the window asks for -------------------------------------------------------
    def set_filter(self, flt: MessageFilter) -> None:
        """Show messages matching flt, from the newest; drops whatever was loading."""
        self.filter = flt
        self._newest_id = 0
        self.reload()

    def poll_new(self) -> None:
        """Add messages stored since the last look that sort above the first row (live traffic)."""
        if self._loading or not self.rows and not self._exhausted:
            return
        token, flt, since = self._generation.value, self.filter, self._newest_id
        top = (self.rows[0]["event_time"], self.rows[0]["id"]) if self.rows else None
        submit(lambda: messages.newer_than(self.store, flt, top, since_id=since),
               lambda rows: self._new_arrived(token, rows), lambda err: self._failed(token, err), context=self)

    def set_privacy(self, on: bool) -> None:
        self.privacy = on
        if self.rows:
            self.dataChanged.emit(self.index(0, COL_PATIENT), self.index(len(self.rows) - 1, COL_PATIENT))

    def set_home(self, home: tuple | None) -> None:
        self.home = home
        if self.rows:
            self.dataChanged.emit(self.index(0, COL_DIRECTION), self.index(len(self.rows) - 1, COL_DIRECTION))

    def row_of(self, message_id: int) -> int | None:
        return next((i for i, r in enumerate(self.rows) if r["id"] == message_id), None)

    # -- results ------------------------------------------------------------------------
    def rows_added(self, rows: list[dict]) -> None:
        self._newest_id = max(self._newest_id, max(r["id"] for r in rows))

    def _new_arrived(self, token: int, rows: list[dict]) -> None:
        if not self._generation.current(token) or not rows:
            return
        self.beginInsertRows(QModelIndex(), 0, len(rows) - 1)
        self.rows[:0] = rows
        self.endInsertRows()
        self.rows_added(rows)

    # -- cells --------------------------------------------------------------------------
    def direction(self, row: dict) -> str:
        return interfaces.direction(row, self.home)

    def _text(self, row: dict, col: int) -> str:
        if col == COL_TIME:
            t: datetime | None = row["event_time"]
            return t.strftime("%Y-%m-%d %H:%M:%S") if t else ""
        if col == COL_DIRECTION:
            return Direction.label(self.direction(row))
        if col == COL_TYPE:
            return row["message_type"] or "?"
        if col == COL_CONTROL_ID:
            return row["control_id"] or ""
        if col == COL_ROUTE:
            return f"{row['sending_app'] or '?'} → {row['receiving_app'] or '?'}"
        if col == COL_PATIENT:
            return privacy.mask(labels.patient(row), self.privacy) or ""
        if col == COL_PARSE:
            return labels.parse(row)
        if col == COL_ACK:
            return labels.ack(row) + (" · duplicate" if row["duplicate_of"] and not row["is_ack"] else "")
        return ""

    def _icon(self, row: dict, col: int):
        if col == COL_DIRECTION:
            return icons.state(Direction.of(self.direction(row)))
        if col == COL_PARSE:
            return icons.state(ParseState.of(row["parse_state"]))
        if col == COL_ACK and not row["is_ack"]:
            return icons.state(AckState.of(row["ack_state"]))
        return None

    def _tooltip(self, row: dict, col: int) -> str | None:
        if col == COL_PARSE and row["reason"]:
            return row["reason"]
        if col == COL_ROUTE:
            return (f"{row['sending_app'] or '?'}^{row['sending_facility'] or ''} → "
                    f"{row['receiving_app'] or '?'}^{row['receiving_facility'] or ''}\n{row['source']} @ {row['offset']}")
        return None
