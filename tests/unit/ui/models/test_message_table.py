"""The message table over a store of 100,000 generated messages: paging, filters, staleness."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from core.privacy import MASK
from core.store import messages
from core.store.messages import MessageFilter
from tests.helpers.stores import demo_store, settle_workers
from ui.models.message_table import COL_ACK, COL_PATIENT, COL_TIME, MessageTableModel

PAGE = 500


def loaded(qtbot, model: MessageTableModel, flt: MessageFilter | None = None) -> MessageTableModel:
    if flt is not None:
        model.set_filter(flt)
    qtbot.waitUntil(lambda: not model.loading, timeout=20_000)
    return model


@pytest.fixture
def model(qtbot, big_store):
    m = MessageTableModel(big_store, page=PAGE)
    m.reload()
    return loaded(qtbot, m)


def test_model_passes_qtmodeltester(qtmodeltester, model):
    assert model.rowCount() == PAGE
    qtmodeltester.check(model)


def test_first_page_is_the_newest_and_the_store_is_not_loaded(model, big_store):
    with big_store.read() as c:
        newest = c.execute(text("SELECT id FROM messages ORDER BY event_time DESC, id DESC LIMIT 500")).scalars().all()
    assert [r["id"] for r in model.rows] == newest
    assert model.canFetchMore()  # 99,500 more are in the store, not in memory
    assert "raw" not in model.rows[0]


def test_fetch_more_continues_in_time_order_without_gap_or_overlap(qtbot, model, big_store):
    for _ in range(3):
        model.fetchMore()
        loaded(qtbot, model)
    assert model.rowCount() == 4 * PAGE
    keys = [(r["event_time"], r["id"]) for r in model.rows]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)
    with big_store.read() as c:
        expected = c.execute(text("SELECT id FROM messages ORDER BY event_time DESC, id DESC LIMIT 2000")).scalars().all()
    assert [r["id"] for r in model.rows] == expected
    assert model.index(0, COL_TIME).data() >= model.index(1999, COL_TIME).data()


def sample(big_store, column: str) -> str:
    with big_store.read() as c:
        return c.execute(text(f"SELECT {column} FROM messages WHERE {column} IS NOT NULL ORDER BY id LIMIT 1 OFFSET 5000")).scalar_one()


@pytest.mark.parametrize("case", ["type", "ack_state", "parse_state", "control_id", "patient_id", "text", "interface", "time"])
def test_filters(qtbot, model, big_store, case):
    newest = model.rows[0]["event_time"]
    flt, check = {
        "type": (MessageFilter(types=["ORU"]), lambda r: r["message_type"].startswith("ORU^")),
        "ack_state": (MessageFilter(ack_states=["error", "rejected"]), lambda r: r["ack_state"] in ("error", "rejected")),
        "parse_state": (MessageFilter(parse_states=["unparseable"]), lambda r: r["parse_state"] == "unparseable"),
        "control_id": (MessageFilter(control_id=sample(big_store, "control_id")), None),
        "patient_id": (MessageFilter(patient_id=sample(big_store, "patient_id")), None),
        "text": (MessageFilter(text="Receiving database unavailable"), lambda r: r["is_ack"] and r["ack_code"] == "AR"),
        "interface": (MessageFilter(interface_id=3), lambda r: r["interface_id"] == 3),
        "time": (MessageFilter(since=newest - timedelta(hours=1)), lambda r: r["event_time"] >= newest - timedelta(hours=1)),
    }[case]
    loaded(qtbot, model, flt)
    assert model.rowCount() > 0
    if flt.control_id:
        check = lambda r: r["control_id"] == flt.control_id  # noqa: E731
    if flt.patient_id:
        check = lambda r: r["patient_id"] == flt.patient_id  # noqa: E731
    assert all(check(r) for r in model.rows)
    assert model.rowCount() == min(PAGE, messages.count(big_store, flt))


def test_a_stale_page_is_dropped(qtbot, model):
    model.set_filter(MessageFilter(text="GLUCOSE"))  # in flight...
    model.set_filter(MessageFilter(types=["SIU"]))  # ...overtaken
    loaded(qtbot, model)
    qtbot.wait(200)  # let any late page land
    assert model.rows and all(r["message_type"].startswith("SIU") for r in model.rows)
    token = model._generation.value
    model._page_arrived(token - 1, [dict(model.rows[0], id=-1)])  # a result for the old filter
    assert all(r["id"] != -1 for r in model.rows)


def test_privacy_masks_the_patient_column(model):
    row = next(i for i, r in enumerate(model.rows) if r["patient_id"])
    assert model.index(row, COL_PATIENT).data().startswith(model.rows[row]["patient_id"])
    model.set_privacy(True)
    assert model.index(row, COL_PATIENT).data() == MASK
    assert model.index(row, COL_ACK).data()  # other columns stay


@pytest.mark.parametrize("page", [200])
def test_paging_and_live_rows_on_both_engines(qtbot, store_url, tmp_path, page):
    from core.ingest import Ingestor

    store = demo_store(store_url, tmp_path, 1500)
    try:
        m = loaded(qtbot, MessageTableModel(store, page=page))
        m.reload()
        loaded(qtbot, m)
        while m.canFetchMore():
            m.fetchMore()
            loaded(qtbot, m)
        assert m.rowCount() == messages.count(store)
        keys = [(r["event_time"], r["id"]) for r in m.rows]
        assert keys == sorted(keys, reverse=True)
        newest = m.rows[0]["event_time"] + timedelta(minutes=5)
        live = (f"MSH|^~\\&|QUEST|QUEST_LAB|ECW|NORTHSIDE_FM|{newest:%Y%m%d%H%M%S}||ORU^R01|LIVE1|P|2.5.1\r"
                "PID|1||MRN555^^^NORTHSIDE^MR||LIVE^ONE\r").encode()
        Ingestor(store).ingest_messages("live tap", [live], transport="mllp", peer="127.0.0.1")
        m.poll_new()
        qtbot.waitUntil(lambda: m.rows[0]["control_id"] == "LIVE1", timeout=10_000)
    finally:
        settle_workers()
        store.close()
