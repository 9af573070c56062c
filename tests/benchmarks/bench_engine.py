"""Engine polling benchmark: prints JSON figures.
Run: uv run python tests/benchmarks/bench_engine.py [--count N]

Polls a channel of N messages (each: the message received, the message sent on, the
receiver's ACK) from the loopback engine into a fresh SQLite store, and ingests the same
3N contents from one log file with plain `Ingestor.ingest_paths` into another, in the same
run. Reports contents per second for both and their ratio (issue 17's target: polling at
least half the file rate), the engine-side request count, the poll's resident memory at
each tenth of the way (flat or not), and a search by engine message id and by text in the
polled store.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import tempfile
import threading
import time
from pathlib import Path

import psutil

from core import secrets
from core.commands.context import Context
from core.commands.engines import ConfigureEngine, PollEngines
from core.engines.loopback import Channel, LoopbackEngine, passthrough
from core.ingest import Ingestor
from core.store import messages
from core.store.db import open_store


def channel(count: int) -> Channel:
    return Channel("b3e1c7a0-0000-4000-8000-000000000001", "ADT bench", {1: "To ECW ADT"}, count, passthrough)


def serve(count: int, port, stop) -> None:
    """The engine in a process of its own, as a real one is (its XML is not made on the poller's GIL)."""
    with LoopbackEngine([channel(count)]) as server:
        port.put(server.server.server_address[1])
        stop.wait()


def file_of(count: int, path: Path) -> None:
    c = channel(count)
    with open(path, "w", encoding="utf-8", newline="") as f:
        for i in range(1, count + 1):
            made = c.get(i)
            dest = made.destinations[0]
            f.write(made.received + "\n" + dest.sent + "\n" + dest.response + "\n")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=100_000, help="engine messages (each stores three contents)")
    ap.add_argument("--page-size", type=int, default=200)
    args = ap.parse_args()
    secrets.use_memory()
    root = Path(tempfile.mkdtemp(prefix="lanewatch-bench-engine-"))
    log = root / "same.hl7"
    file_of(args.count, log)
    file_store = open_store(f"sqlite:///{root / 'file.db'}", create=True)
    t0 = time.perf_counter()
    summary = Ingestor(file_store).ingest_paths([log])
    file_s = time.perf_counter() - t0
    file_store.close()

    store = open_store(f"sqlite:///{root / 'poll.db'}", create=True)
    proc, rss, done = psutil.Process(), [], threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            rss.append(proc.memory_info().rss / 2**20)

    port, stop = multiprocessing.Queue(), multiprocessing.Event()
    engine = multiprocessing.Process(target=serve, args=(args.count, port, stop), daemon=True)
    engine.start()
    url = f"http://127.0.0.1:{port.get(timeout=60)}"
    ctx = Context(store)
    ConfigureEngine(ctx).run("bench", password="admin", url=url, username="admin", rate=0, page_size=args.page_size,
                             concurrency=1)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    [result] = PollEngines(ctx).run()
    poll_s = time.perf_counter() - t0
    done.set()
    requests = result.requests
    stop.set()
    engine.join(10)
    looks = []
    for i in range(50):
        t = time.perf_counter()
        messages.page(store, messages.MessageFilter(channel="ADT bench", engine_message_id=1 + i * (args.count // 50)), limit=50)
        looks.append((time.perf_counter() - t) * 1000)
    texts = []
    for word in ("SMITH", "MRN100042", "ENG00000777"):
        t = time.perf_counter()
        messages.page(store, messages.MessageFilter(text=word), limit=100)
        texts.append((time.perf_counter() - t) * 1000)
    store.close()
    tenths = [round(rss[int(len(rss) * k / 10)], 1) for k in range(10)] if rss else []
    print(json.dumps({
        "engine_messages": args.count, "contents": result.stored, "file_messages": summary.messages,
        "file_ingest_per_s": round(summary.messages / file_s), "poll_per_s": round(result.stored / poll_s),
        "poll_vs_file": round((result.stored / poll_s) / (summary.messages / file_s), 2),
        "engine_requests": requests, "page_size": args.page_size, "poll_rss_mib_by_tenth": tenths,
        "engine_key_lookup_ms_p50": round(statistics.median(looks), 2), "text_search_ms": [round(t, 1) for t in texts],
    }, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
