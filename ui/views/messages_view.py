"""The Messages tab: the filter bar and the message table above, the chosen message's detail below.

A view like the others: it reads through its model (keyset pages off the GUI thread), keeps
the chosen message chosen across a reload, and says what it has to say on `notice`.
"""
from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QInputDialog,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressDialog,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.changes import Changes
from core.commands.context import Context
from core.commands.export import ExportDeidentified
from core.commands.views import SaveView
from core.store import messages, views
from ui import icons
from ui.actions import operations, run_command
from ui.dialogs.compare import CompareDialog, CompareViewsDialog
from ui.dialogs.export_deidentified import ExportDeidentifiedDialog
from ui.models.message_table import (
    COL_ACK,
    COL_CONTROL_ID,
    COL_DIRECTION,
    COL_PARSE,
    COL_PATIENT,
    COL_ROUTE,
    COL_TIME,
    COL_TYPE,
    ROW_ROLE,
    MessageTableModel,
)
from ui.views.detail_pane import DetailPane
from ui.views.filter_bar import FilterBar
from ui.workers import submit

COLUMN_WIDTHS = {COL_TIME: 142, COL_DIRECTION: 52, COL_TYPE: 88, COL_CONTROL_ID: 122, COL_ROUTE: 168,
                 COL_PATIENT: 176, COL_PARSE: 96, COL_ACK: 150}


