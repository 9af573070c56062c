from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from core.store import audit
from core.store.models import AuditEntry
from ui.views.audit_view import AuditView


def test_audit_view_lists_filters_and_verifies(qtbot, qtmodeltester, store):
    with store.begin() as conn:
        for i in range(7):
            audit.append(conn, actor="alice@ws1" if i % 2 else "bob@ws2", action="acknowledge" if i < 5 else "view_message",
                         at=datetime(2026, 11, 24, 9, i), item_id=i, before={"triage_state": "open"},
                         after={"triage_state": "acknowledged"})
    view = AuditView(store)
    qtbot.addWidget(view)
    view.refresh()
    qtbot.waitUntil(lambda: view.model.rowCount() == 7, timeout=5000)
    qtmodeltester.check(view.model)
    assert view.model.index(0, 0).data() == "7"  # newest first
    assert view.model.index(6, 5).data() == "triage state: open → acknowledged"
    view.actor.setText("alice")
    view.refresh()
    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=5000)
    view.verify()
    qtbot.waitUntil(lambda: view.verdict.text().startswith("Audit chain intact: 7 entries"), timeout=5000)
    assert "Signing keys, by fingerprint" in view.verdict.toolTip()
    with store.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.seq == 4).values(action="reopen"))
    view.verify()
    qtbot.waitUntil(lambda: view.verdict.text().startswith("Audit chain broken at entry 4"), timeout=5000)
