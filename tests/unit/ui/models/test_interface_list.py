from __future__ import annotations

from core.store import interfaces, queue
from ui.models.interface_list import COL_COUNT, COL_NAME, COL_STATUS, ID_ROLE, InterfaceListModel


def test_sidebar_lists_interfaces_with_counts_and_status(qtmodeltester, big_store):
    rows = interfaces.overview(big_store)
    model = InterfaceListModel()
    model.set_rows(rows)
    qtmodeltester.check(model)
    assert model.rowCount() == len(rows) + 1 == 9  # "All traffic" and the demo's eight lanes
    assert model.index(0, COL_NAME).data() == "All traffic"
    assert model.index(0, COL_COUNT).data() == f"{sum(r['messages'] for r in rows):,}"
    names = {model.index(i, COL_NAME).data() for i in range(1, model.rowCount())}
    assert "QUEST → ECW" in names and "ECW → QUEST" in names
    directions = {r["name"]: r["direction"] for r in rows}
    assert directions["QUEST → ECW"] == "inbound" and directions["ECW → QUEST"] == "outbound"
    quest_out = next(i for i in range(1, model.rowCount()) if model.index(i, COL_NAME).data() == "ECW → QUEST")
    open_items = next(r["problems"] for r in rows if r["name"] == "ECW → QUEST")
    assert open_items and model.index(quest_out, COL_STATUS).data() == f"{open_items:,} open"  # the demo NAKs lab orders
    assert model.index(quest_out, COL_NAME).data(ID_ROLE) == next(r["id"] for r in rows if r["name"] == "ECW → QUEST")
    model.set_rows(rows)  # a refresh with the same interfaces keeps the rows (and the selection)
    qtmodeltester.check(model)


def test_badges_count_open_items_and_drop_as_they_are_acknowledged(small_store):
    from core.commands.context import Context
    from core.commands.triage import Acknowledge
    from core.store.queue import QueueFilter

    before = {r["id"]: r for r in interfaces.overview(small_store)}
    iface = max(before, key=lambda i: before[i]["problems"])
    items = queue.items(small_store, QueueFilter(states=["open"], interface_id=iface))
    assert before[iface]["problems"] == len(items) and before[iface]["status"] == "high"
    Acknowledge(Context(small_store, actor="a@b")).run({i["id"]: None for i in items[:-1]}, "duplicate")
    after = {r["id"]: r for r in interfaces.overview(small_store)}[iface]
    assert after["problems"] == 1 and after["status"] == "warn"
    assert after["messages"] + after["acks"] == before[iface]["messages"] + before[iface]["acks"]
