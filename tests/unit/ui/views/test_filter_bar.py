"""The console's filter inputs take what the command line takes: no NUL, a sane length, and
a "Between…" typed the wrong way round reads the right way."""
from __future__ import annotations

from PySide6.QtCore import QDateTime, QTimeZone

from ui.views.filter_bar import CUSTOM, MAX_TEXT, FilterBar


def test_a_nul_cannot_be_typed_and_text_is_bounded(qtbot):
    bar = FilterBar()
    qtbot.addWidget(bar)
    qtbot.keyClicks(bar.text, "MRN")
    bar.text.insert("\x00")
    qtbot.keyClicks(bar.text, "1")
    assert "\x00" not in bar.text.text() and bar.text.text().startswith("MRN")
    bar.text.setText("x" * (MAX_TEXT + 500))
    assert len(bar.text.text()) == MAX_TEXT


def test_between_the_wrong_way_round_is_read_the_right_way(qtbot):
    bar = FilterBar()
    qtbot.addWidget(bar)
    bar.time.setCurrentIndex(CUSTOM)
    later = QDateTime(2026, 11, 24, 17, 0, 0, 0, QTimeZone.utc())
    bar.since.setDateTime(later)
    bar.until.setDateTime(later.addSecs(-8 * 3600))
    flt = bar.message_filter()
    assert flt.since < flt.until and flt.since.hour == 9 and flt.until.hour == 17
    assert bar.since.isVisibleTo(bar) and bar.until.isVisibleTo(bar)  # the fields show for "Between…"
