"""After a correction is resent and accepted, every state says so: the item is `resent`, the
correction carries its resend's ACK, and the trace shows the resend."""
from __future__ import annotations

from core.commands.correct import Correct
from core.commands.resend import Resend
from core.store import audit, messages, queue, trace
from tests.helpers.resend import Receiver, ctx, enable, setup


def test_a_corrected_then_resent_message_reads_resent_and_accepted(store):
    items, iface = setup(store)
    c = ctx(store)
    [item] = items
    new_id = Correct(c).save(Correct(c).preview(item["message_id"], [("ORC-12.1", "1234567893")], structural=False))
    assert queue.items(store, kinds=["nak_error"])[0]["triage_state"] == "corrected"
    receiver = Receiver("AA")
    try:
        enable(store, iface, receiver.port)
        [outcome] = Resend(c, ack_timeout=5).run(Resend(c).plan({item["id"]: None}))
    finally:
        receiver.stop()
    assert outcome.state == "accepted"
    assert queue.items(store, kinds=["nak_error"])[0]["triage_state"] == "resent"
    correction = messages.get(store, new_id)
    assert correction["ack_state"] == "accepted" and correction["ack_id"]
    assert messages.get(store, correction["ack_id"])["ack_code"] == "AA"
    original = messages.get(store, item["message_id"])
    assert original["ack_state"] == "error"  # what happened to the original stays true
    steps = trace.trace(store, item["message_id"]).steps
    assert [s.message_id for s in steps if s.message_id == new_id] and any("resent" in s.what for s in steps)


def test_resending_the_follow_up_closes_the_original_nak_too(store):
    items, iface = setup(store)
    c = ctx(store)
    [item] = items
    Correct(c).save(Correct(c).preview(item["message_id"], [("ORC-12.1", "1234567893")], structural=False))
    receiver = Receiver("AE")
    try:
        enable(store, iface, receiver.port)
        Resend(c, ack_timeout=5).run(Resend(c).plan({item["id"]: None}))  # AE: a failed_resend follow-up
        [follow_up] = queue.items(store, kinds=["failed_resend"])
        receiver.behaviour = "AA"
        [ok] = Resend(c, ack_timeout=5).run(Resend(c).plan({follow_up["id"]: None}))
    finally:
        receiver.stop()
    assert ok.state == "accepted"
    states = {i["kind"]: i["triage_state"] for i in queue.items(store)}
    assert states == {"nak_error": "resolved", "failed_resend": "resent"}
    assert audit.page(store, action="resolve")
