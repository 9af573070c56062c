"""Acknowledge, reopen, assign: audited, and safe when two consoles act at once."""
from __future__ import annotations

import threading
from datetime import datetime

import pytest
from sqlalchemy import select

from core.commands.context import CommandError, ConflictError
from core.commands.triage import Acknowledge, Assign, Reopen, group_items
from core.store import audit, queue
from core.store.db import open_store
from core.store.models import AuditEntry
from tests.helpers import resend as helpers
from tests.helpers.stores import demo_store

NOW = datetime(2026, 11, 24, 13, 0)


@pytest.fixture
def triage_store(store_url, tmp_path):
    s = demo_store(store_url, tmp_path, 1500)
    yield s
    s.close()


def ctx(store, who="alice@ws1"):
    return helpers.ctx(store, who, now=NOW)


def item(store, item_id):
    return next(i for i in queue.items(store) if i["id"] == item_id)


def test_acknowledge_reopen_assign_each_audited(triage_store):
    first = queue.items(triage_store, states=["open"])[0]
    c = ctx(triage_store)
    Acknowledge(c).run({first["id"]: first["row_version"]}, "test_message", "sent by the vendor's test harness")
    got = item(triage_store, first["id"])
    assert (got["triage_state"], got["ack_reason"], got["row_version"]) == ("acknowledged", "test_message", 2)
    Assign(c).run({first["id"]: 2}, "bob")
    Reopen(c).run({first["id"]: 3})
    got = item(triage_store, first["id"])
    assert (got["triage_state"], got["owner"], got["ack_reason"]) == ("open", "bob", None)
    with triage_store.read() as conn:
        entries = conn.execute(select(AuditEntry).order_by(AuditEntry.seq)).all()
        assert audit.verify(conn) is None
    assert [(e.action, e.actor, e.item_id) for e in entries] == [
        ("acknowledge", "alice@ws1", first["id"]), ("assign", "alice@ws1", first["id"]), ("reopen", "alice@ws1", first["id"])]
    assert entries[0].before["triage_state"] == "open" and entries[0].after["triage_state"] == "acknowledged"


def test_a_whole_group_at_once(triage_store):
    groups = queue.groups(triage_store, states=["open"])
    biggest = max(groups, key=lambda g: g["items"])
    members = group_items(ctx(triage_store), biggest["signature"])
    assert len(members) == biggest["items"] > 1
    Acknowledge(ctx(triage_store)).run(members, "resolved_upstream", "Quest fixed the mapping")
    assert not group_items(ctx(triage_store), biggest["signature"])


def test_reasons_are_checked(triage_store):
    first = queue.items(triage_store)[0]
    with pytest.raises(CommandError, match="Choose a reason"):
        Acknowledge(ctx(triage_store)).run({first["id"]: None}, "because")
    with pytest.raises(CommandError, match="note is needed"):
        Acknowledge(ctx(triage_store)).run({first["id"]: None}, "other", "  ")


def test_a_stale_view_is_told_and_changes_nothing(triage_store):
    a, b = queue.items(triage_store, states=["open"])[:2]
    Assign(ctx(triage_store, "bob@ws2")).run({a["id"]: a["row_version"]}, "bob")
    with pytest.raises(ConflictError, match="changed by someone else by bob") as err:
        Acknowledge(ctx(triage_store)).run({b["id"]: b["row_version"], a["id"]: a["row_version"]}, "duplicate")
    assert err.value.current["owner"] == "bob"
    assert item(triage_store, b["id"])["triage_state"] == "open"  # the selection is all or nothing


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)  # a shared store is PostgreSQL
def test_two_consoles_on_one_postgresql_one_wins(triage_store, store_url):
    target = queue.items(triage_store, states=["open"])[0]
    consoles = [open_store(store_url), open_store(store_url)]  # two workstations: two engines, two sessions
    barrier, outcomes = threading.Barrier(2), []

    def act(store, who):
        barrier.wait()
        try:
            Acknowledge(ctx(store, who)).run({target["id"]: target["row_version"]}, "duplicate", f"by {who}")
            outcomes.append(("won", who))
        except ConflictError as exc:
            outcomes.append(("told", str(exc)))

    threads = [threading.Thread(target=act, args=(s, w)) for s, w in zip(consoles, ("alice@ws1", "bob@ws2"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for s in consoles:
        s.close()
    assert sorted(o[0] for o in outcomes) == ["told", "won"]
    winner = next(o[1] for o in outcomes if o[0] == "won")
    assert item(triage_store, target["id"])["note"] == f"by {winner}"
    with triage_store.read() as conn:
        assert audit.verify(conn) is None
        assert conn.execute(select(AuditEntry.actor)).scalars().all() == [winner]
