"""The document lane in the window: a Direct message's detail renders the documents it
carries, and the privacy screen hides them with the patient."""
from __future__ import annotations

from datetime import datetime

from core.commands.context import Context
from core.commands.detail import OpenDetail
from core.store import direct
from tests.helpers.direct import demo_traffic

NOW = datetime(2026, 12, 1, 16, 0)


def test_the_detail_pane_renders_the_document_and_the_privacy_screen_hides_it(qtbot, store, tmp_path):
    from ui.views.detail_pane import DetailPane

    demo_traffic(store, tmp_path, NOW)
    sent = next(d for d in direct.deliveries(store) if d["state"] == "processed")
    detail = OpenDetail(Context(store, actor="tester")).run(sent["message_id"])
    pane = DetailPane()
    qtbot.addWidget(pane)
    pane.show_detail(detail)
    [doc] = detail.documents
    assert doc["type_name"] == "Referral Note" and doc["patient_name"] in pane.summary.text()
    shown = pane.raw.toPlainText()
    assert shown.startswith("═══ Referral Note: Referral Note") and "── REASON FOR REFERRAL (present) ──" in shown
    assert "Carries a Referral Note" in pane.explanation.text()
    pane.set_privacy(True)
    hidden = pane.raw.toPlainText() + pane.summary.text() + pane.explanation.text()
    assert doc["patient_name"] not in hidden and "Penicillin" not in hidden and "privacy screen hides" in hidden
