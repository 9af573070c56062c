"""The console window, the shell: menus, toolbar, status bar, the interfaces sidebar and the tabs (each a view)."""
from __future__ import annotations

import html
import threading
from pathlib import Path

from PySide6.QtCore import QModelIndex, QSettings, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QDesktopServices, QGuiApplication, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QSystemTrayIcon,
    QTableView,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from core import workstation
from core.changes import Changes
from core.commands.context import Context
from core.commands.engines import PollEngines
from core.commands.resend import Configure
from core.store import interfaces, messages, queue, trace
from core.store.db import Store
from core.store.queue import QueueFilter
from core.version import build
from core.vocabulary import TriageState
from ui import icons
from ui.actions import operations, run_command
from ui.app import apply_palette, is_dark
from ui.dialogs.engines import EnginesDialog
from ui.dialogs.interface_settings import InterfaceSettingsDialog
from ui.dialogs.listen import ListenDialog
from ui.dialogs.trace import TraceDialog
from ui.dialogs.versions import VersionsDialog
from ui.models.interface_list import COL_COUNT, COL_NAME, COL_STATUS, ID_ROLE, InterfaceListModel
from ui.privacy_screen import screen
from ui.settings import Preferences, ViewState
from ui.views.alerts_view import AlertsView
from ui.views.audit_view import AuditView
from ui.views.board_view import BoardView
from ui.views.detail_pane import DetailPane
from ui.views.endpoints_view import EndpointsView
from ui.views.grid import export_shown
from ui.views.messages_view import MessagesView
from ui.views.overview_view import OverviewView
from ui.views.queue_view import QueueView
from ui.views.scopes_view import ScopesView
from ui.views.stats_view import StatsView
from ui.workers import IngestThread, ListenThread, index_behind, submit

LIVE_POLL_MS = 2000
ENGINE_POLL_MS = 30_000  # engines are asked for what is new this often (each engine's pace and concurrency apply)
ENGINE_WINDOWS = 40  # and each channel gives at most this many pages a poll, so one busy channel never starves the rest
SIDEBAR_WIDTH = 360  # px on first start and after Reset layout: Direct flows' names whole, and the grid's columns fit in 1,400


