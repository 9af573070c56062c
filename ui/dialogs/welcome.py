"""The first run: a console with no store yet says what it can do, each way in one click.

Open the demo, watch a log folder, listen for MLLP (both keep what they read in this
workstation's own store, made now), or connect a team's shared PostgreSQL store."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QCommandLinkButton, QDialog, QFileDialog, QLabel, QVBoxLayout, QWidget

from core.store.db import Store, data_folder
from core.version import build
from ui import icons

DEMO, WATCH, LISTEN, SHARED, QUIT = "demo", "watch", "listen", "shared", "quit"


@dataclass
class Choice:
    way: str
    folder: Path | None = None  # WATCH
    store: Store | None = None  # SHARED: opened and kept in the settings


class WelcomeDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to Lanewatch")
        self.setWindowIcon(icons.action("app"))
        self.choice = Choice(QUIT)
        title = QLabel("<h2>Welcome to Lanewatch</h2>")
        intro = QLabel("A triage console for the practice's interfaces: HL7 v2 logs and live MLLP traffic, FHIR "
                       "endpoints, the failed-message queue and its audit trail. There is no store on this "
                       "workstation yet. Choose how to begin; everything here can be changed later in Settings → Store.",
                       wordWrap=True)
        layout = QVBoxLayout(self)
        layout.setSpacing(6)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addSpacing(8)
        ways = (
            (DEMO, "Open the demo", "A workspace of made-up messages, a live feed, FHIR endpoints and alerts, to try "
             "everything safely. Nothing is kept when it closes."),
            (WATCH, "Watch a log folder…", "Read an interface engine's or an EHR's HL7 log folder, then keep tailing it. "
             f"What is read is kept in this workstation's own store ({data_folder()})."),
            (LISTEN, "Listen for MLLP…", "Receive live HL7 traffic on a port of this workstation, store it and answer it."),
            (SHARED, "Connect a shared store…", "Use the go-live team's PostgreSQL store: everyone sees the same queue, "
             "audit trail and alerts. The password is kept in the OS keyring."),
        )
        for way, text, description in ways:
            button = QCommandLinkButton(text, description)
            button.setObjectName(f"welcome_{way}")
            button.setIconSize(QSize(20, 20))
            button.clicked.connect(lambda _=False, w=way: self._choose(w))
            layout.addWidget(button)
        layout.addSpacing(8)
        footer = QLabel(f"{build().line()} · the headless commands: <code>lanewatch --help</code>")
        footer.setProperty("secondary", True)
        footer.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(footer)
        self.setMinimumWidth(620)

    def _choose(self, way: str) -> None:
        if way == WATCH:
            folder = QFileDialog.getExistingDirectory(self, "Watch a folder of interface logs")
            if not folder:
                return
            self.choice = Choice(WATCH, folder=Path(folder))
        elif way == SHARED:
            from ui.dialogs.store_settings import SHARED as START_SHARED
            from ui.dialogs.store_settings import StoreDialog

            dialog = StoreDialog(self, start_on=START_SHARED)
            if not dialog.exec():
                return
            self.choice = Choice(SHARED, store=dialog.store)
        else:
            self.choice = Choice(way)
        self.accept()


def ask(parent: QWidget | None = None) -> Choice:
    dialog = WelcomeDialog(parent)
    dialog.exec()
    return dialog.choice
