"""The resend guard belongs to the message, not to one queue item: after an unknown outcome or
an accepted resend, no item that points to the message (or to any of its versions) sends it
again unless the person says so; and what goes on the wire has CR segment terminators."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.commands.correct import Correct
from core.commands.resend import Resend
from core.ingest import Ingestor
from core.store import messages, queue
from core.store.models import Message, ResendAttempt
from tests.helpers.resend import MSG, Receiver, at_once, ctx, enable, nak, setup


def _failed_resend_items(store):
    return queue.items(store, kinds=["failed_resend"])


def _attempts(store):
    with store.read() as conn:
        return conn.execute(select(ResendAttempt.__table__).order_by(ResendAttempt.id)).all()


def test_an_unknown_outcome_holds_every_item_of_the_message(store):
    items, iface = setup(store)
    receiver = Receiver("close_mid", kind="raw")
    try:
        enable(store, iface, receiver.port)
        command = Resend(ctx(store), ack_timeout=1.0)
        [outcome] = command.run(command.plan({items[0]["id"]: None}))
        assert outcome.state == "unknown"
        [follow_up] = _failed_resend_items(store)
        plan = command.plan({follow_up["id"]: None})  # the new item points to the same message
        assert not plan.targets and "outcome is unknown" in plan.refused[0][1] and plan.held == {"after_unknown"}
        assert command.run(plan) == [] and len(receiver.received) == 1
        assert command.plan({follow_up["id"]: None}, after_unknown=True).targets
    finally:
        receiver.stop()


def test_an_unknown_outcome_of_a_correction_holds_the_original_too(store):
    items, iface = setup(store)
    c = ctx(store)
    Correct(c).save(Correct(c).preview(items[0]["message_id"], [("ORC-12.1", "1234567893")], structural=False))
    receiver = Receiver("silent", kind="raw")
    try:
        enable(store, iface, receiver.port)
        [outcome] = Resend(c, ack_timeout=0.5).run(Resend(c).plan({items[0]["id"]: None}))
        assert outcome.state == "unknown"
        [follow_up] = _failed_resend_items(store)
        assert follow_up["message_id"] != items[0]["message_id"]  # it names the correction that went
        for item in (items[0], follow_up):
            plan = Resend(c).plan({item["id"]: None})
            assert not plan.targets and "outcome is unknown" in plan.refused[0][1]
    finally:
        receiver.stop()
    assert len(receiver.received) == 1


def test_an_accepted_resend_goes_again_only_on_purpose(store):
    items, iface = setup(store)
    receiver = Receiver("AA")
    try:
        enable(store, iface, receiver.port)
        command = Resend(ctx(store), ack_timeout=5)
        [ok] = command.run(command.plan({items[0]["id"]: None}))
        assert ok.state == "accepted"
        plan = command.plan({items[0]["id"]: None})
        assert not plan.targets and "already resent" in plan.refused[0][1] and plan.held == {"again"}
        [again] = command.run(command.plan({items[0]["id"]: None}, again=True))
        assert again.state == "accepted"
    finally:
        receiver.stop()
    assert len(receiver.received) == 2


def test_two_items_of_one_message_in_one_plan_send_it_once(store):
    items, iface = setup(store)
    receiver = Receiver("AE")
    try:
        enable(store, iface, receiver.port)
        command = Resend(ctx(store), ack_timeout=5)
        command.run(command.plan({items[0]["id"]: None}))  # AE: a failed_resend item, and both may go again
        [follow_up] = _failed_resend_items(store)
        receiver.behaviour = "AA"
        plan = command.plan({items[0]["id"]: None, follow_up["id"]: None})
        assert len(plan.targets) == 1 and "goes once" in plan.refused[0][1]
        command.run(plan)
    finally:
        receiver.stop()
    assert len(receiver.received) == 2


def test_two_consoles_sending_two_items_of_one_message_send_it_once(store, store_url):
    """Item and follow-up both sendable (the last answer was AE); two consoles at once: one send."""
    from core.store.db import open_store

    items, iface = setup(store)
    receiver = Receiver("AE")
    consoles = [open_store(store_url), open_store(store_url)]
    try:
        enable(store, iface, receiver.port)
        Resend(ctx(store), ack_timeout=5).run(Resend(ctx(store)).plan({items[0]["id"]: None}))
        [follow_up] = _failed_resend_items(store)
        receiver.behaviour = "AA"
        plans = [Resend(ctx(s, f"op{n}@ws")).plan({item["id"]: None})
                 for n, (s, item) in enumerate(zip(consoles, (items[0], follow_up)))]
        assert all(p.targets for p in plans)
        outcomes = at_once(consoles, plans)
    finally:
        receiver.stop()
        for s in consoles:
            s.close()
    assert sorted(o.state for o in outcomes) == ["accepted", "conflict"]
    assert len(receiver.received) == 2  # the first AE'd send, then exactly one more


@pytest.mark.parametrize("eol", [b"\r\n", b"\n"])
def test_what_goes_has_cr_terminators_and_is_what_the_attempt_records(store, eol):
    logged = MSG.format(cid="C0").encode().replace(b"\r", eol)
    Ingestor(store).ingest_messages("engine", [logged, nak("C0").encode()], transport="file")
    [item] = queue.items(store, kinds=["nak_error"])
    iface = messages.get(store, item["message_id"])["interface_id"]
    receiver = Receiver("AA", kind="raw")
    try:
        enable(store, iface, receiver.port)
        [ok] = Resend(ctx(store), ack_timeout=5).run(Resend(ctx(store)).plan({item["id"]: None}))
    finally:
        receiver.stop()
    assert ok.state == "accepted"
    wire = receiver.received[0][1:-2]  # inside the MLLP frame
    assert b"\n" not in wire and wire == MSG.format(cid="C0").encode()
    [attempt] = _attempts(store)
    assert attempt.sent == wire
    with store.read() as conn:  # the original stays as it was logged
        assert conn.execute(select(Message.raw).where(Message.id == item["message_id"])).scalar() == logged
