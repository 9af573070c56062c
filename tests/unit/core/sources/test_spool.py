"""The tap's journal: durable before the ACK, torn tails cut, resumed after a real kill."""
from __future__ import annotations

import os
import signal
import threading
import time

import hl7.client
from sqlalchemy import func, select

from core.sources import spool
from core.sources.spool import Spool
from core.store.models import Message
from tests.helpers.tap import MSG, Tap, listen_process


def test_records_come_back_with_their_positions_and_peers(tmp_path):
    j = Spool(tmp_path, "mllp://127.0.0.1:2575", consumed=0)
    j.append([("10.0.0.1", b"one"), ("10.0.0.2", b"two\rlines")])
    j.append([("10.0.0.1", b"three")])
    records = j.read(0, 10)
    assert [(r.peer, r.raw) for r in records] == [("10.0.0.1", b"one"), ("10.0.0.2", b"two\rlines"), ("10.0.0.1", b"three")]
    assert records[-1].end == j.end
    assert [r.raw for r in j.read(records[0].end, 1)] == [b"two\rlines"]  # from a position, up to a limit
    j.close()


def test_a_torn_tail_is_cut_off_and_writing_carries_on(tmp_path):
    j = Spool(tmp_path, "tap", consumed=0)
    j.append([("p", b"kept")])
    good_end = j.end
    j.close()
    [path] = tmp_path.glob("tap.*.spool")
    with open(path, "ab") as f:  # a crash in the middle of the next write: half a record
        f.write(spool.HEADER.pack(spool.MAGIC, 0, 100, 1) + b"p" + b"half")
    j = Spool(tmp_path, "tap", consumed=0)
    assert j.end == good_end and path.stat().st_size == good_end
    j.append([("p", b"next")])
    assert [r.raw for r in j.read(0, 10)] == [b"kept", b"next"]
    j.close()


def test_a_corrupt_record_ends_what_is_read(tmp_path):
    j = Spool(tmp_path, "tap", consumed=0)
    j.append([("p", b"first"), ("p", b"second")])
    j.close()
    [path] = tmp_path.glob("tap.*.spool")
    data = bytearray(path.read_bytes())
    data[-2] ^= 0xFF  # a flipped bit in the second record's bytes
    path.write_bytes(bytes(data))
    j = Spool(tmp_path, "tap", consumed=0)
    assert [r.raw for r in j.read(0, 10)] == [b"first"]  # and the bad record is cut off, so writing carries on
    j.close()


def test_files_rotate_and_ingested_ones_are_deleted(tmp_path, monkeypatch):
    monkeypatch.setattr(spool, "ROTATE_BYTES", 50)  # every append starts a new file
    j = Spool(tmp_path, "tap", consumed=0)
    for i in range(10):
        j.append([("p", b"x" * 60 + str(i).encode())])
    assert len(list(tmp_path.glob("tap.*.spool"))) == 11  # the last one empty, being written
    records = j.read(0, 100)
    assert [r.raw[-1:] for r in records] == [str(i).encode() for i in range(10)]  # across files, in order
    j.prune(records[6].end)
    assert [r.raw[-1:] for r in j.read(records[6].end, 100)] == [b"7", b"8", b"9"]
    assert len(list(tmp_path.glob("tap.*.spool"))) == 4
    j.close()


def test_the_tap_answers_while_the_store_is_down_and_stores_once_it_is_back(store, tmp_path, monkeypatch):
    tap = Tap(store, spool_folder=tmp_path, loader_process=False)  # the outage is planted in this process
    try:
        from core.sources import tap_loader

        real = tap_loader.receive
        failing = {"left": 2}

        def flaky(*a, **kw):
            if failing["left"]:
                failing["left"] -= 1
                raise ConnectionError("the store is down")
            return real(*a, **kw)

        monkeypatch.setattr(tap_loader, "receive", flaky)
        monkeypatch.setattr("core.sources.listener.RETRY_S", 0.1)
        with hl7.client.MLLPClient("127.0.0.1", tap.port) as c:
            for i in range(5):
                assert b"MSA|AA" in c.send_message(MSG.format(cid=f"D{i}"))
        tap.stored()
        assert any("could not store received messages, will retry: ConnectionError" in p for p in tap.listener.stats.problems)
    finally:
        tap.stop()
    with store.read() as c:
        ids = c.execute(select(Message.control_id).where(Message.is_ack.is_(False))).scalars().all()
    assert sorted(ids) == [f"D{i}" for i in range(5)]


