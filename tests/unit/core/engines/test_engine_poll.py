"""Polling an engine into the store (SQLite and PostgreSQL): everything once, resumable from
the cursor after a stop or a failure with no duplicate and no gap, the engine's statuses as
queue items in its words, and polite to it."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from core.commands.context import Context
from core.commands.engines import PollEngines
from core.engines.client import EngineClient
from core.engines.loopback import Channel, Destination, LoopbackEngine, Made, ack, adt, demo_channels
from core.sources.engine import Poller
from core.store import engines, messages, queue
from core.vocabulary import AckState, ParseState, QueueKind, TriageState
from tests.helpers.engines import PASSWORD, add_engine, stored_keys

LAB = "5f1c8a7e-0002-4c2a-9d6e-1a2b3c4d5e02"


def expected_keys(server: LoopbackEngine) -> list[tuple]:
    """What a full read of the loopback engine must store: each content once."""
    from core.engines import mapping
    from core.engines.loopback import message_xml
    from core.engines.xstream import messages as read

    out = []
    for c in server.channels.values():
        for i in c.ids(1, c.top):
            [m] = read(message_xml(c, i, c.get(i)).encode())
            out += [(c.channel_id, e.engine_message_id, e.meta_data_id, e.role) for e in mapping.entries(m, c.name, c.data_type)]
    return sorted(out)


@pytest.fixture
def server():
    with LoopbackEngine(demo_channels()) as s:
        yield s


def test_a_poll_stores_every_content_once_and_a_second_adds_nothing(store, server):
    add_engine(store, server, page_size=40)
    [first] = PollEngines(Context(store)).run()
    assert first.problem is None and first.stored == len(expected_keys(server))
    assert stored_keys(store) == expected_keys(server)
    [again] = PollEngines(Context(store)).run()
    assert again.stored == 0 and stored_keys(store) == expected_keys(server)
    lab = next(c for c in engines.channels(store) if c["channel_id"] == LAB)
    assert (lab["state"], lab["received"], lab["errored"], lab["queued"], lab["cursor"]) == ("STARTED", 300, 19, 3, 300)


def test_contents_are_mapped_paired_and_kept_byte_for_byte(store, server):
    add_engine(store, server)
    PollEngines(Context(store)).run()
    found = {r["role"]: r for r in _contents(store, LAB, 7)}
    assert set(found) == {"received", "sent", "response"}
    raw = server.channels[LAB].get(7).received.encode()
    assert messages.get(store, found["received"]["id"])["raw"] == raw  # CRs and all, as the engine gave them
    sent = messages.get(store, found["sent"]["id"])
    assert sent["ack_state"] == AckState.ACCEPTED and sent["ack_id"] == found["response"]["id"]
    assert sent["duplicate_of"] is None  # a destination sending what its source received is no duplicate
    assert messages.get(store, found["received"]["id"])["ack_state"] == AckState.NOT_EXPECTED
    xml = _contents(store, "5f1c8a7e-0004-4c2a-9d6e-1a2b3c4d5e04", 3)[0]
    assert xml["parse_state"] == ParseState.TEXT and xml["reason"] == "XML content, kept as text"
    channel = engines.by_interface(store)[sent["interface_id"]]
    assert channel["channel_id"] == LAB  # the channel is the interface, whatever the MSH says


def _contents(store, channel_uuid: str, engine_message_id: int) -> list[dict]:
    rows = []
    for r in messages.every(store, messages.MessageFilter(channel=channel_uuid, engine_message_id=engine_message_id)):
        keys = engines.engine_keys(store, r["id"])
        rows.append({**r, "role": keys["role"]})
    return rows


def test_the_engines_statuses_become_items_in_its_words(store, server):
    add_engine(store, server)
    PollEngines(Context(store)).run()
    groups = {g["signature"]: g["items"] for g in queue.groups(store, states=[TriageState.OPEN])}
    lab = "ECW lab orders to Quest → Quest LLP"
    assert groups[f"engine_error | {lab} | java.net.ConnectException: Connection refused (Connection refused)"] == 7
    assert groups[f"engine_error | {lab} | Error evaluating transformer"] == 3
    assert groups[f"engine_error | {lab} | Timeout waiting for response"] == 4
    assert groups[f"engine_queued | {lab}"] == 3
    assert groups["engine_filtered | Immunizations to state IIS"] == 24
    assert groups["nak_error | ECW → QUEST | 207: Application internal error"] == 5  # the receiver's NAK, paired
    item = queue.items(store, kinds=[QueueKind.ENGINE_ERROR], limit=50)
    refused = next(i for i in item if "Connection refused" in i["reason"])
    assert refused["reason"].startswith(f"{lab}: the engine reports an error: java.net.ConnectException")
    assert "TcpDispatcher.send" in refused["reason"]  # the engine's whole text, not a summary of it


def test_a_stopped_poll_resumes_at_its_cursor_with_no_gap_and_no_duplicate(store, server):
    engine = add_engine(store, server, page_size=25)
    with EngineClient(server.url, "admin", PASSWORD, rate=0) as client:
        partial = Poller(store, engine, client, max_windows=3).run()
        assert 0 < partial.stored < len(expected_keys(server))
        assert {c.cursor for c in partial.channels} == {40, 75}  # the small channel is done; the others stopped at a window
        server.fail_next("500")  # the next poll fails at once: nothing of it is stored, the cursors stay
        failed = Poller(store, engine, client).run()
        assert "HTTP 500" in failed.problem and stored_keys(store) == sorted(set(stored_keys(store)))
        Poller(store, engine, client).run()
    assert stored_keys(store) == expected_keys(server)


def test_a_failure_mid_poll_is_said_and_loses_nothing(store, server):
    add_engine(store, server, page_size=30)
    with EngineClient(server.url, "admin", PASSWORD, rate=0) as client:
        server.fail_next(*[None] * 6, "reset")
        result = Poller(store, engines.get(store, "mirth"), client).run()
    problems = [c.problem for c in result.channels if c.problem]
    assert problems and "cannot be reached" in problems[0]
    assert "cannot be reached" in engines.get(store, "mirth")["problem"]
    PollEngines(Context(store)).run()
    assert stored_keys(store) == expected_keys(server)
    assert engines.get(store, "mirth")["problem"] is None


def test_a_pruned_stretch_is_stepped_over(store):
    channel = demo_channels()[0]
    channel.pruned_below = 301  # the data pruner took 1..300
    with LoopbackEngine([channel]) as server:
        add_engine(store, server, page_size=20)
        [r] = PollEngines(Context(store)).run()
        assert r.channels[0].cursor == 400 and r.stored == 100 * 3
        assert r.requests < 20  # one count and one probe to step over the gap, not fifteen empty windows


def test_a_message_still_processing_holds_the_cursor(store):
    busy = {"id": 5}

    def make(c: Channel, i: int) -> Made:
        at = datetime(2026, 12, 1, 9, 0) + timedelta(seconds=i)
        raw = adt(i, at)
        return Made(raw, "HL7V2", at, [Destination(1, "ECW", "SENT", raw, ack(raw))], processed=i != busy["id"])

    channel = Channel("11111111-2222-3333-4444-555555555555", "ADT", {1: "ECW"}, 12, make)
    with LoopbackEngine([channel]) as server:
        add_engine(store, server)
        ctx = Context(store, now=lambda: datetime(2026, 12, 1, 9, 1))  # a minute after: still within the grace
        [r] = PollEngines(ctx).run()
        assert r.channels[0].cursor == 4 and r.channels[0].messages == 4
        busy["id"] = None
        [r] = PollEngines(ctx).run()
        assert r.channels[0].cursor == 12 and r.channels[0].messages == 8
        assert stored_keys(store) == expected_keys(server)


def test_queued_messages_are_cleared_when_the_engine_delivers_them(store):
    status = {"now": "QUEUED"}

    def make(c: Channel, i: int) -> Made:
        at = datetime(2026, 12, 1, 9, 0) + timedelta(seconds=i)
        raw = adt(i, at)
        answer = ack(raw) if status["now"] == "SENT" or i != 3 else None
        return Made(raw, "HL7V2", at, [Destination(1, "ECW", status["now"] if i == 3 else "SENT", raw, answer)])

    with LoopbackEngine([Channel("11111111-2222-3333-4444-555555555556", "ADT", {1: "ECW"}, 5, make)]) as server:
        add_engine(store, server)
        PollEngines(Context(store)).run()
        [item] = queue.items(store, kinds=[QueueKind.ENGINE_QUEUED])
        assert item["triage_state"] == TriageState.OPEN
        status["now"] = "SENT"
        [r] = PollEngines(Context(store)).run()
        assert r.channels[0].resolved == 1
        [item] = queue.items(store, kinds=[QueueKind.ENGINE_QUEUED])
        assert item["triage_state"] == TriageState.RESOLVED and item["note"] == "the engine reports it SENT now"
        assert stored_keys(store) == expected_keys(server)  # its answer is stored now too


def test_two_pollers_of_one_store_store_each_content_once(store, server):
    add_engine(store, server, page_size=20)
    results = []
    threads = [threading.Thread(target=lambda: results.append(PollEngines(Context(store)).run())) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stored_keys(store) == expected_keys(server)


def test_a_read_that_opens_content_is_audited_and_no_secret_is_kept(store, server):
    from core.store import audit

    add_engine(store, server)
    PollEngines(Context(store)).run()
    reads = audit.page(store, action="read_engine")
    assert reads and all(e["after"]["engine"] == "mirth" for e in reads)
    assert sum(e["after"]["contents"] for e in reads) == len(expected_keys(server))
    text = _everything(store)
    assert PASSWORD not in text and not any(s in text for s in server.sessions)


def _everything(store) -> str:
    """Every value in every table, as text."""
    from sqlalchemy import MetaData, select

    meta = MetaData()
    out = []
    with store.read() as conn:
        meta.reflect(conn)
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                out += [v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in row]
    return "\n".join(out)


def test_a_long_backlog_is_read_in_a_second_process_with_the_same_result(store, server, monkeypatch):
    import core.sources.engine as engine_source

    monkeypatch.setattr(engine_source, "WORKER_MIN_MESSAGES", 1)
    engine = add_engine(store, server, page_size=40)
    with EngineClient(server.url, "admin", PASSWORD, rate=0) as client:
        poller = Poller(store, engine, client)
        result = poller.run()
    assert result.problem is None and poller.rows.read_there > 5
    assert stored_keys(store) == expected_keys(server)


def test_a_row_process_that_dies_mid_poll_costs_nothing(store, server, monkeypatch):
    import core.sources.engine as engine_source
    from core.sources.engine_windows import RowProcess

    class Dying(RowProcess):
        calls, killed = 0, False

        def read(self, body, channel, data_type):
            self.calls += 1
            if self.read_there >= 2 and not self.killed:  # killed as a window is handed over: read here instead
                self.killed = True
                for p in list(self._pool._processes.values()):
                    p.kill()
                    p.join()
            return super().read(body, channel, data_type)

    monkeypatch.setattr(engine_source, "WORKER_MIN_MESSAGES", 1)
    engine = add_engine(store, server, page_size=20)
    with EngineClient(server.url, "admin", PASSWORD, rate=0) as client:
        poller = Poller(store, engine, client)
        poller.rows = Dying()
        result = poller.run()
    assert result.problem is None and poller.rows.killed and 2 <= poller.rows.read_there < 10 < poller.rows.calls
    assert stored_keys(store) == expected_keys(server)


def test_the_board_counts_a_channels_messages_once_not_their_sent_copies(store):
    from core.store.flows import board

    end = datetime(2026, 12, 1, 23, 0)  # every channel's traffic within that day
    with LoopbackEngine(demo_channels(end=end)) as server:
        add_engine(store, server)
        PollEngines(Context(store)).run()
    rows = {r["interface"]: r for r in board(store, end)}
    adt = next(r for name, r in rows.items() if name.startswith("ADT from Mercy Hospital"))
    assert adt["today"] == 400  # not 800: each message's sent copy is the same message going on
    lab = next(r for name, r in rows.items() if name.startswith("ECW lab orders to Quest"))
    assert lab["today"] == 300 and lab["error_rate"] > 0  # its destinations' NAKs still count against it
