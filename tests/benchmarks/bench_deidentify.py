"""De-identified export (issue 19): prints JSON figures.
Run: uv run python tests/benchmarks/bench_deidentify.py [--count 10000] [--rounds 5]

On a store of the demo's traffic (every message but the ACKs: ADT, ORM, ORU, MDM, SIU...),
in the same run, median over rounds:
- the whole export of --count messages to a file (read from the store, de-identified,
  written, fsynced, audited): seconds and messages/s (issue 19's target: 10,000 within 5 s);
- de-identifying the same messages in memory, against python-hl7 only parsing them (the
  baseline: what building parse trees alone costs), and their ratio.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import hl7

from core.commands.context import Context
from core.commands.export import ExportDeidentified
from core.deidentify import Deidentifier
from core.demo import write_logs
from core.ingest import Ingestor
from core.store import messages
from core.store.db import open_store


def median_seconds(work, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        work()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lanewatch-bench-deid-"))
    write_logs(work / "logs", a.count * 2 + 2000, seed=3)  # about half the demo's traffic is ACKs
    store = open_store(f"sqlite:///{work / 's.db'}")
    Ingestor(store).ingest_paths([work / "logs"])
    chosen = messages.MessageFilter(acks=False)
    ids = [r["id"] for r in messages.page(store, chosen, limit=a.count, newest_first=False)]
    flt = messages.MessageFilter(ids=ids)
    texts = [r["raw"].decode("latin-1") for r in messages.every(store, flt, raw=True)]
    export = median_seconds(lambda: ExportDeidentified(Context(store, actor="bench")).run(flt, work / "out.hl7"), a.rounds)
    ours = median_seconds(lambda: [Deidentifier().message(t) for t in texts], a.rounds)
    parsed = median_seconds(lambda: [hl7.parse(t.replace("\r\n", "\r").replace("\n", "\r")) for t in texts], a.rounds)
    print(json.dumps({
        "messages": len(texts),
        "export_s": round(export, 2), "export_msg_per_s": round(len(texts) / export),
        "target_s": 5.0,
        "deidentify_msg_per_s": round(len(texts) / ours),
        "python_hl7_parse_msg_per_s": round(len(texts) / parsed),
        "deidentify_vs_python_hl7_parse": round(parsed / ours, 2),
    }, indent=1))
    store.close()


if __name__ == "__main__":
    main()
