"""MLLP listener benchmark: prints JSON figures.

Run: uv run python tests/benchmarks/bench_mllp.py [--messages N] [--clients C]

python-hl7 clients (one process each, one connection, each message waiting for its ACK)
send demo messages over loopback to:
- the listening tap (`core.sources.listener`), which journals every message before answering
  and stores it and its ACK in SQLite behind (also reported: messages/s until all are in
  the store);
- a baseline in the same run: the same MLLP server answering at once, storing nothing;
and report sustained messages/s and the round trip's p50/p95 for both, and their ratio.
Then resend: N NAKed lab orders resent through `core.commands.resend` (claims, attempts,
audit, stored ACKs and all) to a local server answering AA; messages/s and the p95 of the
send-to-ACK round trip.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import hl7.client

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.demo import LANES, Generator  # noqa: E402
from core.hl7 import ack  # noqa: E402
from core.sources.listener import Listener  # noqa: E402
from core.store import messages, queue  # noqa: E402
from core.store.db import open_store  # noqa: E402
from core.transport.mllp import Server  # noqa: E402


def client(port: int, messages: list[str]) -> list[float]:
    """One sending system: its own process and connection, each message waiting for its ACK."""
    rtts = []
    with hl7.client.MLLPClient("127.0.0.1", port) as c:
        for m in messages:
            t = time.perf_counter()
            answer = c.send_message(m)
            rtts.append(time.perf_counter() - t)
            assert b"MSA|AA" in answer
    return rtts


def run_clients(port: int, batches: list[list[str]]) -> tuple[float, list[float]]:
    with multiprocessing.get_context("spawn").Pool(len(batches)) as pool:
        pool.apply(time.sleep, (0,))  # the processes are up before the clock starts
        t0 = time.perf_counter()
        results = pool.starmap(client, [(port, b) for b in batches])
        seconds = time.perf_counter() - t0
    return seconds, [r for rs in results for r in rs]


def figures(n: int, seconds: float, rtts: list[float]) -> dict:
    s = sorted(rtts)
    return {"messages_per_s": round(n / seconds), "rtt_p50_ms": round(statistics.median(s) * 1000, 2),
            "rtt_p95_ms": round(s[int(len(s) * 0.95) - 1] * 1000, 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--resend", type=int, default=10_000)
    a = ap.parse_args()
    gen = Generator(seed=3)
    lanes = [lane for lane in LANES if lane.folder in ("lab_results_in", "adt_in", "scheduling_in")]
    sent = [gen.message(lanes[i % len(lanes)]) for i in range(a.messages)]
    batches = [sent[i::a.clients] for i in range(a.clients)]
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    call = lambda coro: asyncio.run_coroutine_threadsafe(coro, loop).result(60)  # noqa: E731

    async def answer_at_once(message: bytes, peer: str) -> bytes:
        return ack.build(message, "AA", control_id="B1", timestamp="20260101000000")

    bare = Server(answer_at_once)
    bare_port = call(bare.start())
    base_s, base_rtts = run_clients(bare_port, batches)
    call(bare.close())

    work = Path(tempfile.mkdtemp(prefix="lanewatch-mllp-"))
    store = open_store(f"sqlite:///{work / 'tap.db'}")
    tap = Listener(store)
    port = call(tap.start())
    tap_s, tap_rtts = run_clients(port, batches)
    t = time.perf_counter()
    call(tap.stored())  # answered once journalled: how much longer until the store has it all
    drain_s = time.perf_counter() - t
    call(tap.close())
    stored = messages.count(store, messages.MessageFilter(acks=False))
    ours, baseline = figures(a.messages, tap_s, tap_rtts), figures(a.messages, base_s, base_rtts)
    resent = bench_resend(work, a.resend, call)
    print(json.dumps({
        "messages": a.messages, "clients": a.clients, "stored": stored,
        "listener_journalling": ours, "baseline_answer_only": baseline,
        "listener_all_in_store_per_s": round(a.messages / (tap_s + drain_s)),
        "store_behind_at_end_s": round(drain_s, 2),
        "ratio_listener_to_baseline_throughput": round(ours["messages_per_s"] / baseline["messages_per_s"], 2),
        "resend": resent,
    }, indent=2))


def bench_resend(work: Path, n: int, call) -> dict:
    from core.commands.context import Context
    from core.commands.resend import Configure, Resend
    from core.ingest import Ingestor
    from core.transport import mllp

    store = open_store(f"sqlite:///{work / 'resend.db'}")
    raws = []
    for i in range(n):
        m = (f"MSH|^~\\&|ECW|NFM|QUEST|QUEST_LAB|20260101120000||ORM^O01^ORM_O01|R{i}|P|2.5.1\r"
             f"PID|1||MRN{i}^^^NFM^MR||DOE^JANE\rORC|NW|O{i}\rOBR|1|O{i}||GLU^Glucose\r").encode()
        raws += [m, ack.build(m, "AE", "Provider not on file", control_id=f"N{i}", timestamp="20260101120001")]
    Ingestor(store).ingest_messages("engine", raws, transport="file")
    items = queue.items(store, kinds=["nak_error"])

    async def answer(message: bytes, peer: str) -> bytes:
        return ack.build(message, "AA", control_id="RS", timestamp="20260101000000")

    server = Server(answer)
    port = call(server.start())
    ctx = Context(store, actor="bench@local")
    iface = messages.get(store, items[0]["message_id"])["interface_id"]
    Configure(ctx).run(iface, host="127.0.0.1", port=port, write_class="clinical", write_enabled=True)
    rtts: list[float] = []
    send = mllp.Client.send

    async def timed(self, message):
        t = time.perf_counter()
        try:
            return await send(self, message)
        finally:
            rtts.append(time.perf_counter() - t)

    mllp.Client.send = timed
    command = Resend(ctx, ack_timeout=10)
    plan = command.plan({i["id"]: i["row_version"] for i in items})
    t0 = time.perf_counter()
    outcomes = command.run(plan)
    seconds = time.perf_counter() - t0
    mllp.Client.send = send
    call(server.close())
    assert sum(o.state == "accepted" for o in outcomes) == n
    return {"messages": n, **figures(n, seconds, rtts), "note": "messages/s includes claims, attempts, audit and stored ACKs"}


if __name__ == "__main__":
    main()
