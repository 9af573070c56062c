"""An interface's resend destination, TLS, write class and write switch (the change is audited)."""
from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from core.vocabulary import WriteClass


class InterfaceSettingsDialog(QDialog):
    """`typed` (what values() gave last time) and `problem` reopen it as the person left it,
    with what to change, when the settings were refused."""

    def __init__(self, row: dict, parent=None, *, typed: dict | None = None, problem: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Resend settings: {row['name']}")
        if typed:
            row = {**row, "resend_host": typed["host"], "resend_port": typed["port"], "write_class": typed["write_class"],
                   "write_enabled": typed["write_enabled"], "resend_tls": typed["tls"], "resend_tls_ca": typed["tls_ca"],
                   "resend_tls_cert": typed["tls_cert"], "resend_tls_key": typed["tls_key"]}
        self.host = QLineEdit(row.get("resend_host") or "", placeholderText="host name or address")
        self.port = QSpinBox(minimum=0, maximum=65535, value=row.get("resend_port") or 0)
        self.tls = QCheckBox("Send over TLS (the receiver's certificate is verified)")
        self.tls.setChecked(bool(row.get("resend_tls")))
        self.ca = QLineEdit(row.get("resend_tls_ca") or "", placeholderText="the system's certificates")
        self.cert = QLineEdit(row.get("resend_tls_cert") or "", placeholderText="none")
        self.key = QLineEdit(row.get("resend_tls_key") or "", placeholderText="none")
        self.write_class = QComboBox()
        self.write_class.addItems(WriteClass.values())
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
        form.addRow("", self.tls)
        form.addRow("Verify receiver with CA", self._with_browse(self.ca))
        form.addRow("Client certificate", self._with_browse(self.cert))
        form.addRow("Client key", self._with_browse(self.key))
        form.addRow("Write class", self.write_class)
        form.addRow("", self.enabled)
        self.problem = QLabel(problem or "", wordWrap=True, objectName="problem")
        self.problem.setStyleSheet("color: #c0392b")
        self.problem.setVisible(bool(problem))
        form.addRow(self.problem)
        form.addRow(buttons)
        self.tls.toggled.connect(self._tls_fields)
        self._tls_fields(self.tls.isChecked())

    def _with_browse(self, edit: QLineEdit) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        browse = QPushButton("Browse…")
        browse.clicked.connect(lambda: self._browse(edit))
        row.addWidget(edit, 1)
        row.addWidget(browse)
        edit.setMinimumWidth(280)
        return box

    def _browse(self, edit: QLineEdit) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "PEM file", edit.text(), "PEM files (*.pem *.crt *.key);;All files (*)")
        if path:
            edit.setText(path)

    def _tls_fields(self, on: bool) -> None:
        for edit in (self.ca, self.cert, self.key):
            edit.parentWidget().setEnabled(on)

    def values(self) -> dict:
        return {"host": self.host.text().strip() or None, "port": self.port.value() or None,
                "write_class": self.write_class.currentText(), "write_enabled": self.enabled.isChecked(),
                "tls": self.tls.isChecked(), "tls_ca": self.ca.text().strip(), "tls_cert": self.cert.text().strip(),
                "tls_key": self.key.text().strip()}
