"""The row worker (a second process building rows a part ahead of the store) stores exactly
what reading in one process stores, and a worker killed in the middle of a file loses and
doubles nothing."""
import os
import signal

import pytest
from sqlalchemy import select

import core.ingest
import core.message_rows
from core.demo import write_logs
from core.ingest import Ingestor
from core.store.db import open_store
from core.store.models import Message, QueueItem, Source

ARRIVAL = {"received_at", "event_time"}  # the clock at ingest: differs between two runs for messages without MSH-7


def stored(store) -> tuple[list[dict], list[tuple]]:
    with store.read() as c:
        cols = [col for col in Message.__table__.columns if col.name not in ARRIVAL]
        messages = [r._asdict() for r in c.execute(select(*cols).order_by(Message.id))]
        # sorted here: the sweep for missing ACKs queues them in whatever order the engine reads them
        items = sorted(tuple(map(str, r)) for r in c.execute(select(QueueItem.kind, QueueItem.message_id, QueueItem.reason,
                                                          QueueItem.signature)))
    return messages, items


@pytest.fixture
def logs(tmp_path_factory):
    root = tmp_path_factory.mktemp("logs")
    write_logs(root, 4000, seed=3)  # includes an FHS/BHS batch and an XML file in errors/
    return root


@pytest.fixture
def small_parts(monkeypatch):
    """Every file goes to the worker, in parts of 64 KiB, so a file makes many parts."""
    monkeypatch.setattr(core.ingest, "WORKER_MIN_BYTES", 0)
    monkeypatch.setattr(core.message_rows, "CHUNK", 64 << 10)


def ingest(url, logs, **patch):
    store = open_store(url)
    ingestor = Ingestor(store)
    for name, value in patch.items():
        setattr(ingestor, name, value(ingestor))
    ingestor.ingest_paths([logs])
    return store, ingestor


def test_the_worker_stores_what_one_process_stores(store_url, logs, tmp_path, monkeypatch):
    monkeypatch.setattr(core.message_rows, "CHUNK", 64 << 10)
    here, _ = ingest(f"sqlite:///{tmp_path / 'here.db'}", logs)
    monkeypatch.setattr(core.ingest, "WORKER_MIN_BYTES", 0)
    there, ingestor = ingest(store_url, logs)
    assert ingestor._worker is not None and not ingestor._worker.alive  # it ran, and was stopped at the end
    ours, theirs = stored(here), stored(there)
    assert len(ours[0]) == ingestor.summary.messages >= 4000
    assert ours == theirs
    here.close()
    there.close()


def test_a_worker_killed_mid_file_loses_and_doubles_nothing(logs, tmp_path, small_parts):
    expected, _ = ingest(f"sqlite:///{tmp_path / 'whole.db'}", logs)
    parts = []

    def killing(ingestor):
        commit = ingestor._commit

        def commit_then_kill(*args, **kwargs):
            parts.append(1)
            if len(parts) == 3:
                os.kill(ingestor._worker._process.pid, signal.SIGKILL)
            return commit(*args, **kwargs)
        return commit_then_kill

    store, ingestor = ingest(f"sqlite:///{tmp_path / 'killed.db'}", logs, _commit=killing)
    assert not ingestor._worker.alive and len(parts) > 10
    assert stored(store) == stored(expected)
    with store.read() as c:
        assert all(s.offset == s.size for s in c.execute(select(Source.offset, Source.size)))
    store.close()
    expected.close()


def test_parts_are_bounded_by_count_as_well_as_bytes(tmp_path):
    """A file of minimal messages (MSH|^~\\&, 9 bytes each) must not make one part of 400,000
    rows: parts hold at most PART_MESSAGES, and each resumes exactly where the last ended."""
    from core.message_rows import PART_MESSAGES, read_parts

    path = tmp_path / "tiny.hl7"
    path.write_bytes(b"MSH|^~\\&\r" * 50_000)
    parts = list(read_parts(path, 0, True))
    assert max(len(p.entries) for p in parts) <= PART_MESSAGES and sum(len(p.entries) for p in parts) == 50_000
    position = 0
    for p in parts:
        assert p.entries[0][1] >= position and p.offset == position + p.used
        position = p.offset
    assert position == path.stat().st_size and parts[-1].at_end and not any(p.at_end for p in parts[:-1])
