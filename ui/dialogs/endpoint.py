"""Add or change a FHIR endpoint. The secret (client secret, bearer token or the private
key's file) goes to the OS keyring when saved; it is never shown again or stored here."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
)

from core.commands.endpoints import AUDIENCES, SECRET_FOR
from core.fhir.auth import ALGS, METHODS
from ui.dialogs.rows import with_button

AUTH_WORDS = {"none": "None (open server)", "bearer": "Static bearer token", "backend": "SMART backend services (signed JWT)",
              "client_secret_basic": "Client secret (HTTP Basic)", "client_secret_post": "Client secret (form post)",
              "standalone": "SMART standalone launch (a person signs in)"}


class EndpointDialog(QDialog):
    def __init__(self, current: dict | None, parent=None) -> None:
        super().__init__(parent)
        c = current or {}
        self.setWindowTitle(f"Endpoint: {c['name']}" if current else "Add a FHIR endpoint")
        self.name = QLineEdit(c.get("name") or "", placeholderText="e.g. Quest FHIR")
        self.name.setReadOnly(current is not None)
        self.url = QLineEdit(c.get("base_url") or "", placeholderText="https://fhir.example.org/r4")
        self.url.setMinimumWidth(420)
        self.auth = QComboBox()
        for m in METHODS:
            self.auth.addItem(AUTH_WORDS[m], m)
        self.auth.setCurrentIndex(METHODS.index(c.get("auth") or "none"))
        self.client_id = QLineEdit(c.get("client_id") or "")
        self.token_url = QLineEdit(c.get("token_url") or "", placeholderText="from the server's smart-configuration")
        self.alg = QComboBox()
        self.alg.addItems(ALGS)
        self.alg.setCurrentText(c.get("alg") or "RS384")
        self.key_id = QLineEdit(c.get("key_id") or "", placeholderText="the kid of the JWK the server holds")
        self.secret = QLineEdit(echoMode=QLineEdit.EchoMode.Password,
                                placeholderText="kept in the OS keyring" if current else "")
        self.key_file = QLineEdit(placeholderText="private key (PEM) to copy into the OS keyring")
        key_row = with_button(self.key_file, "Browse…", self._browse)
        self.audience = QComboBox()
        self.audience.addItems(AUDIENCES)
        self.audience.setCurrentText(c.get("audience") or "provider")
        self.requested = QPlainTextEdit(c.get("scopes_requested") or "")
        self.needed = QPlainTextEdit(c.get("scopes_needed") or "")
        for edit in (self.requested, self.needed):
            edit.setPlaceholderText("space- or line-separated, e.g. patient/Observation.rs launch/patient")
            edit.setFixedHeight(64)
        self.probe_path = QLineEdit(c.get("probe_path") or "", placeholderText="Patient?_count=1")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        self.form = QFormLayout(self)
        self.form.addRow(QLabel("Saving fetches the server's CapabilityStatement and smart-configuration.\n"
                                "Secrets go to the OS keyring only; the change is recorded in the audit trail."))
        for label, w in (("Name", self.name), ("Base URL", self.url), ("Authorisation", self.auth),
                         ("Client ID", self.client_id), ("Token URL", self.token_url), ("Signing", self.alg),
                         ("Key ID (kid)", self.key_id), ("Secret or token", self.secret), ("Private key", key_row),
                         ("The app serves", self.audience), ("Scopes requested", self.requested),
                         ("Scopes needed", self.needed), ("Probe read", self.probe_path)):
            self.form.addRow(label, w)
        self.form.addRow(buttons)
        self._key_row = key_row
        self.auth.currentIndexChanged.connect(self._fields)
        self._fields()

    def _fields(self) -> None:
        method = self.auth.currentData()
        shown = {
            self.client_id: method not in ("none", "bearer"), self.token_url: method not in ("none", "bearer"),
            self.alg: method == "backend", self.key_id: method == "backend", self._key_row: method == "backend",
            self.secret: method in ("bearer", "client_secret_basic", "client_secret_post"),
        }
        for w, on in shown.items():
            self.form.setRowVisible(w, on)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Private key", "", "PEM files (*.pem *.key);;All files (*)")
        if path:
            self.key_file.setText(path)

    def _accept(self) -> None:
        if not self.name.text().strip() or not self.url.text().strip():
            QMessageBox.warning(self, "Endpoint", "An endpoint needs a name and a base URL.")
            return
        if self.key_file.text().strip() and not Path(self.key_file.text().strip()).is_file():
            QMessageBox.warning(self, "Endpoint", "The private key file does not exist.")
            return
        self.accept()

    def values(self) -> tuple[str, str | None, dict]:
        """(name, the secret if one was given, the settings)."""
        method = self.auth.currentData()
        secret = None
        if method == "backend" and self.key_file.text().strip():
            secret = Path(self.key_file.text().strip()).read_text(encoding="utf-8")
        elif method in SECRET_FOR and self.secret.text():
            secret = self.secret.text()
        # an emptied field clears the setting ("" to ConfigureEndpoint; None would leave it alone)
        settings = {"base_url": self.url.text().strip(), "auth": method, "client_id": self.client_id.text().strip(),
                    "token_url": self.token_url.text().strip(),
                    "alg": self.alg.currentText() if method == "backend" else None,
                    "key_id": self.key_id.text().strip(), "audience": self.audience.currentText(),
                    "scopes_requested": " ".join(self.requested.toPlainText().split()),
                    "scopes_needed": " ".join(self.needed.toPlainText().split()),
                    "probe_path": self.probe_path.text().strip()}
        return self.name.text().strip(), secret, settings
