"""The one function through which the console runs operator commands (DESIGN.md, convention 2).

The command runs off the GUI thread; a CommandError (a conflict, a refused edit) is shown
to the person in its own words, anything else as what failed, and the console goes on.
When it succeeds, what it changed (its `core.changes.Changes`) is announced on one signal,
`operations().did_change`, and every window refreshes the views that show it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from core.changes import Changes
from ui.workers import submit


class Operations(QObject):
    did_change = Signal(object)  # a Changes value, emitted on the GUI thread


_operations: Operations | None = None


def operations() -> Operations:
    global _operations
    if _operations is None:
        _operations = Operations()
    return _operations


def run_command(parent: QWidget, title: str, fn: Callable[[], Any], on_done: Callable[[Any], None],
                on_refused: Callable[[str], None] | None = None, *, changes: Changes) -> None:
    """Run fn (a core command's method) in the background; report its outcome on the GUI thread.
    A refusal goes to `on_refused` when given (a dialog that shows it and keeps what was typed),
    else to a message box. `changes` is what the command changes (NOTHING for a preview or a
    plan): announced once it succeeded, after `on_done`."""

    def call() -> tuple[bool, Any]:
        from core.commands.context import CommandError

        try:
            return True, fn()
        except CommandError as exc:
            return False, str(exc)

    def done(outcome: tuple[bool, Any]) -> None:
        ok, value = outcome
        if ok:
            on_done(value)
            if changes:
                operations().did_change.emit(changes)
        elif on_refused is not None:
            on_refused(value)
        else:
            QMessageBox.warning(parent, title, value)
            on_done(None)

    submit(call, done, lambda text: QMessageBox.critical(parent, title, f"{title} failed: {text}"), context=parent)


def confirm_then(parent: QWidget, title: str, question: str, fn: Callable[[], Any], on_done: Callable[[Any], None],
                 *, changes: Changes) -> None:
    """Ask first (No is the default), then run the command as run_command does."""
    answer = QMessageBox.question(parent, title, question, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    if answer == QMessageBox.StandardButton.Yes:
        run_command(parent, title, fn, on_done, changes=changes)
