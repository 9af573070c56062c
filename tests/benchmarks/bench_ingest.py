"""Ingest benchmark: prints JSON figures. Run: uv run python tests/benchmarks/bench_ingest.py [--count N]

Compares, in the same run on the same machine:
- our ingest (framing + scanning + correlation + full-text index) into SQLite, and with
  --one-process the same without the row worker (a second process building rows);
- a baseline a practice's own script would be: python-hl7 parses each message, one
  INSERT per row into an indexed SQLite table (run on a slice, its rate is per message);
then times key look-ups (control ID, patient ID) and free-text searches (p50/p95) and
samples resident memory as the ingest goes, to show whether it stays flat.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import resource
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import hl7
import psutil

from core.demo import write_logs
from core.ingest import Ingestor
from core.progress import Progress
from core.store import messages
from core.store.db import open_store


class MemorySampler(Progress):
    def __init__(self, total_hint: int) -> None:
        self.samples: list[tuple[float, float]] = []
        self.total, self.done = 0, 0
        self.proc = psutil.Process()

    def started(self, total_bytes: int) -> None:
        self.total = total_bytes

    def advanced(self, nbytes: int, messages: int) -> None:
        self.done += nbytes
        rss = sum(p.memory_info().rss for p in (self.proc, *self.proc.children()))  # the row worker too
        self.samples.append((self.done / max(self.total, 1), rss / 2**20))


def baseline(files: list[Path], db: Path, limit: int, *, commit_each: bool = True) -> float:
    """python-hl7 + row-by-row inserts, as a hand-written practice script would do it: a
    commit a message (so a crash loses nothing), or one at the end (`commit_each=False`)."""
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE msgs (id INTEGER PRIMARY KEY, control_id TEXT, type TEXT, patient_id TEXT, raw TEXT)")
    conn.execute("CREATE INDEX ix_c ON msgs(control_id)")
    conn.execute("CREATE INDEX ix_p ON msgs(patient_id)")
    texts = []
    for f in files:
        for chunk in re.split(r"(?=^MSH\|)", f.read_text(errors="replace"), flags=re.M):
            if chunk.startswith("MSH"):
                texts.append(chunk.replace("\r\n", "\r").replace("\n", "\r").strip("\r"))
            if len(texts) >= limit:
                break
    t0 = time.perf_counter()
    for text in texts:
        try:
            m = hl7.parse(text)
            pid = str(m.segment("PID")[3][0][0]) if any(s[0][0] == "PID" for s in m) else None
            conn.execute("INSERT INTO msgs(control_id, type, patient_id, raw) VALUES (?,?,?,?)",
                         (str(m.segment("MSH")[10]), str(m.segment("MSH")[9]), pid, text))
        except Exception:
            conn.execute("INSERT INTO msgs(raw) VALUES (?)", (text,))
        if commit_each:
            conn.commit()
    conn.commit()
    seconds = time.perf_counter() - t0
    conn.close()
    return len(texts) / seconds


def percentiles(samples: list[float]) -> dict:
    s = sorted(samples)
    return {"p50_ms": round(statistics.median(s) * 1000, 2), "p95_ms": round(s[int(len(s) * 0.95) - 1] * 1000, 2)}


def timed(fn, args_list) -> dict:
    out = []
    for a in args_list:
        t0 = time.perf_counter()
        fn(a)
        out.append(time.perf_counter() - t0)
    return percentiles(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--baseline-count", type=int, default=20_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--workdir")
    ap.add_argument("--one-process", action="store_true",
                    help="also ingest the same logs into a second store without the row worker, and compare")
    a = ap.parse_args()
    work = Path(a.workdir or tempfile.mkdtemp(prefix="lanewatch-bench-"))
    t0 = time.perf_counter()
    files = list(write_logs(work / "logs", a.count, seed=1).values())
    gen_s = time.perf_counter() - t0
    size = sum(f.stat().st_size for f in files)

    store = open_store(f"sqlite:///{work / 'bench.db'}")
    sampler = MemorySampler(size)
    t0 = time.perf_counter()
    summary = Ingestor(store, progress=sampler).ingest_paths([work / "logs"])
    ingest_s = time.perf_counter() - t0
    ours = summary.messages / ingest_s

    one_process = None
    if a.one_process:
        import core.ingest
        core.ingest.WORKER_MIN_BYTES = 1 << 62
        t0 = time.perf_counter()
        n = Ingestor(open_store(f"sqlite:///{work / 'one_process.db'}")).ingest_paths([work / "logs"]).messages
        one_process = round(n / (time.perf_counter() - t0))

    base = baseline(files, work / "baseline.db", a.baseline_count)

    rng = random.Random(5)
    with store.read() as c:
        keys = c.exec_driver_sql("SELECT control_id, patient_id FROM messages WHERE patient_id IS NOT NULL "
                                 "ORDER BY random() LIMIT ?", (a.queries,)).all()
    words = ["SMITH", "GLUCOSE", "QUEST", "Required field missing", "MRN104242", "COVID-19"]
    lookups = {
        "control_id": timed(lambda k: messages.page(store, messages.MessageFilter(control_id=k), limit=100),
                            [k.control_id for k in keys]),
        "patient_id": timed(lambda k: messages.page(store, messages.MessageFilter(patient_id=k), limit=100),
                            [k.patient_id for k in keys]),
        "full_text_first_page": timed(lambda w: messages.page(store, messages.MessageFilter(text=w), limit=100),
                                      [rng.choice(words) for _ in range(50)]),
        "full_text_count": timed(lambda w: messages.count(store, messages.MessageFilter(text=w)),
                                 [rng.choice(words) for _ in range(20)]),
    }
    quarter = [next((m for share, m in sampler.samples if share >= q), None) for q in (0.25, 0.5, 0.75, 1.0)]
    print(json.dumps({
        "messages": summary.messages, "bytes": size, "files": len(files), "generate_s": round(gen_s, 1),
        "ingest_s": round(ingest_s, 1), "ingest_messages_per_s": round(ours),
        "ingest_one_process_messages_per_s": one_process,
        "baseline_python_hl7_row_by_row_messages_per_s": round(base),
        "ratio_ours_to_baseline": round(ours / base, 1),
        "lookups": lookups,
        "rss_mib_with_worker_at_25_50_75_100_percent": [round(m, 1) if m else None for m in quarter],
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "row_worker_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "store_mib": round(sum(p.stat().st_size for p in work.glob("bench.db*")) / 2**20, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
