"""The QApplication: palette that follows the system's light or dark scheme, and start-up."""
from __future__ import annotations

import logging
import signal
import sys
import tempfile
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, QThreadPool, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from core.changes import Changes
from core.version import build
from ui import icons
from ui.settings import APPLICATION, ORGANISATION

log = logging.getLogger(__name__)


def application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setDesktopFileName("org.lanewatch.Lanewatch")
    app.setWindowIcon(icons.action("app"))
    app.setStyle("Fusion")  # the same widgets on every platform, and palettes that apply whole
    return app


def is_dark(theme: str) -> bool:
    if theme in ("light", "dark"):
        return theme == "dark"
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_palette(app: QApplication, dark: bool) -> None:
    if not dark:
        app.setPalette(app.style().standardPalette())
        return
    p = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#202225", QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#17181a", QPalette.ColorRole.AlternateBase: "#1f2124",
        QPalette.ColorRole.ToolTipBase: "#2b2d31", QPalette.ColorRole.ToolTipText: "#e6e6e6",
        QPalette.ColorRole.Text: "#e6e6e6", QPalette.ColorRole.Button: "#2b2d31",
        QPalette.ColorRole.ButtonText: "#e6e6e6", QPalette.ColorRole.BrightText: "#ff6e6e",
        QPalette.ColorRole.Highlight: "#2f6db5", QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#7fb2f0", QPalette.ColorRole.PlaceholderText: "#8a8d93",
        QPalette.ColorRole.Mid: "#3a3d42", QPalette.ColorRole.Dark: "#111214", QPalette.ColorRole.Light: "#3a3d42",
    }
    for role, colour in colours.items():
        p.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b6e73"))
    app.setPalette(p)


def open_or_ask(db: str | None, create: bool | None = None):
    """The store, or None when the person chose the demo, or False when they quit. A store
    that cannot be opened is said in a dialog in the command line's words, with a way on."""
    from core.store.db import StoreError, named_url, open_store
    from ui.dialogs import store_problem

    create = named_url(db) is None if create is None else create  # the default store's first run
    while True:
        try:
            return open_store(db, create=create)
        except StoreError as exc:
            choice, other = store_problem.ask(str(exc), can_create=exc.creatable)
        if choice == store_problem.CREATE:
            create = True
        elif choice == store_problem.OTHER:
            db, create = other, False
        elif choice == store_problem.DEMO:
            return None
        else:
            return False


def stop_on_signals(app: QApplication) -> None:
    """SIGTERM (a logout, a service manager, `kill`) and Ctrl+C close the console the way
    Quit does: work in flight is finished and the store closed. Qt's event loop would not
    let Python see the signal, so a timer wakes it four times a second."""
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: app.quit())
    wake = QTimer(app)
    wake.timeout.connect(lambda: None)
    wake.start(250)


def prepare_demo(store, root: Path, servers: list) -> tuple[list[Path], Changes]:
    """The demo's workspace (log files, a loopback FHIR server and its endpoints, a loopback
    engine and its channels, alert rules), made on the ingest's thread once the window shows;
    the servers go in `servers`."""
    from core import demo_direct, demo_engine, demo_fhir
    from core.commands.context import Context
    from core.demo import DEMO_COUNT, add_alert_rules, workspace

    add_alert_rules(Context(store))
    folders = [workspace(root, DEMO_COUNT)]
    demo_direct.write(folders[0] / "direct")
    servers.append(demo_fhir.start(Context(store)))
    demo_fhir.write_har(folders[0] / "fhir", servers[-1], Context(store))
    servers.append(demo_engine.start(Context(store)))
    return folders, Changes(messages=True, queue=True, interfaces=True, endpoints=True, alerts=True, audit=True)


def run(db: str | None, demo: bool) -> int:
    """Open the console on a store (or a fresh demo workspace) and run until it closes. With
    no store on this workstation yet, the welcome page asks how to begin."""
    from core.store.db import first_run
    from ui.dialogs import welcome
    from ui.settings import open_settings
    from ui.workers import IngestThread

    app = application()
    stop_on_signals(app)
    store = None
    begin = None  # the welcome page's choice, on a first run
    if not demo and first_run(db):
        begin = welcome.ask()
        if begin.way == welcome.QUIT:
            return 0
        demo, store = begin.way == welcome.DEMO, begin.store
    if not demo and store is None:
        store = open_or_ask(db)
        if store is False:
            return 1
        if store is None:
            demo, db = True, None  # the person chose the demo instead
    demo_fhir: list = []
    prepare = None
    if demo:
        root = Path(tempfile.mkdtemp(prefix="lanewatch-demo-"))
        store = open_or_ask(db or f"sqlite:///{root / 'demo.db'}", create=True)
        if not store:
            return 1
        prepare = partial(prepare_demo, store, root, demo_fhir)
    from ui.main_window import MainWindow  # only now: the welcome page shows without waiting for the window's modules

    ingest = IngestThread(store, [], live_feed=True, prepare=prepare) if demo else None
    window = MainWindow(store, open_settings(), ingest=ingest, title_note="demo workspace" if demo else None)
    window.show()
    log.info("%s: window open on a %s store%s", build().line(), store.dialect, " (demo)" if demo else "")
    if ingest:
        window.statusBar().showMessage("Making the demo workspace…", 10_000)
        ingest.start()
    if begin and begin.way == welcome.WATCH:
        window.watch_folder(begin.folder)
    elif begin and begin.way == welcome.LISTEN:
        window.choose_listen(True)
    try:
        return app.exec()
    finally:
        if ingest:
            ingest.stop()
        for server in demo_fhir:
            server.__exit__(None, None, None)
        QThreadPool.globalInstance().waitForDone(10_000)
        store.close()
        log.info("closed")
