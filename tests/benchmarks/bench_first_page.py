"""Time to the first page of the message table: prints JSON figures.

Run: uv run python tests/benchmarks/bench_first_page.py [--count N] [--workdir DIR]

Builds (or reuses, with --workdir) a store of N demo messages, then times, from a cold
model, `reload()` until the first page is in the table: the query on a worker thread, the
hand-over to the GUI thread and the row insert, as a person opening the console sees it.
The same for a filtered first page (one interface, an ACK state, free text). The baseline
in the same run is the bare SQL of the first page (no model), so the ratio shows what the
model and threads add.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtWidgets import QApplication  # noqa: E402

from core import vocabulary  # noqa: E402
from core.store import interfaces, messages  # noqa: E402
from core.store.messages import MessageFilter  # noqa: E402
from tests.helpers.stores import workdir_store  # noqa: E402
from ui.models.message_table import MessageTableModel  # noqa: E402


def first_page_ms(app: QApplication, store, flt: MessageFilter) -> float:
    model = MessageTableModel(store)
    model.filter = flt
    t0 = time.perf_counter()
    model.reload()
    while model.loading:
        app.processEvents()
    elapsed = (time.perf_counter() - t0) * 1000
    assert model.rowCount() > 0
    return elapsed


def summary(samples: list[float]) -> dict:
    s = sorted(samples)
    return {"p50_ms": round(statistics.median(s), 1), "p95_ms": round(s[max(0, int(len(s) * 0.95) - 1)], 1),
            "max_ms": round(s[-1], 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--workdir")
    a = ap.parse_args()
    t0 = time.perf_counter()
    store = workdir_store(a.workdir, a.count, "lanewatch-firstpage-")
    build_s = time.perf_counter() - t0
    app = QApplication.instance() or QApplication([])
    stored = messages.count(store)
    rows = interfaces.overview(store)
    cases = {
        "all": MessageFilter(),
        "one_interface": MessageFilter(interface_id=rows[len(rows) // 2]["id"]),
        "needs_attention": MessageFilter(ack_states=list(vocabulary.PROBLEM_ACK_STATES)),
        "free_text": MessageFilter(text="GLUCOSE"),
    }
    out = {"messages": stored, "build_or_open_s": round(build_s, 1), "at": datetime.now().isoformat(timespec="seconds")}
    for name, flt in cases.items():
        model_ms = [first_page_ms(app, store, flt) for _ in range(a.runs)]
        sql_ms = []
        for _ in range(a.runs):
            t = time.perf_counter()
            messages.page(store, flt, limit=500)
            sql_ms.append((time.perf_counter() - t) * 1000)
        out[name] = {"model_first_page": summary(model_ms), "bare_query_baseline": summary(sql_ms),
                     "ratio_model_to_query_p50": round(statistics.median(model_ms) / statistics.median(sql_ms), 2)}
    print(json.dumps(out, indent=2))
    store.close()


if __name__ == "__main__":
    main()
