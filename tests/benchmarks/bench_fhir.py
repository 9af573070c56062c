"""FHIR benchmarks: prints JSON figures.

Run: uv run python tests/benchmarks/bench_fhir.py

1. The scope inventory of a server with 150 resource types and 500 advertised scopes (v1
   and v2 mixed, wildcards, granular ones), 100 requested, 80 granted, 30 needed: building
   it, its rows and its HTML report; median of 20 runs. Baseline in the same run: reading the
   same documents' JSON (json.loads), which any inventory has to do anyway.
2. Probing 20 endpoints at once from the console: a loopback FHIR server answering every
   request 300 ms late (metadata, token, read), probed through the Endpoints tab's own path.
   The GUI thread's responsiveness is measured with a 10 ms timer: the longest gap between
   its ticks while probes run, against the same timer on an idle window (the baseline).
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core import secrets  # noqa: E402
from core.fhir.capability import read_capability, read_smart_config  # noqa: E402
from core.fhir.inventory import build  # noqa: E402
from core.fhir.report import to_html  # noqa: E402

INTERACTIONS = ["read", "vread", "search-type", "create", "update", "delete", "history-instance"]


def documents(n_types: int = 150, n_scopes: int = 500) -> tuple[dict, dict, list[str], list[str], list[str]]:
    types = [f"Resource{i:03d}" for i in range(n_types - 6)] + ["Patient", "Observation", "Condition",
                                                                 "Encounter", "Practitioner", "Organization"]
    cap = {"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1", "rest": [{"mode": "server", "resource": [
        {"type": t, "interaction": [{"code": c} for c in INTERACTIONS[: 3 + i % 5]],
         "searchParam": [{"name": p} for p in ("patient", "category", "code", "date", "status", "_id")]}
        for i, t in enumerate(types)]}]}
    every = [f"{ctx}/{t}.{action}" for t in types for ctx in ("patient", "user", "system")
             for action in ("read", "rs", "cruds", "rs?category=vital-signs", "write")]
    scopes = ["patient/*.read", "user/*.rs", "system/*.cruds", "launch", "openid", "fhirUser", "offline_access"]
    scopes += every[:: len(every) // (n_scopes - len(scopes))][: n_scopes - len(scopes)]
    smart = {"scopes_supported": scopes, "capabilities": ["permission-v1", "permission-v2"]}
    return cap, smart, scopes[:100], scopes[:80], scopes[200:230]


def bench_inventory(runs: int = 20) -> dict:
    cap, smart, requested, granted, needed = documents()
    raw_cap, raw_smart = json.dumps(cap), json.dumps(smart)
    base, ours, html = [], [], []
    for _ in range(runs):
        t = time.perf_counter()
        c, s = json.loads(raw_cap), json.loads(raw_smart)
        base.append(time.perf_counter() - t)
        t = time.perf_counter()
        inv = build(read_capability(c), read_smart_config(s), requested=requested, granted=granted, needed=needed,
                    audience="patient")
        rows = inv.rows()
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        to_html(inv, endpoint="bench", client="bench", generated=__import__("datetime").datetime(2026, 1, 1))
        html.append(time.perf_counter() - t)
    med = statistics.median
    return {"resource_types": len(inv.resources), "advertised_scopes": len(inv.scopes["advertised"]),
            "matrix_rows": len(rows), "flags": len(inv.flags),
            "inventory_ms_p50": round(med(ours) * 1000, 1), "inventory_ms_max": round(max(ours) * 1000, 1),
            "html_report_ms_p50": round(med(html) * 1000, 1),
            "baseline_json_loads_ms_p50": round(med(base) * 1000, 2),
            "ratio_inventory_to_json_loads": round(med(ours) / med(base), 1)}


def bench_probes(n: int = 20, delay_s: float = 0.3) -> dict:
    from PySide6.QtCore import QElapsedTimer, QTimer

    from core.commands.context import Context
    from core.commands.endpoints import ConfigureEndpoint
    from core.fhir.loopback import LoopbackFhirServer, key_pair
    from core.store.db import open_store
    from ui.app import application
    from ui.views.endpoints_view import EndpointsView

    app = application()
    secrets.use_memory()
    store = open_store(f"sqlite:///{Path(tempfile.mkdtemp()) / 'probes.db'}")
    ctx = Context(store, actor="bench")
    private, public = key_pair()
    server = LoopbackFhirServer(public_key_pem=public).__enter__()
    for i in range(n):
        ConfigureEndpoint(ctx).run(f"endpoint {i:02d}", secret=private, base_url=server.base_url, auth="backend",
                                   client_id="lanewatch", token_url=server.token_url, alg="RS384",
                                   scopes_requested="system/Patient.rs")
    view = EndpointsView(ctx)
    view.show()
    view.refresh()
    deadline = time.monotonic() + 10
    while view.model.rowCount() < n and time.monotonic() < deadline:
        app.processEvents()
    server.delay_s = delay_s

    def gaps_while(condition, at_least_s: float) -> list[float]:
        gaps, clock = [], QElapsedTimer()
        clock.start()
        timer = QTimer(interval=10)
        timer.timeout.connect(lambda: (gaps.append(clock.restart()),))
        timer.start()
        t0 = time.monotonic()
        while condition() or time.monotonic() - t0 < at_least_s:
            app.processEvents()
            time.sleep(0.001)
        timer.stop()
        return gaps[1:]

    idle = gaps_while(lambda: False, 2.0)
    t0 = time.perf_counter()
    view.probe_all()
    busy = gaps_while(lambda: view.probing, 0)
    seconds = time.perf_counter() - t0
    verdict = view.state.text()
    server.__exit__(None, None, None)
    store.close()
    q = lambda xs, p: sorted(xs)[int(len(xs) * p) - 1]  # noqa: E731
    return {"endpoints": n, "server_delay_per_request_ms": delay_s * 1000, "probe_all_s": round(seconds, 2),
            "serial_would_take_s": round(n * 3 * delay_s, 1), "outcome": verdict,
            "gui_gap_max_ms_while_probing": max(busy), "gui_gap_p95_ms_while_probing": q(busy, 0.95),
            "gui_gap_max_ms_idle_baseline": max(idle), "gui_gap_p95_ms_idle_baseline": q(idle, 0.95)}


if __name__ == "__main__":
    print(json.dumps({"inventory": bench_inventory(), "probes": bench_probes()}, indent=2))
