"""An interface's resend destination, write class and write switch (the change is audited)."""
from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QSpinBox

from core.commands.resend import WRITE_CLASSES


class InterfaceSettingsDialog(QDialog):
    def __init__(self, row: dict, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Resend settings: {row['name']}")
        self.host = QLineEdit(row.get("resend_host") or "", placeholderText="host name or address")
        self.port = QSpinBox(minimum=0, maximum=65535, value=row.get("resend_port") or 0)
        self.write_class = QComboBox()
        self.write_class.addItems(WRITE_CLASSES)
        self.write_class.setCurrentText(row.get("write_class") or "none")
        self.enabled = QCheckBox("Allow resending to this interface")
        self.enabled.setChecked(bool(row.get("write_enabled")))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(QLabel("Resend changes state in the receiving system. It stays off until switched on here;\n"
                           "the switch and every change to it are recorded in the audit trail."))
        form.addRow("Destination host", self.host)
        form.addRow("Destination port", self.port)
        form.addRow("Write class", self.write_class)
        form.addRow("", self.enabled)
        form.addRow(buttons)

    def values(self) -> dict:
        return {"host": self.host.text().strip() or None, "port": self.port.value() or None,
                "write_class": self.write_class.currentText(), "write_enabled": self.enabled.isChecked()}
