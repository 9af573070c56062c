"""Start a listening tap from the console: where to listen and what to answer."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QSpinBox

ANSWERS = (("AA: accept (normal)", "AA"), ("AE: application error (to test the sender)", "AE"),
           ("AR: reject (to test the sender)", "AR"), ("No answer (to test the sender's timeout)", "none"))


class ListenDialog(QDialog):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Listen for MLLP")
        self.host = QLineEdit("127.0.0.1")
        self.host.setToolTip("0.0.0.0 listens on every network interface of this workstation")
        self.port = QSpinBox(minimum=1, maximum=65535, value=2575)
        self.answer = QComboBox()
        for words, code in ANSWERS:
            self.answer.addItem(words, code)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Listen")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(QLabel("Every message received is stored before it is answered; the answer is stored too."))
        form.addRow("Address", self.host)
        form.addRow("Port", self.port)
        form.addRow("Answer with", self.answer)
        form.addRow(buttons)

    def values(self) -> tuple[str, int, str]:
        return self.host.text().strip() or "127.0.0.1", self.port.value(), self.answer.currentData()
