"""Export de-identified: the chosen messages or the filters' to an HL7 file for a vendor
(core.commands.export), with what it will replace and what free text to keep."""
from __future__ import annotations

import re

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from core.deidentify import not_allowable
from ui.dialogs.rows import with_button

WHAT = ("Names, record and account numbers, addresses, phone numbers and birth dates of the patient and of the "
        "people beside them are replaced by pseudonyms made for this export alone (the same value, the same "
        "pseudonym; two exports cannot be joined). Every date moves back by the same number of days for one "
        "patient. Free text is blanked: Z-segments, NTE comments, text OBX values and other text fields. "
        "The export is recorded in the audit trail.")


class ExportDeidentifiedDialog(QDialog):
    def __init__(self, selected: int, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export de-identified")
        self.setMinimumWidth(620)
        self.chosen = QRadioButton(f"The {selected:,} selected message{'s' if selected != 1 else ''}")
        self.filtered = QRadioButton("Every message the filters show")
        (self.chosen if selected > 1 else self.filtered).setChecked(True)
        self.chosen.setEnabled(selected > 0)
        self.path = QLineEdit(placeholderText="The HL7 file to write")
        file_row = with_button(self.path, "Choose…", self._browse)
        self.allow = QLineEdit(placeholderText="e.g. NTE-3, ZPI-2 (blank: keep none)")
        self.allow.setToolTip("Fields whose free text you know holds no PHI, kept as they are: a field (NTE-3, "
                              "OBX-5) or a whole Z-segment (ZPI)")
        said = QLabel(WHAT, wordWrap=True)
        said.setStyleSheet("color: palette(placeholder-text)")
        self.problem = QLabel(wordWrap=True)
        self.problem.setStyleSheet("color: #c0392b")
        self.problem.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        which = QWidget()
        v = QVBoxLayout(which)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(self.chosen)
        v.addWidget(self.filtered)
        form.addRow("Messages", which)
        form.addRow("File", file_row)
        form.addRow("Keep free text in", self.allow)
        outer = QVBoxLayout(self)
        outer.addLayout(form)
        outer.addWidget(said)
        outer.addWidget(self.problem)
        outer.addWidget(buttons)

    def set_filtered_count(self, count: int) -> None:
        self.filtered.setText(f"Every message the filters show ({count:,})")

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export de-identified to", self.path.text() or "deidentified.hl7",
                                              "HL7 files (*.hl7 *.txt);;All files (*)")
        if path:
            self.path.setText(path)

    def allowed(self) -> list[str]:
        return [a.strip().upper() for a in re.split(r"[,\s]+", self.allow.text()) if a.strip()]

    def _accept(self) -> None:
        """What the command would refuse is said here, and the dialog stays open with what was typed."""
        bad = not_allowable(self.allowed())
        if not self.path.text().strip():
            self._say("Name the file to write.")
        elif bad:
            self._say(f"Name fields as NTE-3 or a Z-segment as ZPI: not {', '.join(bad)}.")
        else:
            self.accept()

    def _say(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()

    def values(self) -> tuple[bool, str, list[str]]:
        """(the selection rather than the filters, the file, the fields allowed)."""
        return self.chosen.isChecked(), self.path.text().strip(), self.allowed()
