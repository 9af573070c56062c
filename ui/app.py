"""The QApplication: palette that follows the system's light or dark scheme, and start-up."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from ui import icons
from ui.settings import APPLICATION, ORGANISATION

DEMO_COUNT = 20_000


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


def has_display() -> bool:
    """False on a Linux machine with no desktop session (a server, a container, CI)."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_or_ask(db: str | None, create: bool | None = None):
    """The store, or None when the person chose the demo, or False when they quit. A store
    that cannot be opened is said in a dialog in the command line's words, with a way on."""
    from core.store.db import StoreError, open_store
    from ui.dialogs import store_problem

    create = not (db or os.environ.get("LANEWATCH_DB")) if create is None else create  # the default store's first run
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


def run(db: str | None, demo: bool) -> int:
    """Open the console on a store (or a fresh demo workspace) and run until it closes."""
    if not has_display():
        from ui.cli import main as cli

        print("lanewatch: no display to open the console on; running the headless commands instead.", file=sys.stderr)
        if demo:
            return cli.main((["--db", db] if db else []) + ["demo", "--count", str(DEMO_COUNT)])
        cli.build_parser().print_help()
        return 0
    from ui.system_libraries import window_can_open

    if problem := window_can_open():
        print(problem, file=sys.stderr)
        return 1
    from core.demo import workspace
    from ui.main_window import MainWindow
    from ui.settings import open_settings
    from ui.workers import IngestThread

    app = application()
    store = None
    if not demo:
        store = open_or_ask(db)
        if store is False:
            return 1
        if store is None:
            demo, db = True, None  # the person chose the demo instead
    folders: list[Path] = []
    if demo:
        root = Path(tempfile.mkdtemp(prefix="lanewatch-demo-"))
        folders = [workspace(root, DEMO_COUNT)]
        store = open_or_ask(db or f"sqlite:///{root / 'demo.db'}", create=True)
        if not store:
            return 1
    demo_fhir = None
    if demo:
        from core import demo_fhir as fhir_demo
        from core.commands.context import Context
        from core.demo import add_alert_rules

        demo_fhir = fhir_demo.start(Context(store))
        add_alert_rules(Context(store))
    ingest = IngestThread(store, folders, live_feed=demo) if demo else None
    window = MainWindow(store, open_settings(), ingest=ingest, title_note="demo workspace" if demo else None)
    window.show()
    if ingest:
        ingest.start()
    try:
        return app.exec()
    finally:
        if ingest:
            ingest.stop()
        if demo_fhir:
            demo_fhir.__exit__(None, None, None)
        QThreadPool.globalInstance().waitForDone(10_000)
        store.close()
