"""A store that cannot be opened, said in the same words as the command line, with a way on:
create it (when there is none), open another store, or open the demo workspace."""
from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

CREATE, OTHER, DEMO, QUIT = "create", "other", "demo", "quit"


def ask(problem: str, *, can_create: bool, parent: QWidget | None = None) -> tuple[str, str | None]:
    """(choice, the other store's path when OTHER)."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Lanewatch: the store cannot be opened", problem, parent=parent)
    buttons = {}
    if can_create:
        buttons[box.addButton("Create a new store there", QMessageBox.ButtonRole.AcceptRole)] = CREATE
    buttons[box.addButton("Open another store…", QMessageBox.ButtonRole.ActionRole)] = OTHER
    buttons[box.addButton("Open the demo", QMessageBox.ButtonRole.ActionRole)] = DEMO
    buttons[box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)] = QUIT
    box.exec()
    choice = buttons.get(box.clickedButton(), QUIT)
    if choice != OTHER:
        return choice, None
    path, _ = QFileDialog.getOpenFileName(parent, "Open a Lanewatch store", "", "Lanewatch stores (*.db *.sqlite);;All files (*)")
    return (OTHER, path) if path else (QUIT, None)
