"""The only file that names icon files (DESIGN.md, convention 10).

States get icons that differ in shape, not only in colour, and always travel with text.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

import resources
from core.vocabulary import Worded

FOLDER = Path(resources.__file__).with_name("icons")

_LOOK_FILES = {"good": "check", "good-warn": "check-warn", "bad": "cross", "stop": "stop", "unknown": "question",
               "wait": "clock", "none": "dash", "warn": "warning", "broken": "broken", "in": "arrow-in", "out": "arrow-out",
               "mail": "mail", "fhir": "fhir"}
_ACTION_FILES = {"refresh": "refresh", "search": "search", "privacy": "privacy", "copy": "copy",
                 "save": "save", "link": "link", "app": "app"}


@cache
def _load(name: str) -> QIcon:
    return QIcon(str(FOLDER / f"{name}.svg"))


def state(member: Worded | None) -> QIcon:
    """The icon of a state, kind or health from core.vocabulary (empty when it has no look)."""
    file = _LOOK_FILES.get(member.look) if member is not None else None
    return _load(file) if file else QIcon()


def action(name: str) -> QIcon:
    return _load(_ACTION_FILES[name])
