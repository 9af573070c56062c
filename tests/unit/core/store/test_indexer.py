"""Staged ingest (issue 21): a bulk load stores rows with only stage one's indexes and leaves
text and the rest to the indexer; searches are complete at every moment; the indexer is
resumable and a kill at any point leaves a correct store that catches up next time."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

import core.ingest
from core.demo import FAILING, write_logs
from core.ingest import Ingestor
from core.store import indexer, messages, queue
from core.store.db import open_store
from tests.helpers.cli import run
from tests.helpers.stores import schema_drift

F = messages.MessageFilter
QUESTIONS = [F(text="GLUCOSE"), F(text="Required field missing"), F(text="mrn100042"), F(types=["ORU"]),
             F(ack_states=["missing"]), F(ack_states=["error"], types=["ORM"]), F(acks=True)]


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    root = tmp_path_factory.mktemp("logs")
    write_logs(root, 4000, seed=3, lanes=FAILING)
    return root


@pytest.fixture(scope="module")
def reference(logs, tmp_path_factory):
    """The same logs ingested as they always were: every index kept row by row."""
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('ref') / 's.db'}")
    Ingestor(store).ingest_paths([logs])
    yield store
    store.close()


@pytest.fixture
def bulk(monkeypatch, store_url, logs):
    """The logs loaded staged, on each engine."""
    monkeypatch.setattr(core.ingest, "BULK_BYTES", 0)
    store = open_store(store_url)
    summary = Ingestor(store).ingest_paths([logs])
    yield store, summary
    store.close()


def truth(store, reference) -> list:
    """What every search must answer: on SQLite the unstaged load's answers; on PostgreSQL,
    whose text search reads substrings where SQLite's FTS reads words, the answers of this
    store itself before anything was indexed (the same once caught up: nothing is unsearchable)."""
    return answers(reference) if store.dialect == "sqlite" else answers(store)


def url_of(store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def answers(store) -> list:
    key_ids = [r["id"] for r in messages.page(store, F(acks=False), limit=40)]
    with store.read() as conn:
        some = conn.exec_driver_sql("SELECT control_id, patient_id FROM messages WHERE patient_id IS NOT NULL "
                                    "ORDER BY id LIMIT 3").all()
    keyed = [F(control_id=c) for c, _ in some] + [F(patient_id=p) for _, p in some]
    return [key_ids, queue.count(store, queue.QueueFilter(states=["open"])),
            *([r["id"] for r in messages.page(store, q, limit=100)] for q in QUESTIONS + keyed),
            *(messages.count(store, q) for q in QUESTIONS)]


def test_a_bulk_load_is_complete_while_behind_and_the_same_once_caught_up(bulk, reference):
    store, summary = bulk
    with store.read() as conn:
        behind = indexer.behind(conn)
    assert behind.text == summary.messages and set(behind.indexes) == {i.name for i in indexer.deferrable()}
    assert "indexing:" in behind.words()
    expected = truth(store, reference)
    assert answers(store) == expected  # the queue complete and every search answered, indexes or not
    told = []
    assert indexer.catch_up(store, batch=500, told=told.append).caught_up
    assert [t.text for t in told[:3]] == [summary.messages - 500, summary.messages - 1000, summary.messages - 1500]
    assert answers(store) == expected
    with store.engine.connect() as conn:  # the store is as the migrations make it: nothing missing, nothing extra
        assert schema_drift(conn) == []


def test_a_small_load_is_not_staged(store, tmp_path):
    write_logs(tmp_path / "few", 200, seed=4)
    Ingestor(store).ingest_paths([tmp_path / "few"])
    with store.read() as conn:
        assert indexer.behind(conn).caught_up


def test_the_indexer_killed_at_any_point_leaves_a_correct_store_that_catches_up(bulk, reference, tmp_path):
    store, summary = bulk
    expected = truth(store, reference)
    script = ("import sys; from core.store.db import open_store; from core.store import indexer\n"
              "indexer.catch_up(open_store(sys.argv[1]), batch=150, told=lambda b: print(b.text, len(b.indexes), flush=True))\n")
    url = url_of(store)
    for wait_lines in (3, 30):  # in the middle of the text, then among the indexes
        with subprocess.Popen([sys.executable, "-c", script, url], stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, PYTHONPATH=os.getcwd())) as proc:
            for _ in range(wait_lines):
                if not proc.stdout.readline():
                    break
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        with store.read() as conn:
            if store.dialect == "sqlite":
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
            assert not indexer.behind(conn).caught_up, "the kill must land before the indexer is done"
        assert answers(store) == expected
    assert indexer.catch_up(store).caught_up and answers(store) == expected
    with store.read() as conn:
        assert not invalid_indexes(conn)


def invalid_indexes(conn) -> list[str]:
    if conn.dialect.name != "postgresql":
        return []
    return list(conn.exec_driver_sql("SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid").scalars())


@pytest.mark.postgres
def test_an_index_build_killed_half_way_on_postgresql_counts_as_missing_and_is_built_again(monkeypatch, logs):
    """What CREATE INDEX CONCURRENTLY leaves when it is killed (or fails): an index PostgreSQL
    marks invalid and never uses. Made here the way PostgreSQL itself makes one: a concurrent
    unique build that meets duplicates."""
    from tests.conftest import fresh_postgres_database

    with fresh_postgres_database() as url:
        monkeypatch.setattr(core.ingest, "BULK_BYTES", 0)
        store = open_store(url)
        try:
            Ingestor(store).ingest_paths([logs])
            with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                with pytest.raises(Exception, match="could not create unique index"):
                    conn.exec_driver_sql("CREATE UNIQUE INDEX CONCURRENTLY ix_messages_type ON messages (message_type)")
                assert invalid_indexes(conn) == ["ix_messages_type"]
            with store.read() as conn:
                assert "ix_messages_type" in indexer.behind(conn).indexes
            assert indexer.catch_up(store).caught_up
            with store.read() as conn:
                assert not invalid_indexes(conn)
                assert conn.exec_driver_sql("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_messages_type'")\
                    .scalar_one().startswith("CREATE INDEX ix_messages_type ON public.messages")
        finally:
            store.close()


def test_status_says_how_far_behind_and_index_catches_up(bulk, capsys):
    store, summary = bulk
    url = url_of(store)
    code, out, _ = run(capsys, url, "status")
    assert code == 0 and f"indexing: {summary.messages:,} messages' text to index" in out and "lanewatch index" in out
    t0 = time.monotonic()
    code, _, err = run(capsys, url, "index")
    assert code == 0 and "indexes up to date" in err and time.monotonic() - t0 < 60
    code, out, _ = run(capsys, url, "status", "--json")
    assert code == 0 and '"text_to_index": 0, "indexes_to_build": []' in out


def test_only_what_is_still_to_read_is_staged_and_live_traffic_after_is_indexed_as_it_comes(bulk, logs, tmp_path):
    store, _ = bulk
    indexer.catch_up(store)
    again = Ingestor(store)
    again.ingest_paths([logs])  # read already: nothing to stage, no index dropped
    with store.read() as conn:
        assert indexer.behind(conn).caught_up
    more = tmp_path / "live"
    write_logs(more, 50, seed=9)
    again.ingest_paths([more])  # BULK_BYTES is 0 here: staged, then the ingestor is back to live work
    assert not again.bulk
    indexer.catch_up(store)
    late = next(more.rglob("*.hl7"))
    with open(late, "ab") as f:
        f.write(b"MSH|^~\\&|LATE|X|Y|Z|20261201||ADT^A08|LATE42|P|2.5\r\n")
    from core.sources.discover import Found
    assert again.ingest_file(Found(late, more), final=True) == 1
    with store.read() as conn:
        assert indexer.behind(conn).text == 0
    assert messages.count(store, F(text="LATE42")) == 1
