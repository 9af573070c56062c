"""Pieces the dialogs' forms share."""
from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QWidget


def with_button(edit: QLineEdit, text: str, clicked) -> QWidget:
    """A field with a button beside it (a file to choose): one row of a form."""
    row = QWidget()
    h = QHBoxLayout(row)
    h.setContentsMargins(0, 0, 0, 0)
    h.addWidget(edit, 1)
    button = QPushButton(text)
    button.clicked.connect(clicked)
    h.addWidget(button)
    return row
