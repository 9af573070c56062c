"""What the grid models share: the index type Qt hands in, column headers, keyset paging."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from ui.workers import Generation, submit

Index = QModelIndex | QPersistentModelIndex


def header(headers: tuple[str, ...], section: int, orientation: Qt.Orientation, role: int) -> Any:
    """A horizontal header's text; nothing for rows or other roles."""
    if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(headers):
        return headers[section]
    return None


class RowsTableModel(QAbstractTableModel):
    """A grid over a short list of dicts replaced whole (endpoints, the board, alerts, a
    scope matrix): subclasses name their HEADERS and say what each cell shows."""

    HEADERS: tuple[str, ...] = ()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list = []

    def set_rows(self, rows: list) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def row(self, index: Index) -> Any:
        """The row an index is in, or None for an index that is not one of ours."""
        return self.rows[index.row()] if index.isValid() and 0 <= index.row() < len(self.rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return header(self.HEADERS, section, orientation, role)


class PagedTableModel(RowsTableModel):
    """A grid over a keyset-paged query: a page is fetched off the GUI thread when the view
    scrolls near the end (canFetchMore/fetchMore); a reload bumps the generation so a page
    still in flight for the old query is dropped (DESIGN.md, conventions 4 to 6)."""

    loading_changed = Signal(bool)
    failed = Signal(str)

    def __init__(self, parent=None, page: int = 500) -> None:
        super().__init__(parent)
        self.page = page
        self._generation = Generation()
        self._exhausted = False
        self._loading = False

    def query(self) -> Callable[[dict | None], list[dict]]:
        """The page query as it stands now: given the last row shown (or None), the next page."""
        raise NotImplementedError

    def reload(self) -> None:
        self._generation.next()
        self.beginResetModel()
        self.rows, self._exhausted, self._loading = [], False, False
        self.endResetModel()  # a view (or a model tester) may ask for the first page right here...
        self.fetchMore()  # ...and then this asks nothing twice
        self.loading_changed.emit(self._loading)

    @property
    def loading(self) -> bool:
        return self._loading

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: Index = QModelIndex()) -> None:
        if not self.canFetchMore(parent):
            return
        token, fetch, last = self._generation.value, self.query(), self.rows[-1] if self.rows else None
        self._set_loading(True)
        submit(lambda: fetch(last), lambda rows: self._page_arrived(token, rows), lambda err: self._failed(token, err),
               context=self)

    def _page_arrived(self, token: int, rows: list[dict]) -> None:
        if not self._generation.current(token):
            return  # a page for a query no longer shown
        self._exhausted = len(rows) < self.page
        if rows:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(rows) - 1)
            self.rows.extend(rows)
            self.endInsertRows()
            self.rows_added(rows)
        self._set_loading(False)  # after the rows are in: whoever waits for the page finds them

    def rows_added(self, rows: list[dict]) -> None:
        """Called after a page is in; subclasses keep their own bookkeeping here."""

    def _failed(self, token: int, message: str) -> None:
        if self._generation.current(token):
            self._set_loading(False)
            self._exhausted = True
            self.failed.emit(message)

    def _set_loading(self, on: bool) -> None:
        if on != self._loading:
            self._loading = on
            self.loading_changed.emit(on)
