"""The listening tap against a real peer (python-hl7's MLLP client) and misbehaving ones."""
from __future__ import annotations

import socket
import threading
import time

import hl7.client
import pytest

from core.store import messages
from core.store.messages import MessageFilter
from tests.helpers.tap import MSG, Tap, send


@pytest.fixture
def tap(store):
    t = Tap(store)
    yield t
    t.stop()


def test_python_hl7_client_gets_an_aa_after_the_message_is_journalled_then_stored(tap, store):
    answer = send(tap.port, MSG.format(cid="C1"))
    assert "MSA|AA|C1" in answer
    tap.stored()
    [row] = messages.page(store, MessageFilter(control_id="C1", acks=False))
    assert row["transport"] == "mllp" and row["peer"] == "127.0.0.1" and row["ack_state"] == "accepted"
    assert messages.get(store, row["id"])["raw"] == MSG.format(cid="C1").encode()  # byte-exact


@pytest.mark.parametrize("mode", ["AE", "AR"])
def test_configured_naks_for_testing(store, mode):
    tap = Tap(store, ack_mode=mode)
    try:
        assert f"MSA|{mode}|C2" in send(tap.port, MSG.format(cid="C2"))
    finally:
        tap.stop()
    [row] = messages.page(store, MessageFilter(control_id="C2", acks=False))
    assert row["ack_state"] == {"AE": "error", "AR": "rejected"}[mode]


def test_bad_peers_never_block_the_others(store):
    tap = Tap(store, idle_timeout=1.0, max_size=4096)
    try:
        stalled = socket.create_connection(("127.0.0.1", tap.port))
        stalled.sendall(b"\x0bMSH|^~\\&|HALF")  # half a frame, then silence
        junk = socket.create_connection(("127.0.0.1", tap.port))
        junk.sendall(b"garbage before a frame\x0b" + MSG.format(cid="J1").encode() + b"\x1c\x0d")
        assert b"MSA|AA|J1" in junk.recv(4096)
        huge = socket.create_connection(("127.0.0.1", tap.port))
        huge.sendall(b"\x0b" + b"X" * 10_000)
        t0 = time.monotonic()
        assert "MSA|AA|C3" in send(tap.port, MSG.format(cid="C3"))  # while the others misbehave
        assert time.monotonic() - t0 < 1.0
        assert huge.recv(10) == b""  # refused and closed
        time.sleep(1.3)
        assert stalled.recv(10) == b""  # dropped after the idle timeout
        for s in (stalled, junk, huge):
            s.close()
        problems = "\n".join(tap.listener.stats.problems)
        assert "outside any MLLP frame" in problems and "limit" in problems and "no complete frame" in problems
    finally:
        tap.stop()
    assert {r["control_id"] for r in messages.page(store, MessageFilter(acks=False))} == {"J1", "C3"}


def test_many_peers_at_once_are_all_stored_once(tap, store):
    def peer(n):
        with hl7.client.MLLPClient("127.0.0.1", tap.port) as client:
            for i in range(25):
                assert b"MSA|AA" in client.send_message(MSG.format(cid=f"P{n}-{i}"))

    threads = [threading.Thread(target=peer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    tap.stored()
    rows = messages.page(store, MessageFilter(acks=False), limit=1000)
    assert len(rows) == 150 == len({r["control_id"] for r in rows})
    assert all(r["ack_state"] == "accepted" for r in rows)
