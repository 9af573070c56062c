"""A workstation with no store yet: the welcome page, each way in one click; Settings → Store;
and Help (About with the version and the store, the log folder)."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QObject, QTimer, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QCommandLinkButton, QFileDialog, QMessageBox

from core import secrets, workstation
from core.demo import workspace
from core.store import db
from core.store.messages import count as message_count
from tests.helpers.stores import settle_workers
from ui.dialogs import store_settings, welcome


def test_the_welcome_page_offers_four_ways_in(qtbot):
    page = welcome.WelcomeDialog()
    qtbot.addWidget(page)
    buttons = {b.objectName(): b for b in page.findChildren(QCommandLinkButton)}
    assert set(buttons) == {f"welcome_{w}" for w in (welcome.DEMO, welcome.WATCH, welcome.LISTEN, welcome.SHARED)}
    assert str(workstation.data_folder()) in buttons["welcome_watch"].description()
    buttons["welcome_demo"].click()
    assert page.choice.way == welcome.DEMO and page.result() == welcome.WelcomeDialog.DialogCode.Accepted
    page = welcome.WelcomeDialog()
    qtbot.addWidget(page)
    page.findChild(QCommandLinkButton, "welcome_listen").click()
    assert page.choice.way == welcome.LISTEN


def test_watching_a_folder_asks_for_it_and_cancelling_stays_on_the_page(qtbot, tmp_path, monkeypatch):
    page = welcome.WelcomeDialog()
    qtbot.addWidget(page)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: "")
    page.findChild(QCommandLinkButton, "welcome_watch").click()
    assert page.choice.way == welcome.QUIT and page.result() == 0  # still open, nothing chosen
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path))
    page.findChild(QCommandLinkButton, "welcome_watch").click()
    assert page.choice == welcome.Choice(welcome.WATCH, folder=tmp_path)


def test_the_first_run_watches_the_chosen_folder_into_this_workstations_own_store(qtbot, tmp_path, monkeypatch):
    """ui.app.run as a person meets it: no store, the welcome page, a folder, then the window tails it."""
    import signal

    from ui import app

    logs = workspace(tmp_path / "logs", 300)
    monkeypatch.setattr(welcome, "ask", lambda parent=None: welcome.Choice(welcome.WATCH, folder=logs))
    monkeypatch.setattr(app, "apply_palette", lambda *a: None)
    monkeypatch.setattr(db, "data_folder", lambda: tmp_path / "data")
    monkeypatch.setattr(db, "default_url", lambda: f"sqlite:///{tmp_path / 'data' / 'lanewatch.db'}")
    assert db.first_run()
    seen = {}

    def look() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if w.isVisible() and hasattr(w, "status_store")]
        if windows and windows[0].messages.rowCount() > 0:
            seen["store"] = windows[0].status_store.text()
            windows[0].close()
            return
        QTimer.singleShot(100, look)

    QTimer.singleShot(100, look)
    handlers = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        assert app.run(None, False) == 0
    finally:
        signal.signal(signal.SIGTERM, handlers[0])
        signal.signal(signal.SIGINT, handlers[1])
        settle_workers()
    assert str(tmp_path / "data" / "lanewatch.db") in seen["store"]
    store = db.open_store(f"sqlite:///{tmp_path / 'data' / 'lanewatch.db'}", create=False)
    try:
        assert message_count(store) > 0
    finally:
        store.close()


def _pick_file(dialog: store_settings.StoreDialog, path) -> bool:
    dialog.file.setChecked(True)
    dialog.path.setText(str(path))
    dialog.accept()
    return dialog.result() == 1


def test_settings_store_makes_a_new_store_file_only_when_asked_and_keeps_the_choice(qtbot, tmp_path, monkeypatch):
    dialog = store_settings.StoreDialog()
    qtbot.addWidget(dialog)
    assert dialog.own.isChecked()  # nothing set yet: this workstation's own store
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    assert not _pick_file(dialog, tmp_path / "team.db") and not (tmp_path / "team.db").exists()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    assert _pick_file(dialog, tmp_path / "team.db")
    dialog.store.close()
    assert workstation.store_url() == str(tmp_path / "team.db")
    again = store_settings.StoreDialog(current=workstation.store_url())
    qtbot.addWidget(again)
    assert again.file.isChecked() and again.path.text() == str(tmp_path / "team.db")
    again.file.setChecked(True)
    again.path.setText("")
    again.accept()
    assert again.problem.isVisibleTo(again) and "Choose the store file" in again.problem.text()


def test_a_damaged_store_file_is_said_in_the_dialog_and_not_kept(qtbot, tmp_path):
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"this is not a database" * 100)
    dialog = store_settings.StoreDialog()
    qtbot.addWidget(dialog)
    assert not _pick_file(dialog, damaged)
    assert "damaged" in dialog.problem.text() and workstation.store_url() is None


@pytest.mark.postgres
def test_connecting_a_shared_store_keeps_the_password_in_the_keyring_only(qtbot, monkeypatch):
    """A real PostgreSQL server that asks for a password, an empty database made a store."""
    from tests.conftest import _postgres_url
    from tests.helpers.stores import server_database_with_password

    with server_database_with_password(_postgres_url()) as (host, port, name, role, password):
        dialog = store_settings.StoreDialog(start_on=store_settings.SHARED)
        qtbot.addWidget(dialog)
        assert dialog.shared.isChecked() and dialog.shared_form.isEnabled()
        dialog.host.setText(host)
        dialog.port.setValue(port)
        dialog.database.setText(name)
        dialog.user.setText(role)
        dialog.password.setText("wrong-" + password)
        dialog.accept()
        assert "refused the sign-in" in dialog.problem.text() and dialog.store is None
        dialog.password.setText(password)
        monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
        dialog.accept()
        assert dialog.store is not None and dialog.store.dialect == "postgresql"
        dialog.store.close()
        kept = workstation.store_url()
        assert kept == f"postgresql://{role}@{host}:{port}/{name}"
        assert password not in workstation.settings_file().read_text()
        assert secrets.get(db.password_owner(kept), db.PASSWORD) == password


class _Opened(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


def test_help_names_the_version_the_store_and_opens_the_log_folder(qtbot, small_store, settings, monkeypatch):
    from core.version import build
    from ui.main_window import MainWindow

    window = MainWindow(small_store, settings)
    qtbot.addWidget(window)
    said = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: said.append(text))
    window.about()
    assert build().line() in said[0] and small_store.location in said[0] and str(workstation.log_folder()) in said[0]
    opened = _Opened()
    QDesktopServices.setUrlHandler("file", opened, "open")
    try:
        window.open_log_folder()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert [u.toLocalFile() for u in opened.urls] == [str(workstation.log_folder())]
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    assert [a.text().replace("&", "") for a in menus["Help"].actions()] == ["Open log folder", "About Lanewatch"]
    assert [a.text().replace("&", "") for a in menus["Settings"].actions()] == ["Store…", "Engines…"]
