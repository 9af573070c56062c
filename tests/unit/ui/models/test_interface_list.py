from __future__ import annotations

from core.store import queries
from ui.models.interface_list import COL_COUNT, COL_NAME, COL_STATUS, ID_ROLE, InterfaceListModel


def test_sidebar_lists_interfaces_with_counts_and_status(qtmodeltester, big_store):
    rows = queries.interfaces_overview(big_store)
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
    assert model.index(quest_out, COL_STATUS).data().endswith("problems")  # the demo NAKs some lab orders
    assert model.index(quest_out, COL_NAME).data(ID_ROLE) == next(r["id"] for r in rows if r["name"] == "ECW → QUEST")
    model.set_rows(rows)  # a refresh with the same interfaces keeps the rows (and the selection)
    qtmodeltester.check(model)
