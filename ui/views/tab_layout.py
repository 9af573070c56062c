"""The one way a tab lays itself out: a bar of controls on top, then two panes in a named
splitter (the window keeps its sizes by name)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLayout, QSplitter, QVBoxLayout, QWidget


def bar_over_split(owner: QWidget, bar: QLayout, first: QWidget, second: QWidget, *, name: str,
                   stretch: tuple[int, int], orientation: Qt.Orientation = Qt.Orientation.Vertical,
                   between: tuple[QWidget, ...] = ()) -> QSplitter:
    split = QSplitter(orientation, objectName=name)
    split.addWidget(first)
    split.addWidget(second)
    split.setStretchFactor(0, stretch[0])
    split.setStretchFactor(1, stretch[1])
    split.setSizes([stretch[0] * 1000, stretch[1] * 1000])  # the panes start in that proportion, not by their hints
    layout = QVBoxLayout(owner)
    layout.setContentsMargins(4, 4, 4, 0)
    layout.addLayout(bar)
    for widget in between:
        layout.addWidget(widget)
    layout.addWidget(split, 1)
    return split
