"""Field-path queries (issue 19): prints JSON figures.
Run: uv run python tests/benchmarks/bench_query.py [--count 200000] [--store sqlite:///PATH]

On a store of the demo's traffic (made here, or --store), in the same run:
- a selective query (one order's OBR-2, a literal the full-text index finds) and a broad
  one (OBX[*]-8 in ('H','HH'), over every ORU): the first page of 100, p50 over rounds;
- the broad query over all the ORUs to the end, against python-hl7 parsing the same
  candidates and testing the same thing: messages/s of each, and their ratio;
- field statistics of one path (PID-3[*].4) over the oldest 100,000 messages, read from the
  store: seconds (median of three) and messages/s (issue 19's target: within 2 s).
A store made here is indexed after its bulk load, as `lanewatch ingest` leaves it.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import hl7

from core.demo import write_logs
from core.hl7 import query
from core.hl7.field_stats import FieldStats
from core.ingest import Ingestor
from core.query_filter import filtered_by
from core.store import indexer, messages
from core.store.db import open_store

STATS_OVER = 100_000

def first_page(store, text: str, flt: messages.MessageFilter, rounds: int = 5) -> float:
    f = filtered_by(flt, query.parse(text))
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        messages.page(store, f, limit=100)
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times) * 1000, 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=200_000)
    ap.add_argument("--store")
    a = ap.parse_args()
    if a.store:
        store = open_store(a.store)
    else:
        work = Path(tempfile.mkdtemp(prefix="lanewatch-bench-query-"))
        write_logs(work / "logs", a.count, seed=1)
        store = open_store(f"sqlite:///{work / 's.db'}")
        Ingestor(store).ingest_paths([work / "logs"])
        indexer.catch_up(store)  # as `lanewatch ingest` does: a bulk load leaves its indexes to this
    orus = messages.MessageFilter(types=["ORU"])
    with store.read() as conn:
        some = conn.exec_driver_sql("SELECT raw FROM messages WHERE message_type LIKE 'ORM%' LIMIT 1").scalar_one()
        raws = [r[0] for r in conn.exec_driver_sql("SELECT raw FROM messages WHERE message_type LIKE 'ORU%'")]
    order = query.FieldPath.parse("OBR-2.1").values(query.Message(some.decode()))[0]  # a placer order number
    broad = query.parse("OBX[*]-8 in ('H','HH')")
    t0 = time.perf_counter()
    ours = sum(broad.matches(raw.decode("utf-8", "replace")) for raw in raws)
    ours_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    theirs = 0
    for raw in raws:
        m = hl7.parse(raw.decode("utf-8", "replace").replace("\r\n", "\r").replace("\n", "\r"))
        theirs += any(str(s[8]) in ("H", "HH") for s in m if str(s[0]) == "OBX" and len(s) > 8)
    theirs_s = time.perf_counter() - t0
    stats_runs = []
    for _ in range(3):  # the target: one path over 100,000 messages; median of three
        t0 = time.perf_counter()
        stats = FieldStats(["PID-3[*].4"])
        for n, r in enumerate(messages.every(store, messages.MessageFilter(), raw=True), start=1):
            stats.add(r["raw"].decode("utf-8", "replace"), r["event_time"])
            if n == STATS_OVER:
                break
        stats_runs.append(time.perf_counter() - t0)
    stats_s = statistics.median(stats_runs)
    print(json.dumps({
        "messages": messages.count(store), "orus": len(raws),
        "selective_query": f"OBR-2 = '{order}'",
        "selective_first_page_ms": first_page(store, f"OBR-2 = '{order}'", messages.MessageFilter()),
        "broad_first_page_ms": first_page(store, "OBX[*]-8 in ('H','HH')", orus),
        "broad_matches": {"ours": ours, "python_hl7": theirs},
        "broad_all_orus_per_s": {"ours": round(len(raws) / ours_s), "python_hl7": round(len(raws) / theirs_s),
                                 "ratio": round(theirs_s / ours_s, 1)},
        "stats_one_path": {"messages": stats.stats["PID-3[*].4"].messages, "seconds": round(stats_s, 2),
                           "per_s": round(stats.stats["PID-3[*].4"].messages / stats_s), "target_s": 2.0},
    }, indent=1))


if __name__ == "__main__":
    main()