class MainWindow(QMainWindow):
    def __init__(self, store: Store, settings: QSettings, *, ingest: IngestThread | None = None,
                 title_note: str | None = None) -> None:
        super().__init__()
        self.store, self.ingest = store, ingest
        self.listening: ListenThread | None = None
        self.context = Context(store)  # operator commands and audited reads act as the OS user here
        self.prefs, self.view_state = Preferences(settings), ViewState(settings)
        self.setWindowTitle("Lanewatch" + (f" — {title_note}" if title_note else ""))
        self.others: list[MainWindow] = []  # windows on other stores opened from this one
        self._dark = is_dark(self.prefs.theme)
        self._splitters_restored = False

        self.messages_view = MessagesView(self.context, self._dark)  # the Messages tab; its parts, named here:
        self.right, self.filter_bar, self.table = self.messages_view, self.messages_view.filter_bar, self.messages_view.table
        self.messages, self.detail = self.messages_view.model, self.messages_view.detail
        self.interfaces = InterfaceListModel(self)
        self.sidebar = self._sidebar()
        self.queue = QueueView(self.context)
        self.queue_detail = DetailPane(self._dark)
        self.audit = AuditView(store)
        self.endpoints = EndpointsView(self.context)
        self.overview = OverviewView(self.context)
        self.board = BoardView(self.context)
        self.alerts = AlertsView(self.context)
        self.tray: QSystemTrayIcon | None = None
        self.scopes = ScopesView(self.context, self._dark)
        self.stats = StatsView(self.context, self.messages_view.filter_bar.message_filter)
        self._layout()
        self._actions()
        self._status_bar()
        self._connect()
        self._restore_view_state()

        self.set_privacy(self.prefs.privacy_screen)
        self.live = QTimer(self, interval=LIVE_POLL_MS)
        self.live.timeout.connect(self._live_tick)
        self.live.start()
        self._engines_stop, self._engines_polling = threading.Event(), False
        self.engine_poll = QTimer(self, interval=ENGINE_POLL_MS)
        self.engine_poll.timeout.connect(self.poll_engines)
        self.engine_poll.start()
        QTimer.singleShot(500, self.poll_engines)
        self.refresh()

    # -- building ------------------------------------------------------------------------
    def _sidebar(self) -> QTableView:
        s = QTableView(objectName="interfaces")
        s.setModel(self.interfaces)
        s.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        s.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        s.verticalHeader().hide()
        s.setShowGrid(False)
        s.setWordWrap(False)  # wrapped, a name too long is cut at its last whole word: "northside-fm → …"
        s.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # "northside-fm → …-cardiology (Direct)": both ends tell flows apart
        s.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        s.verticalHeader().setDefaultSectionSize(s.fontMetrics().height() + 10)
        h = s.horizontalHeader()
        h.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        h.setSectionResizeMode(COL_COUNT, QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(COL_STATUS, QHeaderView.ResizeMode.ResizeToContents)
        return s

    def interface_settings(self, interface_id: int | None = None, typed: dict | None = None,
                           problem: str | None = None) -> None:
        """Resend destination, TLS and write switch of an interface (Configure is audited). Refused
        settings reopen the dialog as the person left it, saying what to change."""
        if interface_id is None:
            index = self.sidebar.currentIndex()
            interface_id = index.siblingAtColumn(COL_NAME).data(ID_ROLE) if index.isValid() else None
        row = next((r for r in self.interfaces.rows if r["id"] == interface_id), None)
        if row is None:
            return
        dialog = InterfaceSettingsDialog(row, self, typed=typed, problem=problem)
        if dialog.exec():
            values = dialog.values()
            run_command(self, "Resend settings", lambda: Configure(self.context).run(interface_id, **values),
                        lambda _: self.statusBar().showMessage(f"Resend settings of {row['name']} saved", 5000),
                        on_refused=lambda why: self.interface_settings(interface_id, values, why), changes=Configure.changes)

    def _layout(self) -> None:
        self.queue_split = QSplitter(Qt.Orientation.Vertical, objectName="queue_split")
        self.queue_split.addWidget(self.queue)
        self.queue_split.addWidget(self.queue_detail)
        self.queue_split.setStretchFactor(0, 3)
        self.queue_split.setStretchFactor(1, 2)
        self.tabs = QTabWidget(objectName="tabs", documentMode=True)
        self.tabs.addTab(self.overview, "Overview")
        self.tabs.addTab(self.right, "Messages")
        self.tabs.addTab(self.queue_split, "Queue")
        self.tabs.addTab(self.board, "Board")
        self.tabs.addTab(self.alerts, "Alerts")
        self.tabs.addTab(self.endpoints, "Endpoints")
        self.tabs.addTab(self.scopes, "Scopes")
        self.tabs.addTab(self.stats, "Statistics")
        self.tabs.addTab(self.audit, "Audit")
        self.main_split = QSplitter(Qt.Orientation.Horizontal, objectName="main")
        left = QSplitter(Qt.Orientation.Vertical, objectName="left")
        left.addWidget(self.sidebar)
        views = QWidget()
        v = QVBoxLayout(views)
        v.setContentsMargins(0, 4, 0, 0)
        v.addWidget(QLabel("<b>Saved views</b>"))
        v.addWidget(self.messages_view.views_list)
        left.addWidget(views)
        left.setStretchFactor(0, 4)
        left.setStretchFactor(1, 1)
        self.messages_view.views_list.itemClicked.connect(lambda _item: self.tabs.setCurrentWidget(self.right))
        self.main_split.addWidget(left)
        self.main_split.addWidget(self.tabs)
        self.main_split.setStretchFactor(1, 1)
        self.setCentralWidget(self.main_split)

    def _action(self, text: str, slot, shortcut=None, icon: str | None = None, checkable: bool = False) -> QAction:
        a = QAction(text, self, checkable=checkable)
        if icon:
            a.setIcon(icons.action(icon))
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        a.triggered.connect(slot)
        return a

    def _actions(self) -> None:
        self.act_refresh = self._action("&Refresh", self.refresh, QKeySequence.StandardKey.Refresh, "refresh")
        self.act_find = self._action("&Find…", self.focus_search, QKeySequence.StandardKey.Find, "search")
        self.act_copy = self._action("&Copy", self.copy, QKeySequence.StandardKey.Copy, "copy")
        self.act_privacy = self._action("&Privacy screen", self.set_privacy, "Ctrl+Shift+P", "privacy", checkable=True)
        self.act_privacy.setToolTip("Mask patient names, dates of birth, identifiers, addresses and phone numbers (Ctrl+Shift+P)")
        act_quit = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.act_watch = self._action("&Watch a log folder…", self.choose_folder, QKeySequence.StandardKey.Open)
        self.act_watch.setToolTip("Ingest a folder of interface logs, then keep tailing it while the console is open")
        self.act_listen = self._action("&Listen for MLLP…", self.choose_listen, checkable=True)
        self.act_listen.setToolTip("A listening tap: store live MLLP traffic sent to this workstation, and answer it")
        self.act_ingest = self._action("&Ingest files…", self.choose_files)
        self.act_ingest.setToolTip("Read interface log files once into this store (no tailing)")
        self.act_open_store = self._action("Open &store…", self.choose_store)
        self.act_open_store.setToolTip("Open another Lanewatch store in a window of its own")
        self.act_export = self._action("&Export de-identified…", self.messages_view.export_deidentified, "Ctrl+E")
        self.act_export.setToolTip("The selected messages, or the filters', to an HL7 file for a vendor: identifiers "
                                   "replaced, dates moved, free text blanked (audited)")
        self.act_compare = self._action("Co&mpare the two selected", self.messages_view.compare_selected, "Ctrl+D")
        self.act_compare.setToolTip("The two selected messages side by side, field by field, what differs marked")
        self.act_compare_views = self._action("Compare two &views…", self.messages_view.compare_views)
        self.act_compare_views.setToolTip("Two saved views' messages paired by a field (ORC-2): matched, on one side only, "
                                          "matched but different")
        self.act_export_table = self._action("Export this &table…", self.export_table, "Ctrl+Shift+E")
        self.act_export_table.setToolTip("The table on this tab as shown (masked while the privacy screen is on), to CSV "
                                         "or JSON (audited)")
        act_reset = self._action("Reset &layout", self.reset_layout)
        self.act_interface = self._action("Resend settings…", self.interface_settings)
        self.sidebar.addAction(self.act_interface)
        for a in (self.act_copy,):
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.table.addAction(a)
            self.detail.tree.addAction(a)
        self.table.addActions([self.act_compare, self.act_export])
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addActions([self.act_ingest, self.act_watch, self.act_listen])
        file_menu.addSeparator()
        file_menu.addActions([self.act_export, self.act_export_table])
        file_menu.addSeparator()
        file_menu.addActions([self.act_open_store, act_quit])
        edit = menu.addMenu("&Edit")
        edit.addActions([self.act_copy, self.act_find])
        edit.addSeparator()
        edit.addActions([self.act_compare, self.act_compare_views])
        view = menu.addMenu("&View")
        view.addActions([self.act_refresh, self.act_privacy])
        themes = view.addMenu("&Theme")
        group = QActionGroup(self)
        for name in ("system", "light", "dark"):
            a = self._action(name.capitalize(), lambda _=False, n=name: self.set_theme(n), checkable=True)
            a.setChecked(self.prefs.theme == name)
            group.addAction(a)
            themes.addAction(a)
        view.addAction(act_reset)
        settings = menu.addMenu("&Settings")
        settings.addAction(self._action("&Store…", self.choose_store_setting))
        settings.addAction(self._action("&Engines…", self.choose_engines))
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self._action("Open &log folder", self.open_log_folder))
        help_menu.addAction(self._action("&About Lanewatch", self.about))
        bar = QToolBar("Main", objectName="toolbar", movable=False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.addActions([self.act_refresh, self.act_find, self.act_privacy])
        self.addToolBar(bar)

    def _status_bar(self) -> None:
        sb = self.statusBar()
        self.status_store = QLabel(f"Store: {self.store.location}")
        self.status_count = QLabel("")
        self.status_activity = QLabel("")
        self.status_listen = QLabel("")
        self.progress = QProgressBar(maximumWidth=180, textVisible=True)
        self.progress.hide()
        sb.addWidget(self.status_store, 1)
        sb.addPermanentWidget(self.status_listen)
        sb.addPermanentWidget(self.status_activity)
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.status_count)

    def _connect(self) -> None:
        self.sidebar.selectionModel().currentRowChanged.connect(self._interface_chosen)
        self.messages_view.notice.connect(lambda text: self.statusBar().showMessage(text, 10_000))
        self.messages.loading_changed.connect(lambda on: self.status_activity.setText("Loading…" if on else ""))
        self.queue_detail.notice.connect(lambda text: self.statusBar().showMessage(text, 5000))
        for pane in (self.detail, self.queue_detail):
            pane.compare_versions.connect(lambda m: VersionsDialog(self.context, m, self).show())
        self.queue_detail.open_message.connect(lambda m: self.queue_detail.load(self.context, m))
        self.queue.message_chosen.connect(lambda m: self.queue_detail.load(self.context, m))
        self.queue.settings_wanted.connect(lambda interface_id: self.interface_settings(interface_id))
        self.queue.notice.connect(lambda text: self.statusBar().showMessage(text, 10_000))
        self.tabs.currentChanged.connect(lambda _: self._tab_shown())
        operations().did_change.connect(self._changed)
        self.overview.flow_chosen.connect(self.show_flow)
        for pane in (self.detail, self.queue_detail):
            pane.trace_chain.connect(self.show_trace)
        self.alerts.raised.connect(self._announce)
        self.alerts.counts.connect(lambda n: self.tabs.setTabText(self.tabs.indexOf(self.alerts),
                                                                   f"Alerts ({n} open)" if n else "Alerts"))
        QGuiApplication.styleHints().colorSchemeChanged.connect(lambda _: self.set_theme(self.prefs.theme))
        if self.ingest:
            self._connect_ingest(self.ingest)
        else:  # a store a bulk load was cut short in: its indexes catch up behind the window
            QTimer.singleShot(1000, self._index_behind)

    def _index_behind(self) -> None:
        stop, said = self._engines_stop, []  # set when the window closes; what the indexer told
        submit(lambda: index_behind(self.store, stop.is_set, said.append),
               lambda _: said and self.statusBar().showMessage(said[-1], 15_000), context=self)

    def _connect_ingest(self, ingest: IngestThread) -> None:
        ingest.progress.connect(self._ingest_progress)
        ingest.caught_up.connect(self._caught_up)
        ingest.added.connect(lambda n: self.status_activity.setText(f"Live: +{n} messages"))
        ingest.problem.connect(lambda text: self.statusBar().showMessage(text, 15_000))
        ingest.indexing.connect(lambda text: self.statusBar().showMessage(text, 15_000))
        ingest.prepared.connect(operations().did_change.emit)

    # -- view state ----------------------------------------------------------------------
    def _restore_view_state(self) -> None:
        if blob := self.view_state.get("geometry"):
            self.restoreGeometry(blob)
        else:
            self.resize(1400, 900)
        if blob := self.view_state.get("window"):
            self.restoreState(blob)
        if blob := self.view_state.get("message_columns"):
            self.table.horizontalHeader().restoreState(blob)

    def showEvent(self, event: QShowEvent) -> None:
        """Splitters are restored once the window has its size, or they restore to the wrong one."""
        super().showEvent(event)
        if not self._splitters_restored:
            self._splitters_restored = True
            QTimer.singleShot(0, self._restore_splitters)

    def _restore_splitters(self) -> None:
        if not self.view_state.get("main_splitter"):  # first start: the sidebar wide enough for its names
            self._sidebar_width()
        for name, widget in self._splitters():
            if blob := self.view_state.get(name):
                widget.restoreState(blob)

    def _sidebar_width(self) -> None:
        self.main_split.setSizes([SIDEBAR_WIDTH, max(self.width() - SIDEBAR_WIDTH, 400)])

    def _splitters(self) -> tuple[tuple[str, QSplitter], ...]:
        return (("main_splitter", self.main_split), ("right_splitter", self.right), ("queue_splitter", self.queue_split))

    def save_view_state(self) -> None:
        self.view_state.put("geometry", self.saveGeometry())
        self.view_state.put("window", self.saveState())
        for name, widget in self._splitters():
            self.view_state.put(name, widget.saveState())
        self.view_state.put("message_columns", self.table.horizontalHeader().saveState())

    def reset_layout(self) -> None:
        self._sidebar_width()
        self.right.setSizes([self.height() * 3 // 5, self.height() * 2 // 5])
        self.messages_view.reset_columns()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.listening is not None and self.listening.isRunning() and not self._quit_while_listening():
            event.ignore()
            return
        self.save_view_state()
        self.live.stop()
        self.engine_poll.stop()
        self._engines_stop.set()
        if self.ingest is not None:
            self.ingest.stop()
        if self.listening is not None:
            self.listening.stop()
        super().closeEvent(event)

    def _quit_while_listening(self) -> bool:
        answer = QMessageBox.question(
            self, "Quit Lanewatch", f"The MLLP tap is listening ({self.status_listen.text() or 'on'}). Senders get no ACK "
            "once it stops and will queue or resend their messages. Quit anyway?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    # -- actions -------------------------------------------------------------------------
    def refresh(self) -> None:
        """F5: read everything again; the chosen message stays chosen (and shown) if it is still there."""
        self.messages_view.refresh()
        self.queue.refresh()
        self._tab_shown()
        self._refresh_sidebar_and_count()

    def _changed(self, changes: Changes) -> None:
        """A command changed something (ui.actions announces it once it succeeded): the sidebar
        and the counts read again; each tab's view listens to the same signal for what it shows."""
        if changes.messages or changes.queue or changes.interfaces:
            self._refresh_sidebar_and_count()

    def _refresh_sidebar_and_count(self) -> None:
        submit(lambda: (interfaces.overview(self.store),
                        messages.count(self.store, messages.MessageFilter(acks=False)),
                        queue.count(self.store, QueueFilter(states=[TriageState.OPEN]))), self._overview, context=self)

    def _overview(self, result: tuple[list[dict], int, int]) -> None:
        rows, count, open_items = result
        self.tabs.setTabText(self.tabs.indexOf(self.queue_split), f"Queue ({open_items:,} open)")
        self.interfaces.set_rows(rows)
        self.messages.set_home(interfaces.home_system(rows))
        acks = sum(r["acks"] for r in rows)
        self.status_count.setText(f"{count:,} messages, {acks:,} ACKs")

    def _live_tick(self) -> None:
        self.messages.poll_new()
        if any(t is not None and t.isRunning() for t in (self.ingest, self.listening)):
            self._refresh_sidebar_and_count()
            self.alerts.evaluate()  # as messages arrive (it skips a tick while the last evaluation runs)

    def poll_engines(self) -> None:
        """What is new on the engines, in the background; one poll at a time."""
        if self._engines_polling:
            return
        self._engines_polling = True

        def done(results) -> None:
            self._engines_polling = False
            problems = [f"{r.engine}: {r.problem}" for r in results if r.problem]
            if problems:
                self.statusBar().showMessage("Engine poll: " + "; ".join(problems), 15_000)
            if any(r.stored or r.channels for r in results):
                operations().did_change.emit(PollEngines.changes)
                self.alerts.evaluate()

        def failed(text: str) -> None:
            self._engines_polling = False
            self.statusBar().showMessage(f"Engine poll failed: {text}", 15_000)

        stop = self._engines_stop
        submit(lambda: PollEngines(self.context, stop=stop, max_windows=ENGINE_WINDOWS).run(), done, failed, context=self)

    def choose_engines(self) -> None:
        EnginesDialog(self.context, self).exec()

    def focus_search(self) -> None:
        self.tabs.setCurrentWidget(self.right)
        self.messages_view.focus_search()

    def shown_table(self) -> tuple[str, object] | None:
        """The grid on the tab in front: its name and view (the Overview and Scopes have their own exports)."""
        tab = self.tabs.currentWidget()
        return {self.right: ("messages", self.table), self.queue_split: ("queue", self.queue.tree),
                self.board: ("board", self.board.table), self.alerts: ("alerts", self.alerts.alert_table),
                self.endpoints: ("endpoints", self.endpoints.table), self.stats: ("statistics", self.stats.summary),
                self.audit: ("audit", self.audit.table)}.get(tab)

    def export_table(self) -> None:
        shown = self.shown_table()
        if shown is None:
            self.statusBar().showMessage("This tab has no table to export: choose Messages, Queue, Board, Alerts, "
                                         "Endpoints, Statistics or Audit (the Scopes tab exports its own)", 8000)
            return
        name, view = shown
        more = name == "messages" and self.messages.canFetchMore()  # a table read a page at a time
        export_shown(self, self.context, name, view, screen().on,
                     lambda report: self.statusBar().showMessage(
                         f"{report['rows']:,} rows of the {name} table exported to {report['to']}"
                         + (" (masked)" if report["masked"] else "")
                         + ("; those loaded so far: scroll for more, or `lanewatch messages --json` gives them all"
                            if more else ""), 12000))

    def set_privacy(self, on: bool) -> None:
        screen().set(on)  # dialogs and views opened from here read and follow it
        self.prefs.privacy_screen = on
        self.act_privacy.setChecked(on)
        self.messages_view.set_privacy(on)
        self.queue_detail.set_privacy(on)
        self.queue.model.set_privacy(on)
        self.audit.model.set_privacy(on)
        self.status_store.setText(f"Store: {self.store.location}" + ("   ·   PRIVACY SCREEN ON" if on else ""))

    def set_theme(self, name: str) -> None:
        self.prefs.theme = name
        self._dark = is_dark(name)
        apply_palette(QApplication.instance(), self._dark)
        for pane in (self.detail, self.queue_detail):
            pane.highlighter.set_dark(self._dark)
        self.overview.charts.apply_palette()
        self.overview.refresh()  # the map's boxes and labels take the new colours

    def copy(self) -> None:
        self.messages_view.copy()

    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Ingest interface log files", "",
                                                "HL7 logs (*.hl7 *.txt *.log *.dat);;All files (*)")
        if paths:
            self.ingest_files([Path(p) for p in paths])

    def ingest_files(self, paths: list[Path]) -> None:
        """Read files once into the store, off the window's thread; the summary is said when done."""
        from core.ingest import Ingestor

        self.status_activity.setText(f"Ingesting {len(paths)} file{'s' if len(paths) != 1 else ''}…")

        def done(summary) -> None:
            self.status_activity.setText("")
            self.statusBar().showMessage(
                f"Ingested {summary.messages:,} messages from {summary.files:,} files; {summary.queued:,} queue items added"
                + (f"; not read: {len(summary.unreadable)}" if summary.unreadable else ""), 15_000)
            self.refresh()

        submit(lambda: Ingestor(self.store).ingest_paths(paths), done,
               lambda text: self.statusBar().showMessage(f"Ingest failed: {text}", 15_000), context=self)

    def choose_store(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a Lanewatch store", "", "Lanewatch stores (*.db *.sqlite);;All files (*)")
        if path:
            self.open_store_window(path)

    def open_store_window(self, path: str) -> MainWindow | None:
        """Another store in a window of its own (this one stays as it is)."""
        from ui.app import open_or_ask

        store = open_or_ask(path, create=False)
        if not store:
            return None
        window = MainWindow(store, QSettings(self.prefs.qs.fileName(), self.prefs.qs.format()))
        window.show()
        self.others.append(window)  # kept (with its store) for as long as this window lives
        return window

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Watch a folder of interface logs")
        if folder:
            self.watch_folder(Path(folder))

    def watch_folder(self, folder: Path) -> None:
        """Ingest a folder in the background, then tail it; one writer at a time."""
        if self.ingest is not None:
            self.ingest.stop()
        self.ingest = IngestThread(self.store, [folder], parent=self)
        self._connect_ingest(self.ingest)
        self.ingest.start()
        self.statusBar().showMessage(f"Watching {folder}", 5000)

    def choose_listen(self, on: bool) -> None:
        if not on:
            self.stop_listening()
            return
        dialog = ListenDialog(self)
        if dialog.exec():
            self.listen(*dialog.values())
        else:
            self.act_listen.setChecked(False)

    def listen(self, host: str, port: int, ack_mode: str) -> None:
        """Start the tap; its traffic shows in the table as it is stored."""
        self.stop_listening()
        self.listening = ListenThread(self.store, host, port, ack_mode, self)
        self.listening.started_on.connect(lambda p: self.status_listen.setText(f"Listening on {host}:{p}"))
        self.listening.activity.connect(
            lambda got, answered, peers: self.status_listen.setText(
                f"Listening on {host}:{self.listening.port if self.listening else port} · {got:,} received, "
                f"{answered:,} answered · peers: {', '.join(peers) or 'none'}"))
        self.listening.problem.connect(lambda text: self.statusBar().showMessage(f"MLLP: {text}", 15_000))
        self.listening.finished.connect(lambda: self.act_listen.setChecked(False))
        self.act_listen.setChecked(True)
        self.listening.start()

    def stop_listening(self) -> None:
        if self.listening is not None:
            self.listening.stop()
            self.listening = None
        self.status_listen.setText("")

    def choose_store_setting(self) -> None:
        """Settings → Store: keep another store as this workstation's, and switch to it now."""
        from ui.dialogs.store_settings import StoreDialog

        dialog = StoreDialog(self, current=self.store.location)
        if not dialog.exec() or dialog.store is None:
            return
        window = MainWindow(dialog.store, QSettings(self.prefs.qs.fileName(), self.prefs.qs.format()))
        window.show()
        self.others.append(window)
        self.close()

    def open_log_folder(self) -> None:
        folder = workstation.log_folder()
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def about(self) -> None:
        rows = (("Version", build().line()), ("Store", self.store.location),
                ("Data", workstation.data_folder()), ("Settings", workstation.settings_file()),
                ("Log", workstation.log_folder()))
        table = "".join(f"<tr><td><b>{name}</b>&nbsp;&nbsp;</td><td>{html.escape(str(value))}</td></tr>" for name, value in rows)
        QMessageBox.about(self, "About Lanewatch", "<p>Lanewatch: a triage console for a medical practice's HL7 v2 and "
                          f"FHIR interfaces.</p><table>{table}</table>")

    def open_message(self, message_id: int) -> None:
        self.messages_view.open_message(message_id)

    def show_flow(self, flow) -> None:
        """A flow clicked on the Overview: its messages (its interface chosen in the sidebar, its type filtered)."""
        row = next((i for i, r in enumerate(self.interfaces.rows) if r["id"] == flow.interface_id), None)
        if row is not None:
            self.sidebar.selectRow(row + 1)  # row 0 is "All traffic"
        self.filter_bar.type.setCurrentText(flow.message_type)
        self.tabs.setCurrentWidget(self.right)

    def show_trace(self, message_id: int) -> None:
        """The order or visit a message belongs to, on a timeline (read off the GUI thread)."""

        def shown(t) -> None:
            dialog = TraceDialog(t, self)
            dialog.open_message.connect(lambda m: (self.tabs.setCurrentWidget(self.right), self.open_message(m)))
            dialog.show()

        submit(lambda: trace.trace(self.store, message_id), shown,
               lambda err: self.statusBar().showMessage(f"Could not trace message {message_id}: {err}", 10_000), context=self)

    def _announce(self, raised: list[dict]) -> None:
        """New alerts: the status bar, and a desktop notification where there is a system tray."""
        text = raised[0]["text"] + (f" (and {len(raised) - 1} more)" if len(raised) > 1 else "")
        self.statusBar().showMessage(f"Alert: {text}", 15_000)
        if self.tray is None and QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(icons.action("app"), self)
            self.tray.setToolTip("Lanewatch")
            self.tray.messageClicked.connect(lambda: (self.raise_(), self.tabs.setCurrentWidget(self.alerts)))
            self.tray.show()
        if self.tray is not None:
            self.tray.showMessage("Lanewatch alert", text, QSystemTrayIcon.MessageIcon.Warning, 15_000)

    def _interface_chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        interface_id = current.siblingAtColumn(COL_NAME).data(ID_ROLE) if current.isValid() else None
        self.filter_bar.set_interface(interface_id)
        self.queue.set_interface(interface_id)

    def _tab_shown(self) -> None:
        """The tabs that read on demand read when shown (the FHIR ones make no request here)."""
        shown = self.tabs.currentWidget()
        for view in (self.overview, self.board, self.alerts, self.audit, self.endpoints, self.scopes):
            if shown is view:
                view.refresh()

    def _ingest_progress(self, done: int, total: int) -> None:
        if total <= 0:
            self.progress.hide()
            return
        self.progress.show()
        self.progress.setMaximum(1000)
        self.progress.setValue(int(done * 1000 / total))
        self.progress.setFormat(f"Ingesting %p%  ({done / 2**20:.1f} of {total / 2**20:.1f} MiB)")
        self.status_activity.setText("Ingesting…")
        if self.messages.rowCount() == 0 and not self.messages.loading:
            self.messages.reload()

    def _caught_up(self, count: int) -> None:
        self.status_activity.setText(f"Ingested {count:,} messages; watching for more")
        self.refresh()
