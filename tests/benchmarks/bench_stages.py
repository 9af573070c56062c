"""Time to the first useful screen (issue 21): prints JSON figures.
Run: uv run python tests/benchmarks/bench_stages.py [--count 200000] [--mix demo|failing|both]

For each mix (the demo's, and a failing one where half the orders get no ACK and a quarter
are refused with AE), in the same run on the same machine:
- stage one, our ingest of the logs into a fresh SQLite store (with --pg, a fresh PostgreSQL
  database too): messages/s, and the time until the queue is complete (when it returns:
  pairing and the missing-ACK sweep are part of it); then how far behind the indexes are (a load this large is staged) and stage two,
  the indexer catching up: its time, and stage one plus stage two as messages/s;
- during stage one, during stage two and after: a key look-up (control ID), the first page
  of the Messages tab and a free-text search's first page, as p50/p95 over what a reader
  thread managed (searches are complete throughout; tests/unit/core/store/test_indexer.py);
- peak resident memory (this process and the row worker);
- the baseline a practice's own script would be: python-hl7 parses each message and one
  INSERT a row goes into an indexed SQLite table, with one commit at the end (on a slice:
  its rate is per message).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

import core.ingest
from core.demo import FAILING, LANES, write_logs
from core.ingest import Ingestor
from core.store import indexer, messages, queue
from core.store.db import open_store

sys.path.insert(0, str(Path(__file__).parent))
from bench_ingest import baseline  # noqa: E402 - the benchmarks folder is no package

MIXES = {"demo": LANES, "failing": FAILING}
WORDS = ("GLUCOSE", "SMITH", "Required field missing", "QUEST")


def percentiles(samples: list[float]) -> dict:
    if not samples:
        return {"n": 0}
    s = sorted(samples)
    return {"n": len(s), "p50_ms": round(statistics.median(s) * 1000, 1), "p95_ms": round(s[int(len(s) * 0.95) - 1] * 1000, 1)}


class Reader(threading.Thread):
    """What an operator does while the ingest runs: look a control ID up, open the Messages
    tab, search a word; each timed."""

    def __init__(self, store, control_ids: list[str]) -> None:
        super().__init__(daemon=True)
        self.store, self.control_ids = store, control_ids
        self.stop = threading.Event()
        self.times: dict[str, list[float]] = {"control_id": [], "first_page": [], "free_text_first_page": []}

    def run(self) -> None:
        i = 0
        while not self.stop.wait(0.2):
            self.once(i)
            i += 1

    def once(self, i: int) -> None:
        for name, flt in (("control_id", messages.MessageFilter(control_id=self.control_ids[i % len(self.control_ids)])),
                          ("first_page", messages.MessageFilter()),
                          ("free_text_first_page", messages.MessageFilter(text=WORDS[i % len(WORDS)]))):
            t0 = time.perf_counter()
            messages.page(self.store, flt, limit=100)
            self.times[name].append(time.perf_counter() - t0)


def control_ids(files: list[Path], n: int = 50) -> list[str]:
    """Control IDs to look up: spread over the start of each log."""
    out = []
    for f in files:
        with open(f, "rb") as fh:
            for i, line in enumerate(fh):
                if i > 20_000:
                    break
                if line.startswith(b"MSH|") and i % 97 == 0:
                    out.append(line.split(b"|")[9].decode())
    return out[:n] or ["none"]


def fresh_database(server: str) -> str:
    """A new, empty database on a PostgreSQL server (the URL's user may create databases)."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = "lanewatch_bench_stages"
    with psycopg.connect(server.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def one_mix(work: Path, name: str, count: int, baseline_count: int, staged: bool, url: str | None = None) -> dict:
    logs = work / name / "logs"
    if not logs.exists():
        write_logs(logs, count, seed=1, lanes=MIXES[name])
    files = sorted(logs.rglob("*.hl7"))
    core.ingest.BULK_BYTES = 0 if staged else 1 << 62
    store = open_store(url or f"sqlite:///{work / name / f'store-{staged}.db'}", create=True)
    reader = Reader(store, control_ids(files))
    proc = psutil.Process()
    peak = [0.0]

    def sample() -> None:
        while not reader.stop.wait(0.25):
            peak[0] = max(peak[0], sum(p.memory_info().rss for p in (proc, *proc.children())) / 2**20)

    threading.Thread(target=sample, daemon=True).start()
    reader.start()
    t0 = time.perf_counter()
    summary = Ingestor(store).ingest_paths([logs])
    ingest_s = time.perf_counter() - t0
    reader.stop.set()
    reader.join()
    during = {k: percentiles(v) for k, v in reader.times.items()}
    with store.read() as conn:
        behind = indexer.behind(conn)
    reader2 = Reader(store, reader.control_ids)
    reader2.start()
    t1 = time.perf_counter()
    indexer.catch_up(store)
    index_s = time.perf_counter() - t1
    reader2.stop.set()
    reader2.join()
    after = Reader(store, reader.control_ids)
    for i in range(30):
        after.once(i)
    with store.read() as conn:
        stored = conn.exec_driver_sql("SELECT count(*) FROM messages").scalar_one()
    (work / name / "baseline.db").unlink(missing_ok=True)
    base = baseline(files, work / name / "baseline.db", baseline_count, commit_each=False)
    rate = summary.messages / ingest_s
    return {
        "messages": summary.messages, "stored": stored, "queue_items": queue.count(store, queue.QueueFilter()),
        "ingest_s": round(ingest_s, 1), "stage_one_messages_per_s": round(rate),
        "queue_complete_after_s": round(ingest_s, 1),
        "behind_when_stage_one_ends": {"text": behind.text, "indexes": len(behind.indexes)},
        "stage_two_s": round(index_s, 1), "both_stages_messages_per_s": round(summary.messages / (ingest_s + index_s)),
        "during_stage_one": during, "during_stage_two": {k: percentiles(v) for k, v in reader2.times.items()},
        "after": {k: percentiles(v) for k, v in after.times.items()},
        "peak_rss_mib": round(peak[0], 1),
        "baseline_python_hl7_one_commit_messages_per_s": round(base), "ratio_ours_to_baseline": round(rate / base, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=200_000)
    ap.add_argument("--baseline-count", type=int, default=30_000)
    ap.add_argument("--mix", choices=("demo", "failing", "both"), default="both")
    ap.add_argument("--staging", choices=("on", "off", "both"), default="both",
                    help="stage the load (defer text and indexes) or keep every index row by row; both: each, in turn")
    ap.add_argument("--pg", metavar="URL", help="also load each mix into PostgreSQL (a server URL that may create "
                    "databases, e.g. $LANEWATCH_TEST_PG), by COPY, with the same stagings")
    ap.add_argument("--workdir")
    a = ap.parse_args()
    work = Path(a.workdir or tempfile.mkdtemp(prefix="lanewatch-bench-stages-"))
    mixes = ("demo", "failing") if a.mix == "both" else (a.mix,)
    stagings = {"on": (True,), "off": (False,), "both": (False, True)}[a.staging]
    figures = {"count": a.count}
    for m in mixes:
        for s in stagings:
            figures[f"{m} sqlite {'staged' if s else 'unstaged'}"] = one_mix(work, m, a.count, a.baseline_count, s)
        for s in stagings if a.pg else ():
            figures[f"{m} postgresql {'staged' if s else 'unstaged'}"] = one_mix(work, m, a.count, a.baseline_count, s,
                                                                              fresh_database(a.pg))
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
