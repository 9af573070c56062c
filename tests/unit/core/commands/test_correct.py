"""Corrections: new linked versions, originals untouched, revalidated, audited, in bulk too."""
from __future__ import annotations

import hashlib
from datetime import datetime

import pytest
from sqlalchemy import select

from core.commands.context import CommandError
from core.commands.correct import Correct
from core.commands.triage import group_items
from core.store import audit, messages, queue
from core.store.models import AuditEntry
from tests.helpers import resend as helpers
from tests.helpers.stores import demo_store

NOW = datetime(2026, 11, 24, 13, 0)


@pytest.fixture
def cstore(store_url, tmp_path):
    s = demo_store(store_url, tmp_path, 20_000 if store_url.startswith("sqlite") else 6000)
    yield s
    s.close()


def ctx(store):
    return helpers.ctx(store, now=NOW)


def missing_pid3(store):
    items = [i for i in queue.items(store, states=["open"], kinds=["invalid"]) if "PID-3" in i["reason"]]
    assert items, "the demo traffic has results whose PID-3 was lost"
    return items


def test_a_path_edit_is_a_new_version_and_the_original_stays(cstore):
    item = missing_pid3(cstore)[0]
    original = messages.get(cstore, item["message_id"])
    command = Correct(ctx(cstore))
    preview = command.preview(original["id"], [("PID-3.1", "MRN100042"), ("PID-3.5", "MR")])
    assert any(line.startswith("+PID|1||MRN100042^^^^MR|") for line in preview.diff)
    assert not [f for f in preview.findings if "PID-3" in f.text]  # revalidated: the lane's rule is met now
    new_id = command.save(preview)
    corrected, again = messages.get(cstore, new_id), messages.get(cstore, original["id"])
    assert again["raw"] == original["raw"] and hashlib.sha256(again["raw"]).hexdigest() == original["sha256"]
    assert (corrected["parent_id"], corrected["version_no"], corrected["ack_state"]) == (original["id"], 2, "not_expected")
    assert corrected["patient_id"] == "MRN100042" and corrected["parse_state"] == "ok"
    # every byte outside PID-3 is the original's
    assert corrected["raw"].replace(b"||MRN100042^^^^MR||", b"||||") == original["raw"]
    assert next(i for i in queue.items(cstore) if i["id"] == item["id"])["triage_state"] == "corrected"
    assert messages.versions(cstore, new_id) == messages.versions(cstore, original["id"]) == [original["id"], new_id]
    with cstore.read() as conn:
        entry = conn.execute(select(AuditEntry).where(AuditEntry.action == "correct")).one()
        assert audit.verify(conn) is None
    assert entry.message_id == original["id"] and entry.after["message_id"] == new_id and entry.after["diff"]


def test_raw_text_correction_and_refusals(cstore):
    item = missing_pid3(cstore)[0]
    command = Correct(ctx(cstore))
    before = command.preview(item["message_id"]).before
    with pytest.raises(CommandError, match="Nothing was changed"):
        command.save(command.preview(item["message_id"]))
    with pytest.raises(CommandError, match="not a readable HL7 message"):
        command.save(command.preview(item["message_id"], raw_text="hello"))
    with pytest.raises(CommandError, match="not a field path"):
        command.preview(item["message_id"], [("PID3", "x")])
    fixed = before.replace("PID|1|||", "PID|1||MRN7|", 1)
    new_id = command.save(command.preview(item["message_id"], raw_text=fixed))
    assert messages.get(cstore, new_id)["patient_id"] == "MRN7"


def test_bulk_correction_of_a_group(cstore):
    items = missing_pid3(cstore)
    signature = items[0]["signature"]
    members = group_items(ctx(cstore), signature)
    message_ids = [i["message_id"] for i in queue.items(cstore) if i["id"] in members]
    command = Correct(ctx(cstore))
    shown = command.bulk_preview(message_ids, [("PID-3.1", "UNKNOWN")], first=3)
    assert len(shown) == min(3, len(message_ids)) and all(p.changed for p in shown)
    new_ids = command.bulk_apply(message_ids, [("PID-3.1", "UNKNOWN")])
    assert len(new_ids) == len(message_ids)
    assert not group_items(ctx(cstore), signature)
    assert {messages.get(cstore, n)["patient_id"] for n in new_ids} == {"UNKNOWN"}