def test_every_acknowledged_message_survives_a_real_kill_once(store_url, store):
    proc, port = listen_process(store_url)
    acked = []
    try:
        sender_done = threading.Event()

        def kill_mid_traffic():
            while len(acked) < 300 and proc.poll() is None and not sender_done.is_set():
                time.sleep(0.001)
            proc.send_signal(signal.SIGKILL)  # while the sender keeps sending

        killer = threading.Thread(target=kill_mid_traffic)
        killer.start()
        with hl7.client.MLLPClient("127.0.0.1", port) as c:
            for i in range(100_000):
                try:
                    answer = c.send_message(MSG.format(cid=f"K{i}"))
                except OSError:
                    break
                if not answer:
                    break
                acked.append(f"K{i}")
        sender_done.set()  # a sender that stopped early must not leave the killer waiting
        killer.join(10)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()  # closes its stderr
    assert len(acked) >= 300
    tap = Tap(store, name=f"mllp://127.0.0.1:{port}", spool_folder=spool.folder_for(store))  # the next run, same tap
    tap.stored()
    tap.stop()
    with store.read() as c:
        ids = c.execute(select(Message.control_id).where(Message.is_ack.is_(False))).scalars().all()
        acks = c.execute(select(func.count()).select_from(Message).where(Message.is_ack)).scalar_one()
    assert set(acked) <= set(ids) and len(ids) == len(set(ids))  # nothing acknowledged lost, nothing twice
    assert acks >= len(acked)


def test_reads_go_a_bounded_piece_at_a_time_and_across_pieces(tmp_path, monkeypatch):
    monkeypatch.setattr(spool, "READ_BYTES", 64)  # records straddle every piece
    j = Spool(tmp_path, "tap", consumed=0)
    j.append([("p", bytes([65 + i]) * (10 + 7 * i)) for i in range(12)])
    records = j.read(0, 5)
    assert [len(r.raw) for r in records] == [10 + 7 * i for i in range(5)]
    assert [r.raw[:1] for r in j.read(records[-1].end, 100)] == [bytes([65 + i]) for i in range(5, 12)]
    j.close()


def test_a_killed_store_process_is_replaced_and_nothing_is_lost_or_doubled(store, monkeypatch):
    """The tap's loader runs in a process of its own; killed mid-traffic (between or inside a
    transaction), the tap says so, starts another, and it resumes from the store's offset."""
    monkeypatch.setattr("core.sources.listener.RETRY_S", 0.1)
    tap = Tap(store)
    try:
        assert tap.listener.loader_process
        with hl7.client.MLLPClient("127.0.0.1", tap.port) as c:
            for i in range(600):
                assert b"MSA|AA" in c.send_message(MSG.format(cid=f"L{i}"))
                if i in (150, 400):
                    os.kill(tap.listener.loader._process.pid, signal.SIGKILL)
        tap.stored()
        said = tap.listener.stats.problems  # killed mid-load, or while idle: said either way
        assert any("the store process ended" in p or "the store process had ended" in p for p in said)
    finally:
        tap.stop()
    with store.read() as c:
        ids = c.execute(select(Message.control_id).where(Message.is_ack.is_(False))).scalars().all()
        acks = c.execute(select(func.count()).select_from(Message).where(Message.is_ack)).scalar_one()
    assert sorted(ids) == sorted(f"L{i}" for i in range(600)) and acks == 600
