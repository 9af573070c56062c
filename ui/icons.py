"""The only file that names icon files (DESIGN.md, convention 10).

States get icons that differ in shape, not only in colour, and always travel with text.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

import resources

FOLDER = Path(resources.__file__).with_name("icons")

_STATE_FILES = {
    # ACK states
    "accepted": "check", "accepted_with_warnings": "check-warn", "error": "cross", "rejected": "stop",
    "missing": "question", "pending": "clock", "not_expected": "dash", "unrecognised": "question",
    # parse states
    "ok": "check", "invalid": "warning", "unparseable": "broken",
    # directions and interface status
    "inbound": "arrow-in", "outbound": "arrow-out", "between": "dash",
    "problems": "cross", "quiet": "dash",
    # FHIR endpoint health and scope-review severities
    "degraded": "warning", "down": "cross", "high": "stop", "warn": "warning", "info": "dash",
}
_ACTION_FILES = {"refresh": "refresh", "search": "search", "privacy": "privacy", "copy": "copy",
                 "save": "save", "link": "link", "app": "app"}


@cache
def _load(name: str) -> QIcon:
    return QIcon(str(FOLDER / f"{name}.svg"))


def state(name: str | None) -> QIcon:
    """The icon of an ACK state, parse state, direction or interface status (empty if unknown)."""
    file = _STATE_FILES.get(name or "")
    return _load(file) if file else QIcon()


def action(name: str) -> QIcon:
    return _load(_ACTION_FILES[name])
