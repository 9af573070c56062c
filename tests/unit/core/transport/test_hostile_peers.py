"""Hostile peers cannot take the tap down: parked huge frames, slowloris senders, too many
connections, junk frames, a full journal, and SIGTERM. Real sockets on loopback."""
from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import time

import pytest
from sqlalchemy import func, select

from core.sources import spool
from core.store.models import Message
from core.transport.mllp import END, SB, FrameReader, MllpError, Server
from tests.helpers.tap import MSG, Tap, listen_process, send


def test_a_15_mb_frame_is_assembled_in_linear_time():
    body = b"MSH|^~\\&|A|B|C|D|2026||ORU^R01|1|P|2.5\rOBX|1|ED|PDF||" + b"A" * (15 << 20) + b"\r"

    async def run() -> tuple[bytes, float]:
        reader = asyncio.StreamReader(limit=1 << 30)
        for i in range(0, len(body), 4096):  # as a socket delivers it: a few KiB at a time
            reader.feed_data((SB if i == 0 else b"") + body[i:i + 4096])
        reader.feed_data(END)
        reader.feed_eof()
        t0 = time.process_time()
        got = await FrameReader(reader, max_size=32 << 20).read(None)
        return got, time.process_time() - t0

    got, cpu = asyncio.run(run())
    assert got == body and cpu < 1.0  # the old reader rescanned and recopied: 3 s of CPU


def _serve(**kw):
    problems: list[str] = []

    async def answer(message: bytes, peer: str) -> bytes:
        return b"MSH|^~\\&|T|T|S|S|2026||ACK|1|P|2.5\rMSA|AA|1\r"

    loop = asyncio.new_event_loop()
    server = Server(answer, on_problem=lambda p: problems.append(p.text), **kw)
    port = loop.run_until_complete(server.start())
    return loop, server, port, problems


def _pump(loop, seconds: float) -> None:
    loop.run_until_complete(asyncio.sleep(seconds))


def _end(loop, server, peers) -> None:
    for s in peers:
        s.close()
    _pump(loop, 0.2)
    loop.run_until_complete(server.close())
    loop.close()


def test_a_slowloris_peer_is_dropped_at_the_frame_deadline():
    loop, server, port, problems = _serve(frame_deadline=1.0, idle_timeout=30)
    slow = socket.create_connection(("127.0.0.1", port))
    try:
        slow.sendall(SB + b"MSH|")
        dropped = False
        for _ in range(10):  # a byte every 0.2 s: never idle, never done
            try:
                slow.sendall(b"x")
            except OSError:
                dropped = True
                break
            _pump(loop, 0.2)
        _pump(loop, 0.2)
        assert any("not complete within 1 s" in p for p in problems) and (dropped or not server.peers)
    finally:
        slow.close()
        loop.run_until_complete(server.close())
        loop.close()


def test_parked_frames_are_bounded_across_peers():
    loop, server, port, problems = _serve(max_buffered=4 << 20, idle_timeout=30)
    peers = []
    try:
        for _ in range(6):
            s = socket.create_connection(("127.0.0.1", port))
            s.setblocking(False)
            s.sendall(SB + b"MSH|" + b"P" * (1 << 20))  # 1 MiB each, never finished
            peers.append(s)
            _pump(loop, 0.2)
        _pump(loop, 0.5)
        assert server.budget.used <= 4 << 20
        assert any("unfinished frames" in p for p in problems)
    finally:
        _end(loop, server, peers)
    assert server.budget.used == 0  # given back as the peers went


def test_connections_past_the_limit_are_refused_and_said():
    loop, server, port, problems = _serve(max_connections=3)
    peers = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
    try:
        _pump(loop, 0.3)
        assert len(server.peers) <= 3 and sum("refused: 3 peers" in p for p in problems) == 2
    finally:
        _end(loop, server, peers)


def test_a_junk_frame_is_answered_ar_and_kept(store):
    tap = Tap(store)
    try:
        import hl7.client

        with hl7.client.MLLPClient("127.0.0.1", tap.port) as client:
            answer = client.send_message("this is not HL7 at all").decode()
        assert "MSA|AR|" in answer and "no MSH segment" in answer
        assert "MSA|AA|C1" in send(tap.port, MSG.format(cid="C1"))
        tap.stored()
    finally:
        tap.stop()
    with store.read() as c:
        raws = c.execute(select(Message.raw)).scalars().all()
    assert b"this is not HL7 at all" in raws


def test_a_full_journal_is_one_problem_and_no_ack(store, tmp_path, monkeypatch):
    tap = Tap(store, spool_folder=tmp_path)

    def full(self, records):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(spool.Spool, "append", full)
    try:
        import hl7.client

        answer = b""
        with contextlib.suppress(OSError), hl7.client.MLLPClient("127.0.0.1", tap.port) as client:
            answer = client.send_message(MSG.format(cid="F1"))  # the tap closes without answering
        assert b"MSA" not in (answer or b"")
        time.sleep(0.3)
        problems = tap.listener.stats.problems
        assert len(problems) == 1 and "could not be kept (No space left on device)" in problems[0]
        assert tap.listener.stats.answered == 0
    finally:
        monkeypatch.undo()
        tap.stop()


def test_sigterm_stops_listen_cleanly_with_everything_answered_stored(store_url, store):
    proc, port = listen_process(store_url)
    try:
        for i in range(20):
            assert "MSA|AA" in send(port, MSG.format(cid=f"T{i}"))
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "Traceback" not in err
    with store.read() as c:
        assert c.execute(select(func.count()).select_from(Message).where(Message.is_ack.is_(False))).scalar_one() == 20


def test_a_port_already_taken_is_one_line_that_names_it(store_url, store, capsys):
    from tests.helpers.cli import run

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run(capsys, store_url, "listen", "--port", str(port))
    assert code == 1 and err.startswith(f"lanewatch listen: could not listen on 127.0.0.1:{port}: ")
    assert "address already in use" in err and "store" not in err and "Traceback" not in err


def test_frame_reader_refuses_a_frame_past_the_limit():
    async def run():
        reader = asyncio.StreamReader()
        reader.feed_data(SB + b"X" * 5000)
        reader.feed_eof()
        await FrameReader(reader, max_size=1000).read(None)

    with pytest.raises(MllpError, match="past the 1,000-byte limit"):
        asyncio.run(run())
