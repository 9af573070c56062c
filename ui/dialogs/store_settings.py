"""Settings → Store: which store this workstation opens. Its own file in the data folder,
another store file, or a shared PostgreSQL store (a go-live team's). The choice is tried
before it is kept; a server's password goes to the OS keyring, never into the settings."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core import secrets, workstation
from core.store.db import PASSWORD, Store, StoreError, default_file, default_url, open_store, password_owner, place, server_url

OWN, FILE, SHARED = "own", "file", "shared"


class StoreDialog(QDialog):
    """Choose, try and keep the store; `store` is the opened one after accept()."""

    def __init__(self, parent: QWidget | None = None, *, current: str | None = None, start_on: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Store")
        self.setMinimumWidth(560)
        self.store: Store | None = None
        self.url: str | None = None
        own_file = default_file()
        self.kind = QButtonGroup(self)
        self.own = QRadioButton("This workstation's own store")
        self.file = QRadioButton("A store file")
        self.shared = QRadioButton("A shared PostgreSQL store (a team's, on a server)")
        for button in (self.own, self.file, self.shared):
            self.kind.addButton(button)
        self.own_where = QLabel(str(own_file), textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        self.own_where.setProperty("secondary", True)
        self.path = QLineEdit(placeholderText="a .db file")
        browse = QPushButton("Browse…", clicked=self._browse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path, 1)
        file_row.addWidget(browse)
        self.host = QLineEdit(placeholderText="db.practice.example")
        self.port = QSpinBox(minimum=1, maximum=65535, value=5432)
        self.database = QLineEdit("lanewatch")
        self.user = QLineEdit(placeholderText="your database user")
        self.password = QLineEdit(echoMode=QLineEdit.EchoMode.Password, placeholderText="kept in the OS keyring")
        self.shared_form = QWidget()
        form = QFormLayout(self.shared_form)
        form.setContentsMargins(24, 0, 0, 0)
        form.addRow("Server", self.host)
        form.addRow("Port", self.port)
        form.addRow("Database", self.database)
        form.addRow("User", self.user)
        form.addRow("Password", self.password)
        self.problem = QLabel(wordWrap=True)
        self.problem.setStyleSheet("color: #c0392b")  # as every dialog's problem line
        self.problem.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Open this store")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        intro = QLabel("The store is where Lanewatch keeps messages, the queue and the audit trail. "
                       "This workstation opens the one chosen here from now on.", wordWrap=True)
        layout.addWidget(intro)
        layout.addWidget(self.own)
        own_row = QHBoxLayout()
        own_row.setContentsMargins(24, 0, 0, 0)
        own_row.addWidget(self.own_where)
        layout.addLayout(own_row)
        layout.addWidget(self.file)
        file_box = QWidget()
        file_box.setLayout(file_row)
        file_row.setContentsMargins(24, 0, 0, 0)
        self.file_box = file_box
        layout.addWidget(file_box)
        layout.addWidget(self.shared)
        layout.addWidget(self.shared_form)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self.kind.buttonToggled.connect(lambda *_: self._enable())
        self._show_current(current, start_on)

    def _show_current(self, current: str | None, start_on: str | None) -> None:
        where = place(current)  # None: the store this workstation opens now
        if start_on == SHARED or where.server:
            self.shared.setChecked(True)
            if where.server:
                self.host.setText(where.host)
                self.port.setValue(where.port or 5432)
                self.database.setText(where.database)
                self.user.setText(where.user)
        elif where.path and not where.is_default:
            self.file.setChecked(True)
            self.path.setText(str(where.path))
        else:
            self.own.setChecked(True)
        self._enable()

    def _enable(self) -> None:
        self.file_box.setEnabled(self.file.isChecked())
        self.shared_form.setEnabled(self.shared.isChecked())
        (self.host if self.shared.isChecked() and not self.host.text() else self.path).setFocus()

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "A Lanewatch store file", self.path.text(),
                                              "Lanewatch stores (*.db *.sqlite);;All files (*)",
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.path.setText(path)

    def chosen_url(self) -> str | None:
        """The store as the settings keep it (None: the workstation's own), or raise ValueError."""
        if self.own.isChecked():
            return None
        if self.file.isChecked():
            if not self.path.text().strip():
                raise ValueError("Choose the store file.")
            return str(Path(self.path.text().strip()).expanduser().resolve())
        if not self.host.text().strip() or not self.database.text().strip():
            raise ValueError("Say which server and which database hold the shared store.")
        return server_url(self.host.text().strip(), self.port.value(), self.database.text().strip(), self.user.text().strip())

    def _say(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()
        self.adjustSize()  # room for the line, never at the fields' cost

    def accept(self) -> None:
        self.problem.hide()
        try:
            url = self.chosen_url()
        except ValueError as exc:
            self._say(str(exc))
            return
        if url and self.shared.isChecked() and self.password.text():
            try:
                secrets.put(password_owner(url), PASSWORD, self.password.text())
            except secrets.SecretStoreError as exc:
                self._say(f"{exc}. Or leave the password empty here and keep it in PostgreSQL's own password file "
                          "(~/.pgpass; on Windows %APPDATA%\\postgresql\\pgpass.conf), which Lanewatch uses too.")
                return
        store = self._open(url)
        if store is None:
            return
        workstation.set_store_url(url)
        self.store, self.url = store, url
        super().accept()

    def _open(self, url: str | None) -> Store | None:
        """The store, tried now; an empty database or a new file is made a store only when asked."""
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            try:
                return open_store(url or default_url(), create=url is None)
            except StoreError as exc:
                if not exc.creatable:
                    self._say(str(exc))
                    return None
            where = "database" if self.shared.isChecked() else "file"
            QGuiApplication.restoreOverrideCursor()
            answer = QMessageBox.question(self, "Make a new store?",
                                          f"There is no Lanewatch store in that {where} yet. Make one there?")
            QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            if answer != QMessageBox.StandardButton.Yes:
                return None
            try:
                return open_store(url, create=True)
            except StoreError as exc:
                self._say(str(exc))
                return None
        finally:
            QGuiApplication.restoreOverrideCursor()
