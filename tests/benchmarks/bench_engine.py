"""Engine polling benchmark: prints JSON figures.
Run: uv run python tests/benchmarks/bench_engine.py [--count N]

Polls a channel of N messages (each: the message received, the message sent on, the
receiver's ACK) from the loopback engine into a fresh SQLite store, and ingests the same
3N contents from one log file with plain `Ingestor.ingest_paths` into another, in the same
run (alternating, --repeat times). Reports contents per second for both and their ratio (issue 17's target: polling at
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


def file_rate(root: Path, log: Path, run: int) -> tuple[int, float]:
    store = open_store(f"sqlite:///{root / f'file{run}.db'}", create=True)
    t0 = time.perf_counter()
    summary = Ingestor(store).ingest_paths([log])
    seconds = time.perf_counter() - t0
    store.close()
    return summary.messages, summary.messages / seconds


def poll(root: Path, count: int, page_size: int, run: int):
    """Poll the engine into a fresh store: (result, contents/s, RSS by tenth, the store)."""
    store = open_store(f"sqlite:///{root / f'poll{run}.db'}", create=True)
    proc, rss, done = psutil.Process(), [], threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            rss.append(proc.memory_info().rss / 2**20)

    port, stop = multiprocessing.Queue(), multiprocessing.Event()
    engine = multiprocessing.Process(target=serve, args=(count, port, stop), daemon=True)
    engine.start()
    url = f"http://127.0.0.1:{port.get(timeout=60)}"
    ctx = Context(store)
    ConfigureEngine(ctx).run("bench", password="admin", url=url, username="admin", rate=0, page_size=page_size,
                             concurrency=1)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    [result] = PollEngines(ctx).run()
    seconds = time.perf_counter() - t0
    done.set()
    stop.set()
    engine.join(10)
    tenths = [round(rss[int(len(rss) * k / 10)], 1) for k in range(10)] if rss else []
    return result, result.stored / seconds, tenths, store


def searches(store, count: int) -> tuple[float, list[float]]:
    looks = []
    for i in range(50):
        t = time.perf_counter()
        messages.page(store, messages.MessageFilter(channel="ADT bench", engine_message_id=1 + i * (count // 50)), limit=50)
        looks.append((time.perf_counter() - t) * 1000)
    texts = []
    for word in ("SMITH", "MRN100042", "ENG00000777", "no-such-word"):
        t = time.perf_counter()
        messages.page(store, messages.MessageFilter(text=word), limit=100)
        texts.append((time.perf_counter() - t) * 1000)
    return statistics.median(looks), texts


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=100_000, help="engine messages (each stores three contents)")
    ap.add_argument("--page-size", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each, alternating; medians are reported")
    args = ap.parse_args()
    secrets.use_memory()
    root = Path(tempfile.mkdtemp(prefix="lanewatch-bench-engine-"))
    log = root / "same.hl7"
    file_of(args.count, log)
    files, polls, ratios = [], [], []
    for run in range(args.repeat):
        file_messages, file_per_s = file_rate(root, log, run)
        result, poll_per_s, tenths, store = poll(root, args.count, args.page_size, run)
        files.append(file_per_s)
        polls.append(poll_per_s)
        ratios.append(poll_per_s / file_per_s)
        if run < args.repeat - 1:
            store.close()
    lookup_ms, text_ms = searches(store, args.count)
    store.close()
    print(json.dumps({
        "engine_messages": args.count, "contents": result.stored, "file_messages": file_messages, "runs": args.repeat,
        "file_ingest_per_s": [round(r) for r in files], "poll_per_s": [round(r) for r in polls],
        "poll_vs_file": [round(r, 2) for r in ratios], "poll_vs_file_median": round(statistics.median(ratios), 2),
        "engine_requests": result.requests, "page_size": args.page_size, "poll_rss_mib_by_tenth": tenths,
        "engine_key_lookup_ms_p50": round(lookup_ms, 2), "text_search_ms": [round(t, 1) for t in text_ms],
    }, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
