"""Recording tap benchmark: the latency the tap adds to an app's call. Prints JSON figures.
Run: uv run python tests/benchmarks/bench_fhir_tap.py [--calls 2000] [--plain]

A FHIR server on loopback (core.fhir.loopback, over TLS with a certificate made for the
run, unless --plain) answers a search and a create. The same calls are made directly and
through the tap (which verifies the server's certificate, records each exchange and stores
it in a fresh SQLite store), alternating one by one so that both see the same noise of a
shared machine; each client keeps its connection alive, as an app does. Figures: p50/p95 of
each, the difference of the medians (the target: under 2 ms at p50), and whether every
exchange was stored.
"""
from __future__ import annotations

import argparse
import json
import ssl
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx2

from core import secrets
from core.commands.context import Context
from core.commands.endpoints import ConfigureEndpoint
from core.demo_har import jwt
from core.fhir.loopback import LoopbackFhirServer
from core.sources.fhir_tap import FhirTap
from core.store import endpoints
from core.store.db import open_store

OBSERVATION = {"resourceType": "Observation", "status": "final", "code": {"coding": [
    {"system": "http://loinc.org", "code": "39156-5", "display": "Body mass index"}]},
    "subject": {"reference": "Patient/example"}, "valueQuantity": {"value": 16.2, "unit": "kg/m2"}}


def _certificate(folder: Path) -> tuple[str, str]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=bench",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return str(cert), str(key)


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=2000, help="calls each way (half searches, half creates)")
    ap.add_argument("--plain", action="store_true", help="plain HTTP to the server instead of TLS")
    args = ap.parse_args()
    secrets.use_memory()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tls = None if args.plain else _certificate(folder)
        trust = ssl.create_default_context(cafile=tls[0]) if tls else None
        store = open_store(f"sqlite:///{folder / 'store.db'}", create=True)
        with LoopbackFhirServer(tls=tls) as server:
            ConfigureEndpoint(Context(store)).run("sandbox", base_url=server.base_url, write_enabled=True,
                                                  contracted_writes=["Observation.create"])
            tap = FhirTap(store, endpoints.get(store, "sandbox"), verify=trust)
            token = jwt({"scope": "patient/Patient.read patient/Observation.write", "client_id": "bench-app"})
            server.tokens[token] = time.time() + 3600
            auth = {"Authorization": f"Bearer {token}"}
            direct = httpx2.Client(base_url=server.base_url, headers=auth, verify=trust or True)
            tapped = httpx2.Client(base_url=tap.start(), headers=auth)
            took: dict[str, list[float]] = {"direct": [], "tap": []}
            for n in range(args.calls + 50):  # the first 50 of each warm up and are not counted
                for name, client in (("direct", direct), ("tap", tapped)) if n % 2 else (("tap", tapped), ("direct", direct)):
                    t = time.perf_counter()
                    answer = client.get("/Patient", params={"name": "SMITH"}) if n % 4 < 2 else \
                        client.post("/Observation", json=OBSERVATION)
                    ms = (time.perf_counter() - t) * 1000
                    assert answer.status_code in (200, 201), answer.status_code
                    if n >= 50:
                        took[name].append(ms)
            direct.close()
            tapped.close()
            t = time.perf_counter()
            tap.close()
            drain_s = time.perf_counter() - t
        store.close()
    p50 = {k: statistics.median(v) for k, v in took.items()}
    print(json.dumps({
        "calls_each_way": args.calls, "upstream": "http" if args.plain else "https (verified)",
        "direct_p50_ms": round(p50["direct"], 3), "direct_p95_ms": round(_percentile(took["direct"], 0.95), 3),
        "tap_p50_ms": round(p50["tap"], 3), "tap_p95_ms": round(_percentile(took["tap"], 0.95), 3),
        "added_p50_ms": round(p50["tap"] - p50["direct"], 3),
        "added_p95_ms": round(_percentile(took["tap"], 0.95) - _percentile(took["direct"], 0.95), 3),
        "ratio_p50": round(p50["tap"] / p50["direct"], 2),
        "recorded": tap.stats.exchanges, "stored": tap.stats.stored, "store_drain_after_last_call_s": round(drain_s, 2),
        "problems": tap.stats.problems}, indent=1))


if __name__ == "__main__":
    main()
