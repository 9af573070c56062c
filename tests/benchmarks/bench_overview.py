"""Overview refresh benchmark: prints JSON figures.

Run: uv run python tests/benchmarks/bench_overview.py [--workdir DIR] [--count 1000000]

Builds (or reuses, with --workdir) a store of N demo messages, then times a refresh of the
Overview tab as the window does it, from the request until the flow map is drawn (the
flow aggregate off the GUI thread, then the drawing), for a 24-hour window and for a
window holding the whole store (the worst case); and the all-traffic chart series for 24
hours. Baseline in the same run, per window: counting the same window's messages
(SELECT count(*) ... WHERE is_ack = 0 AND event_time >= since), the least any
aggregate over them can cost.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import func, select, text  # noqa: E402

from core.commands.context import Context  # noqa: E402
from core.store import flows  # noqa: E402
from core.store.models import Message  # noqa: E402
from tests.helpers.stores import workdir_store  # noqa: E402


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def stats(ms: list[float]) -> dict:
    s = sorted(ms)
    return {"p50_ms": round(statistics.median(s), 1), "max_ms": round(s[-1], 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--workdir")
    a = ap.parse_args()
    store = workdir_store(a.workdir, a.count, "lanewatch-overview-")
    with store.read() as conn:
        first, last, total = conn.execute(select(func.min(Message.event_time), func.max(Message.event_time),
                                                 func.count()).select_from(Message)).one()
    end = last + timedelta(seconds=1)

    from ui.app import application
    from ui.views.overview_view import OverviewView

    app = application()
    view = OverviewView(Context(store, now=lambda: end))
    view.show()

    def refresh(index: int) -> None:
        view.window_box.blockSignals(True)
        view.window_box.setCurrentIndex(index)
        view.window_box.blockSignals(False)
        view.flow_map = None
        view.refresh()
        while view.flow_map is None:
            app.processEvents()
            time.sleep(0.001)

    whole = (end - first)
    from ui.views import overview_view

    overview_view.WINDOWS = overview_view.WINDOWS + (("Everything", whole, timedelta(days=1)),)
    view.window_box.addItem("Everything", whole)
    count = "SELECT count(*) FROM messages WHERE is_ack = 0 AND event_time >= :since"
    with store.read() as conn:
        base_24h = timed(lambda: conn.execute(text(count), {"since": end - timedelta(hours=24)}).scalar(), a.runs)
        base_all = timed(lambda: conn.execute(text(count), {"since": first}).scalar(), a.runs)
    out = {
        "messages": total, "span_days": round(whole.total_seconds() / 86400, 1),
        "overview_refresh_24h": stats(timed(lambda: refresh(2), a.runs)), "baseline_count_24h": stats(base_24h),
        "overview_refresh_whole_store": stats(timed(lambda: refresh(4), a.runs)), "baseline_count_all": stats(base_all),
        "chart_series_all_traffic_24h": stats(timed(lambda: flows.series(store, end - timedelta(hours=24), end,
                                                                         bucket=timedelta(minutes=15)), a.runs)),
    }
    for window in ("24h", "all"):
        refresh_key = "overview_refresh_24h" if window == "24h" else "overview_refresh_whole_store"
        out[f"ratio_refresh_to_count_{window}"] = round(out[refresh_key]["p50_ms"] / out[f"baseline_count_{window}"]["p50_ms"], 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
