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


def test_a_field_query_narrows_when_it_parses_and_says_where_when_it_does_not(qtbot):
    bar = FilterBar()
    qtbot.addWidget(bar)
    changes = []
    bar.changed.connect(lambda: changes.append(bar.message_filter()))
    bar.where.setText("OBX[*]-8 in ('H' 'HH')")
    bar.where.returnPressed.emit()
    assert not changes and "expected ',' or ')' in the list" in bar.where_note.text() and "character 18" in bar.where_note.text()
    bar.where.setText("OBX[*]-8 in ('H','HH') and OBR-2 = ORD1")
    qtbot.waitUntil(lambda: len(changes) == 1, timeout=2000)  # settles, then asks once
    flt = changes[0]
    assert flt.test is not None and flt.text == "ORD1" and bar.where_note.text() == ""
    hl7 = "MSH|^~\\&|A|B|C|D|20261201||ORU^R01|1|P|2.5\rOBR|1|ORD1\rOBX|1|NM|GLU||250||70-99|HH\r"
    assert flt.test({"parse_state": "ok", "raw": hl7.encode()})
    assert not flt.test({"parse_state": "text", "raw": hl7.encode()})  # mail and documents are no HL7 to query
    bar.where.clear()
    qtbot.waitUntil(lambda: len(changes) == 2, timeout=2000)
    assert changes[1].test is None


def test_the_filters_as_a_saved_view_keeps_them_and_back(qtbot):
    bar = FilterBar()
    qtbot.addWidget(bar)
    bar.time.setCurrentIndex(2)  # last 24 hours
    bar.type.setCurrentText("ORU")
    bar.state.setCurrentIndex(1)  # needs attention
    bar.patient_id.setText("MRN1")
    bar.lane.setCurrentIndex(bar.lane.findText("FHIR"))
    bar.where.setText("OBX[*]-8 in ('H','HH')")
    bar.where.returnPressed.emit()
    kept = bar.definition()
    assert kept["since"] == "24h" and kept["type"] == ["ORU"] and kept["where"] == "OBX[*]-8 in ('H','HH')"
    assert kept["lane"] == "fhir" and bar.message_filter().lane == "fhir"
    other = FilterBar()
    qtbot.addWidget(other)
    with qtbot.waitSignal(other.changed, timeout=1000):
        other.apply(kept)
    assert other.definition() == kept and other.message_filter().test is not None
    other.apply({"since": "2h", "type": ["ADT"]})  # a time the command line saved: Between…, from two hours ago
    assert other.time.currentIndex() == CUSTOM and other.since.isVisibleTo(other)
    assert other.query is None and other.definition()["type"] == ["ADT"] and other.definition()["lane"] is None
