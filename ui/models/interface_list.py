"""The sidebar: every interface found in the traffic, with its count and a status badge.

Row 0 is "All traffic"; choosing a row filters the message table to that interface. Counts
are messages (ACKs apart, in the tooltip); the badge is the interface's open queue items,
drawn as severe from MANY_PROBLEMS on, and it drops as items are acknowledged.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from core.vocabulary import Direction, Health, Lane, Worded
from ui import icons
from ui.models.common import Index, header

COL_NAME, COL_COUNT, COL_STATUS = range(3)
HEADERS = ("Interface", "Messages", "Status")
ID_ROLE = Qt.ItemDataRole.UserRole


class InterfaceListModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[dict] = []

    def set_rows(self, rows: list[dict]) -> None:
        """Replace the list; rows come from core.store.interfaces.overview."""
        if [r["id"] for r in rows] == [r["id"] for r in self.rows]:
            self.rows = rows  # same interfaces: refresh counts in place, keep the selection
            if rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(rows), len(HEADERS) - 1))
            return
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows) + 1

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return header(HEADERS, section, orientation, role)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() <= len(self.rows):
            return None
        col = index.column()
        if index.row() == 0:
            if role == Qt.ItemDataRole.DisplayRole and col == COL_NAME:
                return "All traffic"
            if role == Qt.ItemDataRole.DisplayRole and col == COL_COUNT:
                return f"{sum(r['messages'] for r in self.rows):,}"
            if role == Qt.ItemDataRole.ToolTipRole:
                return (f"{sum(r['messages'] for r in self.rows):,} messages, and {sum(r['acks'] for r in self.rows):,} "
                        "ACKs answering them, on every interface")
            return None
        row = self.rows[index.row() - 1]
        if role == Qt.ItemDataRole.DisplayRole:
            return (row["name"], f"{row['messages']:,}", self._status(row))[col]
        if role == Qt.ItemDataRole.DecorationRole:
            return icons.state(self._kind(row) if col == COL_NAME else Health.of(row["status"]) if col == COL_STATUS else None)
        if role == Qt.ItemDataRole.TextAlignmentRole and col == COL_COUNT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row)
        if role == ID_ROLE:
            return row["id"]
        return None

    @staticmethod
    def _tooltip(row: dict) -> str:
        counts = f"{row['messages']:,} messages and {row['acks']:,} {{}}; {row['problems']:,} open queue items\nnewest message: {row['last_time'] or 'none'}"
        if row["lane"] == Lane.DIRECT:
            return (f"Direct: {row['sending_app']} → {row['receiving_app']}\n" + counts.format("MDNs and DSNs")
                    + "\nresend: through the sending mailbox's SMTP submission (lanewatch mailbox set NAME --smtp-host H --writes on)")
        if row["lane"] == Lane.FHIR:
            return (f"FHIR: the app {row['sending_app']} → the endpoint {row['receiving_app']}\n"
                    + f"{row['messages']:,} exchanges; {row['problems']:,} open queue items\nnewest: {row['last_time'] or 'none'}"
                    + "\nits writes: lanewatch fhir-writes --endpoint NAME (failed and flagged ones are in the queue)")
        return (f"{Direction.label(row['direction'])}: {row['sending_app']}^{row['sending_facility'] or ''} → "
                f"{row['receiving_app']}^{row['receiving_facility'] or ''}\n" + counts.format("ACKs")
                + (f"\nresend: on, to {row['resend_host']}:{row['resend_port']} ({row['write_class']} writes)"
                   if row["write_enabled"] else "\nresend: off (Resend settings… on this interface)"))

    @staticmethod
    def _kind(row: dict) -> Worded | None:
        """A Direct flow is drawn as mail, a FHIR app's as FHIR (their names say which way); any
        other as its direction."""
        return Lane.of(row["lane"]) if row["lane"] in (Lane.DIRECT, Lane.FHIR) else Direction.of(row["direction"])

    @staticmethod
    def _status(row: dict) -> str:
        writes = " · resend on" if row["write_enabled"] else ""
        if row["problems"]:
            return f"{row['problems']:,} open" + writes
        return Health.label(row["status"]) + writes