class MessagesView(QSplitter):
    notice = Signal(str)  # something to say in the status bar

    def __init__(self, ctx: Context, dark: bool = False, parent=None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent, objectName="right")
        self.ctx = ctx
        self._keep_message: int | None = None  # the message chosen before a reload: chosen again after it
        self.filter_bar = FilterBar()
        self.model = MessageTableModel(ctx.store, self)
        self.table = self._table()
        self.detail = DetailPane(dark)
        upper = QWidget()
        v = QVBoxLayout(upper)
        v.setContentsMargins(4, 4, 4, 0)
        v.addWidget(self.filter_bar)
        v.addWidget(self.table, 1)
        self.addWidget(upper)
        self.addWidget(self.detail)
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 2)
        self.filter_bar.changed.connect(lambda: self.model.set_filter(self.filter_bar.message_filter()))
        self.saved: list[dict] = []  # the store's saved views, as the chooser and the sidebar list them
        self.filter_bar.views.activated.connect(self._view_chosen)
        self.views_list = QListWidget(objectName="saved_views")  # shown in the window's sidebar
        self.views_list.itemClicked.connect(lambda item: self._view_chosen(self.views_list.row(item) + 1)
                                            if item.flags() & Qt.ItemFlag.ItemIsEnabled else None)
        self.filter_bar.save_view.clicked.connect(self.save_view)
        self.load_views()
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.model.failed.connect(lambda text: self.notice.emit(f"Query failed: {text}"))
        self._read = 0  # messages a field query's page read: said while it reads, and when it is done
        self.model.searched.connect(self._searching)
        self.model.loading_changed.connect(self._searched)
        self.model.modelReset.connect(lambda: self._keep_message is None and self.detail.show_detail(None))
        self.model.loading_changed.connect(self._choose_kept)
        self.detail.open_message.connect(self.open_message)
        self.detail.notice.connect(self.notice)
        operations().did_change.connect(self._on_change)

    def _table(self) -> QTableView:
        t = QTableView(objectName="messages")
        t.setModel(self.model)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        t.setAlternatingRowColors(True)
        t.setWordWrap(False)
        t.verticalHeader().hide()
        t.verticalHeader().setDefaultSectionSize(t.fontMetrics().height() + 8)
        t.horizontalHeader().setStretchLastSection(True)
        t.horizontalHeader().setSectionsMovable(True)
        for col, width in COLUMN_WIDTHS.items():
            t.setColumnWidth(col, width)
        return t

    # -- saved views ------------------------------------------------------------------------
    def load_views(self) -> None:
        submit(lambda: views.every(self.ctx.store), self._views_loaded, context=self)

    def _views_loaded(self, found: list[dict]) -> None:
        self.saved = found
        chooser = self.filter_bar.views
        chosen = chooser.currentText()
        chooser.blockSignals(True)
        chooser.clear()
        chooser.addItem("Saved views" if found else "No saved views")
        for v in found:
            chooser.addItem(v["name"])
            chooser.setItemData(chooser.count() - 1, f"{v['owner']}, {v['updated_at']:%Y-%m-%d %H:%M}",
                                Qt.ItemDataRole.ToolTipRole)
        chooser.setCurrentIndex(max(0, chooser.findText(chosen)))
        chooser.blockSignals(False)
        self.views_list.clear()
        for v in found:
            item = QListWidgetItem(icons.action("search"), v["name"])
            item.setToolTip(f"{v['owner']}, {v['updated_at']:%Y-%m-%d %H:%M}")
            self.views_list.addItem(item)
        if not found:
            hint = QListWidgetItem("None yet: Save view… beside the Messages filters")
            hint.setFlags(Qt.ItemFlag.NoItemFlags)
            self.views_list.addItem(hint)

    def _view_chosen(self, index: int) -> None:
        if index > 0:
            view = self.saved[index - 1]
            self.filter_bar.apply(view["definition"])
            self.notice.emit(f"View {view['name']} ({view['owner']})")

    def save_view(self) -> None:
        """Keep the filters shown under a name (one of that name is replaced), audited."""
        current = self.filter_bar.views.currentIndex()
        name, ok = QInputDialog.getText(self, "Save view", "Name (everyone on this store sees it):",
                                        text=self.saved[current - 1]["name"] if current > 0 else "")
        if not ok or not name.strip():
            return
        definition = self.filter_bar.definition()
        run_command(self, "Save view", lambda: SaveView(self.ctx).run(name, definition),
                    lambda saved: saved and self.notice.emit(f"View {saved['name']} {'replaced' if saved['replaced'] else 'saved'}"),
                    changes=SaveView.changes)

    # -- de-identified export ---------------------------------------------------------------
    def export_deidentified(self) -> None:
        """The selected messages, or every one the filters show, to an HL7 file for a vendor:
        with a progress dialog that can stop it (nothing is then written)."""
        ids = [i.data(ROW_ROLE)["id"] for i in self.table.selectionModel().selectedRows() if i.data(ROW_ROLE)]
        flt = self.filter_bar.message_filter()
        dialog = ExportDeidentifiedDialog(len(ids), self)
        submit(lambda: messages.count(self.ctx.store, flt), dialog.set_filtered_count, context=dialog)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        selection, path, allow = dialog.values()
        chosen = {"ids": ids} if selection else {"filter": self.filter_bar.definition()}
        if selection:
            flt = messages.MessageFilter(ids=ids)
        state = {"written": 0, "stop": False}
        progress = QProgressDialog("Exporting de-identified…", "Stop", 0, 0, self)
        progress.setWindowTitle("Export de-identified")
        progress.setMinimumDuration(300)
        progress.canceled.connect(lambda: state.update(stop=True))
        tick = QTimer(progress, interval=200)
        tick.timeout.connect(lambda: progress.setLabelText(f"{state['written']:,} messages written…"))
        tick.start()

        def told(written: int) -> bool:
            state["written"] = written
            return not state["stop"]

        def done(report: dict | None) -> None:
            tick.stop()
            progress.reset()
            if report:
                self._exported(report)

        run_command(self, "Export de-identified",
                    lambda: ExportDeidentified(self.ctx).run(flt, path, allow=allow, chosen=chosen, progress=told), done,
                    changes=ExportDeidentified.changes)

    def _exported(self, report: dict) -> None:
        lines = [f"{report['messages']:,} messages written de-identified to {report['to']}."]
        if report["left_out"]:
            lines.append(f"{report['left_out']:,} left out: they are not HL7 v2 (mail, documents, JSON).")
        if report["blanked"]:
            lines.append("Free text blanked (messages): " + ", ".join(f"{f} ({n:,})" for f, n in report["blanked"].items())
                         + ". Keep a field's by naming it under “Keep free text in” once you know it holds no PHI.")
        self.notice.emit(lines[0])
        QMessageBox.information(self, "Export de-identified", "\n\n".join(lines))

    # -- compare ------------------------------------------------------------------------------
    def compare_selected(self) -> None:
        """The two selected messages side by side, field by field."""
        ids = [i.data(ROW_ROLE)["id"] for i in self.table.selectionModel().selectedRows() if i.data(ROW_ROLE)]
        if len(ids) != 2:
            self.notice.emit("Select two messages to compare them (Ctrl+click the second)")
            return
        CompareDialog(self.ctx, *sorted(ids), self).show()

    def compare_views(self) -> None:
        CompareViewsDialog(self.ctx, self).show()

    def reset_columns(self) -> None:
        """The columns in their first order and widths (View → Reset layout)."""
        header = self.table.horizontalHeader()
        for logical in range(header.count()):
            header.moveSection(header.visualIndex(logical), logical)
        for col, width in COLUMN_WIDTHS.items():
            self.table.setColumnWidth(col, width)

    def _on_change(self, changes: Changes) -> None:
        """A command changed messages (ui.actions): read them again, the chosen one staying
        chosen; or the saved views: list them again."""
        if changes.messages:
            self.refresh()
        if changes.views:
            self.load_views()

    def refresh(self) -> None:
        """Read the messages again; the chosen message stays chosen (and shown) if it is still there."""
        current = self.table.currentIndex().data(ROW_ROLE) if self.table.currentIndex().isValid() else None
        self._keep_message = current["id"] if current else None
        self.model.set_filter(self.filter_bar.message_filter())

    def _searching(self, read: int) -> None:
        self._read = read
        self.notice.emit(f"Field query: {read:,} messages read so far… (change or clear the query to stop)")

    def _searched(self, loading: bool) -> None:
        if not loading and self._read:
            self.notice.emit(f"Field query: {self.model.rowCount():,} shown, of {self._read:,} messages read")
            self._read = 0

    def _choose_kept(self, loading: bool) -> None:
        if loading or self._keep_message is None:
            return
        message_id, self._keep_message = self._keep_message, None
        row = self.model.row_of(message_id)
        if row is not None:
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)

    def open_message(self, message_id: int) -> None:
        """Show a message: chosen in the table when it is loaded there, else in the detail pane alone."""
        row = self.model.row_of(message_id)
        if row is not None:
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
            self.table.scrollTo(self.model.index(row, 0))
            return
        self.detail.load(self.ctx, message_id)

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = current.data(ROW_ROLE) if current.isValid() else None
        if row:
            self.detail.load(self.ctx, row["id"])

    def focus_search(self) -> None:
        self.filter_bar.text.setFocus()
        self.filter_bar.text.selectAll()

    def copy(self) -> None:
        """Ctrl+C: the chosen rows as tab-separated text from the table, else the chosen field."""
        if self.detail.tree.hasFocus():
            self.detail.copy_field_value()
            return
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        if not rows:
            return
        m = self.model
        lines = ["\t".join(str(m.headerData(c, Qt.Orientation.Horizontal)) for c in range(m.columnCount()))]
        lines += ["\t".join(m.index(r, c).data() or "" for c in range(m.columnCount())) for r in rows]
        QGuiApplication.clipboard().setText("\n".join(lines))
        self.notice.emit(f"{len(rows)} rows copied")

    def set_privacy(self, on: bool) -> None:
        self.model.set_privacy(on)
        self.detail.set_privacy(on)
