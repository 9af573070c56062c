"""What every grid model shares: the index type Qt hands in, and column headers."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

Index = QModelIndex | QPersistentModelIndex


def header(headers: tuple[str, ...], section: int, orientation: Qt.Orientation, role: int) -> Any:
    """A horizontal header's text; nothing for rows or other roles."""
    if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(headers):
        return headers[section]
    return None
