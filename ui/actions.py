"""The one function through which the console runs operator commands (DESIGN.md, convention 2).

The command runs off the GUI thread; a CommandError (a conflict, a refused edit) is shown
to the person in its own words, anything else as what failed, and the console goes on.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget

from ui.workers import submit


def run_command(parent: QWidget, title: str, fn: Callable[[], Any], on_done: Callable[[Any], None],
                on_refused: Callable[[str], None] | None = None) -> None:
    """Run fn (a core command's method) in the background; report its outcome on the GUI thread.
    A refusal goes to `on_refused` when given (a dialog that shows it and keeps what was typed),
    else to a message box."""

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
        elif on_refused is not None:
            on_refused(value)
        else:
            QMessageBox.warning(parent, title, value)
            on_done(None)

    submit(call, done, lambda text: QMessageBox.critical(parent, title, f"{title} failed: {text}"), context=parent)


def confirm_then(parent: QWidget, title: str, question: str, fn: Callable[[], Any], on_done: Callable[[Any], None]) -> None:
    """Ask first (No is the default), then run the command as run_command does."""
    answer = QMessageBox.question(parent, title, question, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    if answer == QMessageBox.StandardButton.Yes:
        run_command(parent, title, fn, on_done)
