"""The privacy screen's one switch for the whole console: every view and dialog that shows
message content reads it when it opens and follows it while open, so nothing opened later
(a Correct or Versions dialog, a trace) escapes the mask."""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class PrivacyScreen(QObject):
    changed = Signal(bool)

    def __init__(self) -> None:
        super().__init__()
        self.on = False

    def set(self, on: bool) -> None:
        if on != self.on:
            self.on = on
            self.changed.emit(on)


_screen: PrivacyScreen | None = None


def screen() -> PrivacyScreen:
    global _screen
    if _screen is None:
        _screen = PrivacyScreen()
    return _screen
