"""The Audit tab: who did or saw what, filterable, and a check of the hash chain."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from core.audit import Report, describe
from core.changes import Changes
from core.store import audit
from core.store.db import Store
from ui.actions import operations
from ui.models.audit_table import COL_ACTION, COL_ACTOR, COL_AT, COL_SEQ, COL_TARGET, AuditTableModel
from ui.views.grid import grid
from ui.workers import submit

ACTIONS = ("acknowledge", "reopen", "assign", "correct", "resend", "resend_outcome", "resolve", "configure_interface",
           "configure_endpoint", "remove_endpoint", "sign_in_endpoint", "add_alert_rule", "change_alert_rule", "delete_alert_rule", "acknowledge_alert", "view_message")


class AuditView(QWidget):
    def __init__(self, store: Store, parent=None) -> None:
        super().__init__(parent)
        operations().did_change.connect(self._on_change)
        self.store = store
        self.model = AuditTableModel(store, self)
        self.actor = QLineEdit(placeholderText="Who (part of user@host)", clearButtonEnabled=True)
        self.action = QComboBox()
        self.action.addItem("Any action", None)
        for a in ACTIONS:
            self.action.addItem(a.replace("_", " ").capitalize(), a)
        verify = QPushButton("Verify the chain")
        verify.setToolTip("Recompute every entry's hash and check its workstation's signature, and compare with what "
                          "this workstation verified before: an edited, inserted, deleted or rewritten entry is named")
        verify.clicked.connect(self.verify)
        self.verdict = QLabel()
        self.table = grid(self.model, "audit", {COL_SEQ: 60, COL_AT: 150, COL_ACTOR: 240, COL_ACTION: 110,
                                                COL_TARGET: 120})
        bar = QHBoxLayout()
        for w in (self.actor, self.action, verify, self.verdict):
            bar.addWidget(w)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self.actor.editingFinished.connect(self.refresh)
        self.action.currentIndexChanged.connect(self.refresh)

    def _on_change(self, changes: Changes) -> None:
        """A command changed what this view shows (ui.actions): read it again."""
        if changes.audit:
            self.refresh()

    def refresh(self) -> None:
        self.model.set_filter(self.actor.text().strip() or None, self.action.currentData())

    def verify(self) -> None:
        self.verdict.setText("Checking…")
        submit(lambda: audit.verify_store(self.store), self._verified,
               lambda text: self.verdict.setText(f"Could not check: {text}"), context=self)

    def _verified(self, report: Report) -> None:
        first, *keys = describe(report)
        self.verdict.setText(first[0].upper() + first[1:])
        self.verdict.setToolTip("Signing keys, by fingerprint:\n" + "\n".join(k.strip() for k in keys) if keys else "")
