"""`lanewatch deliveries` and `messages --lane direct` on the demo's Direct traffic, and a
Direct message's detail in words (recipients, notices, attachments)."""
from __future__ import annotations

import json
from datetime import UTC, datetime

from core import demo_direct
from core.commands.context import Context
from core.commands.detail import OpenDetail
from core.store import direct
from tests.helpers.cli import run
from tests.helpers.direct import demo_traffic

NOW = datetime(2026, 12, 1, 16, 0)


def test_deliveries_lists_each_recipient_and_says_when_one_needs_a_person(store, store_url, tmp_path, capsys):
    demo_traffic(store, tmp_path, NOW)
    code, out, _ = run(capsys, store_url, "deliveries", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 4 and len(rows) == len(direct.deliveries(store))
    assert {r["state"] for r in rows} >= {"processed", "dispatched", "delivery_failed", "failed", "timed_out"}
    code, out, _ = run(capsys, store_url, "deliveries", "--state", "dispatched")
    assert code == 0 and out.count("Dispatched") == len(out.splitlines()) > 0
    code, out, _ = run(capsys, store_url, "deliveries", "--unpaired")
    assert code == 0 and out == "Every MDN and DSN here is paired to its message.\n"


def test_messages_by_lane_and_bad_usage_in_one_line(store, store_url, tmp_path, capsys):
    demo_traffic(store, tmp_path, NOW)
    code, out, _ = run(capsys, store_url, "messages", "--lane", "direct", "--json")
    types = {json.loads(line)["type"] for line in out.splitlines()}
    assert code == 0 and types == {"Direct", "MDN", "DSN"}
    code, out, _ = run(capsys, store_url, "messages", "--lane", "hl7v2", "--json")
    assert code == 0 and {json.loads(line)["type"] for line in out.splitlines()} == {"REF^I12", "ACK^I12"}  # what asked
    code, _, err = run(capsys, store_url, "deliveries", "--state", "lost")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "invalid choice: 'lost'" in err


def test_a_direct_messages_detail_gives_each_recipient_and_its_notices(store, tmp_path):
    demo_traffic(store, tmp_path, NOW)
    dispatched = next(d for d in direct.deliveries(store) if d["state"] == "dispatched")
    detail = OpenDetail(Context(store, actor="tester", now=lambda: datetime.now(UTC).replace(tzinfo=None))).run(
        dispatched["message_id"])
    text = "\n".join(detail.explanation)
    assert text.startswith(f"Direct message from {demo_direct.PRACTICE}: signed; carries referral.xml")
    assert f"  Signed by CN={demo_direct.PRACTICE},O=direct.northside-fm.example" in text and ": the signature holds" in text
    assert f"{dispatched['recipient']}: Dispatched (processed" in text and "asked for final-destination delivery" in text
    assert [w for _, w in detail.links] == ["its MDN (processed)", "its MDN (dispatched)"]
    notice = OpenDetail(Context(store, actor="tester")).run(detail.links[1][0])
    assert notice.links == [(dispatched["message_id"], "the message this notice answers")]
    assert "dispatched with final-destination delivery" in "\n".join(notice.explanation).lower()



def test_a_referral_traces_from_its_order_to_its_notices(store, store_url, tmp_path, capsys):
    demo_traffic(store, tmp_path, NOW)
    dispatched = next(d for d in direct.deliveries(store) if d["state"] == "dispatched")
    code, out, _ = run(capsys, store_url, "trace", str(dispatched["message_id"]), "--json")
    t = json.loads(out)
    whats = [s["what"] for s in t["steps"]]
    assert code == 0 and t["kind"] == "referral" and whats[0] == "REF^I12" and whats[1] == "ACK AA"
    assert whats[2] == f"Direct message to {dispatched['recipient']}"
    assert whats[3:] == [f"MDN: {dispatched['recipient']} processed", f"MDN: {dispatched['recipient']} dispatched"]
    assert set(t["turnarounds"]) == {"sent → first processed", "sent → dispatched"}
    mdn_id = t["steps"][3]["message_id"]
    code, again, _ = run(capsys, store_url, "trace", str(mdn_id), "--json")  # from a notice: the same referral
    assert json.loads(again)["steps"] == t["steps"]
