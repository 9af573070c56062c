"""Settings declared once, typed, over QSettings (DESIGN.md, convention 9).

Preferences (what a person chose) are kept apart from view state (geometry, splitters,
column widths), so resetting the layout never loses a preference.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

ORGANISATION = APPLICATION = "Lanewatch"


def in_documents(name: str) -> str:
    """Where an export is suggested: the person's documents folder, never the working directory."""
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if not folder or not Path(folder).is_dir():  # no Documents folder: a file dialog would open the working directory
        folder = str(Path.home())
    return str(Path(folder) / name)


def open_settings() -> QSettings:
    return QSettings(ORGANISATION, APPLICATION)


class Preferences:
    def __init__(self, qs: QSettings) -> None:
        self.qs = qs

    def _bool(self, key: str, default: bool) -> bool:
        value = self.qs.value(key, default)
        return value in (True, "true", "1", 1) if not isinstance(value, bool) else value

    @property
    def privacy_screen(self) -> bool:
        return self._bool("preferences/privacy_screen", False)

    @privacy_screen.setter
    def privacy_screen(self, on: bool) -> None:
        self.qs.setValue("preferences/privacy_screen", on)

    @property
    def theme(self) -> str:
        """"system" (follow the desktop), "light" or "dark"."""
        value = str(self.qs.value("preferences/theme", "system"))
        return value if value in ("system", "light", "dark") else "system"

    @theme.setter
    def theme(self, value: str) -> None:
        self.qs.setValue("preferences/theme", value)


class ViewState:
    """Named byte blobs from Qt's own saveState/saveGeometry calls."""

    def __init__(self, qs: QSettings) -> None:
        self.qs = qs

    def get(self, name: str) -> QByteArray | None:
        value = self.qs.value(f"view/{name}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def put(self, name: str, blob: QByteArray) -> None:
        self.qs.setValue(f"view/{name}", blob)
