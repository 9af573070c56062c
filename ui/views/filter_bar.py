"""The filter bar over the message table: time range, type, state, IDs, free text and a
field-path query (core.hl7.query), which says at once where it does not parse.

It turns what a person typed into a `MessageFilter`; typing settles for a moment before
the table is asked again, so a query does not run per keystroke.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from PySide6.QtCore import QDateTime, QRegularExpression, Qt, QTimer, QTimeZone, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core import moments
from core.commands.views import as_filter
from core.hl7 import query
from core.hl7.query import Query
from core.ingest import utcnow
from core.store.messages import MessageFilter
from core.vocabulary import PROBLEM_ACK_STATES, AckState, Lane, ParseState
from ui import icons

TIME_RANGES = (("Any time", None), ("Last hour", timedelta(hours=1)), ("Last 24 hours", timedelta(days=1)),
               ("Last 7 days", timedelta(days=7)), ("Last 30 days", timedelta(days=30)), ("Between…", None))
CUSTOM = len(TIME_RANGES) - 1
SPANS = {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}
TYPES = ("Any type", "ADT", "ORM", "ORU", "SIU", "DFT", "VXU", "MDM", "ACK")
STATES = (("Any state", None, None), ("Needs attention", None, list(PROBLEM_ACK_STATES)),
          *((s.words, None, [s]) for s in AckState if s not in (AckState.ACCEPTED, AckState.ACCEPTED_WITH_WARNINGS,
                                                                 AckState.NOT_EXPECTED)),
          ("Accepted", None, [AckState.ACCEPTED, AckState.ACCEPTED_WITH_WARNINGS]),
          *((s.words, [s], None) for s in ParseState if s != ParseState.OK))
LANES = (("Any lane", None), *((lane.words, lane.value) for lane in (Lane.HL7V2, Lane.ENGINE, Lane.DIRECT, Lane.FHIR)))
SETTLE_MS = 350
MAX_TEXT = 2000  # as the command line's --text


class FilterBar(QWidget):
    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.interface_id: int | None = None  # set by the sidebar
        self.time = QComboBox()
        self.time.addItems([t[0] for t in TIME_RANGES])
        self.time.setToolTip("Message time (MSH-7, in UTC)")
        self.since, self.until = self._moment(-1), self._moment(0)
        self.type = QComboBox()
        self.type.setEditable(True)  # "ORU^R01" may be typed
        self.type.addItems(TYPES)
        self.state = QComboBox()
        self.state.addItems([s[0] for s in STATES])
        self.lane = QComboBox(objectName="lane")
        self.lane.addItems([name for name, _ in LANES])
        self.lane.setToolTip("Where the messages came from: HL7 v2 interfaces, an engine's channels, Direct mail, "
                             "FHIR exchanges (an app's HAR file)")
        self.control_id = self._line("Control ID", 80)
        self.patient_id = self._line("Patient ID", 80)
        self.text = self._line("Search text (Ctrl+F)", 120)
        self.text.addAction(icons.action("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.hide_acks = QCheckBox("Hide ACKs")
        self.hide_acks.setToolTip("Show messages only; each one's ACK state is in its ACK column")
        self.where = QLineEdit(objectName="where", clearButtonEnabled=True, maxLength=MAX_TEXT,
                               placeholderText="Field query: OBX[*]-8 in ('H','HH') and PID-3[*].4 = 'FEE'")
        self.where.setToolTip("Paths as corrections write them, * for any occurrence or repetition: = != ~ < > <= >=, "
                              "in (…), is empty, is not empty; and, or, not, parentheses")
        self.views = QComboBox(objectName="views", minimumContentsLength=16,
                               sizeAdjustPolicy=QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.views.setToolTip("Saved views, shared through the store: choose one to set the filters as it keeps them")
        self.save_view = QPushButton("Save view…", objectName="save_view")
        self.save_view.setToolTip("Keep these filters under a name, for everyone on this store (audited)")
        self.where_note = QLabel(objectName="where_note", textFormat=Qt.TextFormat.PlainText)
        self.where_note.setStyleSheet("color: #c62828")  # what is wrong with the query, in red and in words
        self.query: Query | None = None  # the last query that parsed (one that does not changes nothing)
        top, bottom = QHBoxLayout(), QHBoxLayout()
        for w in (self.time, self.since, self.until, self.lane, self.type, self.state, self.control_id, self.patient_id,
                  self.text, self.hide_acks):
            top.addWidget(w)
        top.setStretch(8, 1)
        bottom.addWidget(self.where, 1)
        bottom.addWidget(self.where_note)
        bottom.addWidget(self.views)
        bottom.addWidget(self.save_view)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(bottom)
        self._settle = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._settle.timeout.connect(self.changed)
        self.time.currentIndexChanged.connect(self._time_changed)
        self.state.currentIndexChanged.connect(self.changed)
        self.lane.currentIndexChanged.connect(self.changed)
        self.type.currentTextChanged.connect(lambda _: self._settle.start())
        self.hide_acks.toggled.connect(self.changed)
        self._where_settle = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._where_settle.timeout.connect(self._where_changed)
        self.where.textChanged.connect(lambda _: self._where_settle.start())
        self.where.returnPressed.connect(self._where_changed)

    def _where_changed(self) -> None:
        """A query that parses narrows the table; one that does not says what and where, and changes nothing."""
        self._where_settle.stop()
        text = self.where.text().strip()
        try:
            found = query.parse(text) if text else None
        except query.QueryError as exc:
            self.where_note.setText(str(exc))
            return
        self.where_note.setText("")
        if (found and found.text) != (self.query and self.query.text):
            self.query = found
            self.changed.emit()

    def _moment(self, days: int) -> QDateTimeEdit:
        """A UTC time field for "Between…", hidden until chosen."""
        edit = QDateTimeEdit(QDateTime.currentDateTimeUtc().addDays(days), calendarPopup=True,
                             displayFormat="yyyy-MM-dd HH:mm")
        edit.setTimeZone(QTimeZone.utc())
        edit.dateTimeChanged.connect(lambda _: self._settle.start())
        edit.hide()
        return edit

    def _time_changed(self, index: int) -> None:
        self.since.setVisible(index == CUSTOM)
        self.until.setVisible(index == CUSTOM)
        self.changed.emit()

    def _line(self, placeholder: str, width: int) -> QLineEdit:
        """A filter field that takes what the command line takes: no NUL, a sane length."""
        edit = QLineEdit(placeholderText=placeholder, clearButtonEnabled=True, maxLength=MAX_TEXT)
        edit.setValidator(QRegularExpressionValidator(QRegularExpression("[^\\x00]*"), edit))
        edit.setMinimumWidth(width)
        edit.textChanged.connect(lambda _: self._settle.start())
        edit.returnPressed.connect(self._now)
        return edit

    def _now(self) -> None:
        self._settle.stop()
        self.changed.emit()

    # -- saved views (core.commands.views keeps them) ---------------------------------------
    def definition(self) -> dict:
        """These filters as a saved view keeps them (a time range as typed: "24h", or two ISO times)."""
        _, parse, ack = STATES[self.state.currentIndex()]
        kind = self.type.currentText().strip()
        span = TIME_RANGES[self.time.currentIndex()][1]
        since = until = None
        if self.time.currentIndex() == CUSTOM:  # "between 5 pm and 9 am": the person means the other way round
            since, until = (f"{t:%Y-%m-%dT%H:%M}" for t in sorted((_utc(self.since), _utc(self.until))))
        elif span:
            since = next(text for text, delta in SPANS.items() if delta == span)
        return {"type": [kind] if kind and kind != TYPES[0] else None, "state": [str(s) for s in parse or ()],
                "ack_state": [str(s) for s in ack or ()], "control_id": self.control_id.text().strip() or None,
                "patient_id": self.patient_id.text().strip() or None, "text": self.text.text().strip() or None,
                "where": self.query.text if self.query else None, "since": since, "until": until,
                "lane": LANES[self.lane.currentIndex()][1]}

    def apply(self, definition: dict) -> None:
        """Set the filters as a saved view keeps them, then ask the table once."""
        widgets = (self.time, self.lane, self.type, self.state, self.control_id, self.patient_id, self.text, self.where)
        for w in widgets:
            w.blockSignals(True)
        try:
            self.type.setCurrentText((definition.get("type") or [TYPES[0]])[0])
            self.lane.setCurrentIndex(next((i for i, (_, lane) in enumerate(LANES) if lane and lane == definition.get("lane")), 0))
            wanted = (sorted(definition.get("state") or []), sorted(definition.get("ack_state") or []))
            self.state.setCurrentIndex(next((i for i, (_, p, a) in enumerate(STATES)
                                             if (sorted(map(str, p or [])), sorted(map(str, a or []))) == wanted), 0))
            for edit, key in ((self.control_id, "control_id"), (self.patient_id, "patient_id"), (self.text, "text"),
                              (self.where, "where")):
                edit.setText(definition.get(key) or "")
            self._set_time(definition.get("since"), definition.get("until"))
        finally:
            for w in widgets:
                w.blockSignals(False)
        self.query = query.parse(self.where.text()) if self.where.text().strip() else None
        self.where_note.setText("")
        self.changed.emit()

    def _set_time(self, since: str | None, until: str | None) -> None:
        if since in SPANS and not until:
            self.time.setCurrentIndex(next(i for i, (_, d) in enumerate(TIME_RANGES) if d == SPANS[since]))
        elif since or until:
            self.time.setCurrentIndex(CUSTOM)
            for edit, text in ((self.since, since), (self.until, until)):
                moment = moments.moment(text) if text else utcnow()  # "2h", "yesterday", an ISO time: as `messages` reads them
                edit.setDateTime(QDateTime(moment.date(), moment.time(), QTimeZone.utc()))
        else:
            self.time.setCurrentIndex(0)
        self.since.setVisible(self.time.currentIndex() == CUSTOM)
        self.until.setVisible(self.time.currentIndex() == CUSTOM)

    def set_interface(self, interface_id: int | None) -> None:
        self.interface_id = interface_id
        self.changed.emit()

    def message_filter(self) -> MessageFilter:
        """The filters as the table asks them: what a saved view of them picks (one way from
        what was typed to a filter), on the interface chosen in the sidebar, ACKs hidden or not."""
        flt = as_filter({**self.definition(), "interface": self.interface_id})
        return replace(flt, acks=False if self.hide_acks.isChecked() else None)


def _utc(edit: QDateTimeEdit):
    """The field's moment as the naive UTC datetime the store keeps."""
    return edit.dateTime().toUTC().toPython().replace(tzinfo=None)
