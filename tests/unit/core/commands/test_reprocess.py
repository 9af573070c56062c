"""Reprocessing through the engine: a write held to resend's rules. Gated by the engine's
write switch, confirmed with engine, channel, destinations and count, recorded before the
call and after it, audited, and never repeated silently after an unknown outcome."""
from __future__ import annotations

import pytest

from core.commands.context import Context
from core.commands.correct import Correct
from core.commands.engines import ConfigureEngine, PollEngines
from core.commands.reprocess import Reprocess
from core.engines.loopback import LoopbackEngine, demo_channels
from core.store import attempts, audit, queue
from core.vocabulary import AttemptState, QueueKind, TriageState
from tests.helpers.engines import add_engine

LAB = "5f1c8a7e-0002-4c2a-9d6e-1a2b3c4d5e02"


@pytest.fixture
def polled(store):
    with LoopbackEngine(demo_channels()) as server:
        add_engine(store, server)
        PollEngines(Context(store)).run()
        yield store, server


def _errors(store, words: str) -> list[dict]:
    return [i for i in queue.items(store, kinds=[QueueKind.ENGINE_ERROR]) if words in i["reason"]]


def test_nothing_goes_through_an_engine_whose_writes_are_off(polled):
    store, server = polled
    item = _errors(store, "Connection refused")[0]
    plan = Reprocess(Context(store)).plan({item["id"]: item["row_version"]})
    assert not plan.targets and "writes are not enabled for engine mirth" in plan.confirmation()
    assert server.channels[LAB].reprocessed == []


def test_a_reprocess_is_confirmed_recorded_and_audited(polled):
    store, server = polled
    ConfigureEngine(Context(store)).run("mirth", write_enabled=True)
    items = _errors(store, "Connection refused")[:3]
    command = Reprocess(Context(store, actor="analyst"))
    plan = command.plan({i["id"]: i["row_version"] for i in items})
    assert plan.confirmation().startswith("Reprocess 3 messages through engine mirth, channel ECW lab orders to Quest, "
                                          "to Quest LLP. 3 reprocessed as the engine stored them.")
    outcomes = command.run(plan)
    assert [o.state for o in outcomes] == [AttemptState.ACCEPTED] * 3
    assert sorted(m for m, _ in server.channels[LAB].reprocessed) == sorted(t.engine_message_id for t in plan.targets)
    assert all(d == [1] for _, d in server.channels[LAB].reprocessed)  # the item's destination only
    for i in items:
        assert queue.items(store, queue.QueueFilter(ids=[i["id"]]))[0]["triage_state"] == TriageState.RESENT
    with store.read() as conn:
        assert attempts.last(conn, items[0]["message_id"]).state == AttemptState.ACCEPTED
    actions = [e["action"] for e in audit.page(store, actor="analyst")]
    assert actions.count("reprocess") == 3 and actions.count("reprocess_outcome") == 3
    again = command.plan({items[0]["id"]: None})
    assert not again.targets and "accepted" in again.confirmation()
    [r] = PollEngines(Context(store)).run()
    assert sum(c.messages for c in r.channels) >= 3  # the engine's new messages come with the next poll


def test_an_unknown_outcome_holds_the_message_until_the_person_says_so(polled):
    store, server = polled
    ConfigureEngine(Context(store)).run("mirth", write_enabled=True)
    item = _errors(store, "Connection refused")[0]
    command = Reprocess(Context(store))
    plan = command.plan({item["id"]: item["row_version"]})
    server.fail_next(*[None] * 1, "reset")  # the sign-in answers; the reprocess call's answer is lost
    [outcome] = command.run(plan)
    assert outcome.state == AttemptState.UNKNOWN and "may or may not have reprocessed it" in outcome.detail
    held = command.plan({item["id"]: None})
    assert not held.targets and "unknown" in held.confirmation() and held.held == {"after_unknown"}
    assert command.plan({item["id"]: None}, after_unknown=True).targets


def test_a_corrected_version_goes_in_as_new_content(polled):
    store, server = polled
    ConfigureEngine(Context(store)).run("mirth", write_enabled=True)
    item = _errors(store, "Error evaluating transformer")[0]
    correct = Correct(Context(store))
    made = correct.save(correct.preview(item["message_id"], [("PID-5.1", "CORRECTED")]))
    command = Reprocess(Context(store))
    plan = command.plan({item["id"]: None})
    assert "1 corrected: sent into the channel as new content, which enters at its source and is transformed again" \
        in plan.confirmation()
    [outcome] = command.run(plan)
    assert outcome.state == AttemptState.ACCEPTED and "as message 301" in outcome.detail
    added = server.channels[LAB].added[301]
    assert "CORRECTED" in added.received and added.original_id == plan.targets[0].engine_message_id
    assert made


def test_an_item_that_did_not_come_from_an_engine_is_refused(store, tmp_path):
    from core.ingest import Ingestor

    log = tmp_path / "a.hl7"
    log.write_bytes(b"MSH|^~\\&|A|B|C|D|20260101||ADT^A01|1|P|2.5\rPID|1||\r")
    Ingestor(store).ingest_paths([log])
    [item] = queue.items(store)
    plan = Reprocess(Context(store)).plan({item["id"]: None})
    assert "did not come from an engine" in plan.confirmation()
