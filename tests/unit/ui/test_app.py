"""Start-up on a store that cannot be opened: a dialog in the command line's words, and a way on."""
from __future__ import annotations

import sqlite3

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from core.store.db import open_store
from ui import app
from ui.dialogs import store_problem


def test_a_foreign_store_is_said_and_another_can_be_opened(qtbot, tmp_path, monkeypatch):
    foreign = tmp_path / "billing.db"
    with sqlite3.connect(foreign) as c:
        c.execute("CREATE TABLE claims (x)")
    good = tmp_path / "good.db"
    open_store(f"sqlite:///{good}").close()
    asked = []

    def ask(problem, *, can_create, parent=None):
        asked.append((problem, can_create))
        return store_problem.OTHER, str(good)

    monkeypatch.setattr(store_problem, "ask", ask)
    store = app.open_or_ask(str(foreign))
    try:
        assert store.engine.url.database == str(good)
    finally:
        store.close()
    [(problem, can_create)] = asked
    assert "not a Lanewatch store" in problem and not can_create


def test_a_missing_store_can_be_created_or_left_for_the_demo(qtbot, tmp_path, monkeypatch):
    missing = tmp_path / "new.db"
    monkeypatch.setattr(store_problem, "ask", lambda problem, *, can_create, parent=None: (store_problem.DEMO, None))
    assert app.open_or_ask(str(missing)) is None and not missing.exists()
    monkeypatch.setattr(store_problem, "ask", lambda problem, *, can_create, parent=None: (
        store_problem.CREATE if can_create else store_problem.QUIT, None))
    store = app.open_or_ask(str(missing))
    assert store and missing.exists()
    store.close()


def test_the_dialog_shows_the_words_and_its_choices(qtbot):
    seen = []

    def press():
        box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
        seen.append((box.text(), [b.text() for b in box.buttons()]))
        next(b for b in box.buttons() if b.text() == "Open the demo").click()

    QTimer.singleShot(200, press)
    assert store_problem.ask("There is no Lanewatch store at /x.db", can_create=True) == (store_problem.DEMO, None)
    [(text, buttons)] = seen
    assert text == "There is no Lanewatch store at /x.db"
    assert sorted(buttons) == ["Create a new store there", "Open another store…", "Open the demo", "Quit"]
