"""FHIR lane benchmark (HAR import): prints JSON figures.
Run: uv run python tests/benchmarks/bench_har.py [--count 50000] [--repeats 3] [--pg URL]

Writes a HAR file of N exchanges built from the shared FHIR corpus (an app's session
repeated: sign-in, read, search, creates that succeed and fail with the corpus's
OperationOutcomes, an update to a missing resource, a flagged write, a 429), then imports it
with `lanewatch ingest`'s code path into a fresh store with the endpoint configured: every
exchange judged, failed and flagged writes queued. The baseline, in the same run and on the
same file: `json.load` of the archive and one plain SQLite insert per entry (method, URL,
status, both bodies), one commit at the end. Medians of the repeats, and peak resident
memory (this process and its row worker).
"""
from __future__ import annotations

import argparse
import json
import re
import sqlite3
import statistics
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import psutil

from core import secrets
from core.commands.context import Context
from core.commands.endpoints import ConfigureEndpoint
from core.ingest import Ingestor
from core.store import fhir
from core.store.db import open_store
from tests.helpers.har import BASE, app_session, archive

CORPORA = Path(__file__).resolve().parents[3] / "shared/corpora"
_ID = re.compile(r'(?<=[/="])example(?=["&])')  # the patient's id, not the hosts' names
_WRITTEN = re.compile(r"\b(obs|med|missing)-1\b")  # the ids of what the session writes


def write(path: Path, count: int) -> int:
    """An archive of `count` exchanges: the app's session again and again, each round a
    minute later and with its own resource ids."""
    session = json.dumps(app_session(CORPORA))
    entries: list[dict] = []
    for n in range(count // 9 + 1):
        for e in json.loads(_ID.sub(f"example-{n}", _WRITTEN.sub(rf"\1-{n}", session))):
            at = datetime.fromisoformat(e["startedDateTime"].replace("Z", "+00:00")) + timedelta(minutes=n)
            e["startedDateTime"] = at.isoformat().replace("+00:00", "Z")
            entries.append(e)
    path.write_bytes(archive(entries[:count]))
    return path.stat().st_size


class Peak:
    """Peak resident memory of this process and its children, sampled every 50 ms."""

    def __init__(self) -> None:
        self.mib, self._on = 0.0, True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        me = psutil.Process()
        while self._on:
            try:
                self.mib = max(self.mib, sum(p.memory_info().rss for p in (me, *me.children(recursive=True))) / 2**20)
            except psutil.Error:
                pass
            time.sleep(0.05)

    def stop(self) -> float:
        self._on = False
        self._thread.join()
        return round(self.mib, 1)


def lanewatch(url: str, path: Path) -> tuple[float, int, int, float]:
    """Seconds, exchanges stored, queue items raised, peak RSS MiB."""
    store = open_store(url, create=True)
    ConfigureEndpoint(Context(store)).run("ehr", base_url=BASE, write_enabled=True,
                                          contracted_writes=["Observation.create"])
    peak = Peak()
    ingestor = Ingestor(store)
    t = time.perf_counter()
    ingestor.ingest_paths([path])
    seconds = time.perf_counter() - t
    ingestor.close()
    rss = peak.stop()
    stored = len(fhir.exchanges(store, writes=False, limit=10**7))
    queued = ingestor.summary.queued
    store.close()
    return seconds, stored, queued, rss


def baseline(db: Path, path: Path) -> tuple[float, int]:
    t = time.perf_counter()
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE exchanges (id INTEGER PRIMARY KEY, method TEXT, url TEXT, status INTEGER,"
                 " request TEXT, response TEXT)")
    n = 0
    for e in json.loads(path.read_bytes())["log"]["entries"]:
        conn.execute("INSERT INTO exchanges (method, url, status, request, response) VALUES (?, ?, ?, ?, ?)",
                     (e["request"]["method"], e["request"]["url"], e["response"]["status"],
                      (e["request"].get("postData") or {}).get("text"), e["response"]["content"].get("text")))
        n += 1
    conn.commit()
    conn.close()
    return time.perf_counter() - t, n


def _pg_database(server: str, name: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=50_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--pg", help="also import into PostgreSQL (a server URL that may create databases)")
    args = ap.parse_args()
    secrets.use_memory()
    if not CORPORA.is_dir():
        raise SystemExit(f"the shared corpus is not at {CORPORA}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        har = root / "app.har"
        size = write(har, args.count)
        runs: dict[str, list] = {"lanewatch_sqlite": [], "baseline": []}
        if args.pg:
            runs["lanewatch_postgresql"] = []
        for r in range(args.repeats):
            runs["baseline"].append(baseline(root / f"base{r}.db", har))
            runs["lanewatch_sqlite"].append(lanewatch(f"sqlite:///{root / f'lw{r}.db'}", har))
            if args.pg:
                runs["lanewatch_postgresql"].append(lanewatch(_pg_database(args.pg, f"bench_har_{r}"), har))
    base = statistics.median(s for s, _ in runs["baseline"])
    figures: dict = {"exchanges": args.count, "har_mib": round(size / 2**20, 1), "repeats": args.repeats,
                     "baseline_exchanges_per_s": round(args.count / base)}
    for name, got in runs.items():
        if name == "baseline":
            continue
        seconds = statistics.median(s for s, *_ in got)
        figures[name] = {"exchanges_per_s": round(args.count / seconds),
                         "runs_per_s": [round(args.count / s) for s, *_ in got],
                         "stored": got[0][1], "queued": got[0][2], "peak_rss_mib": max(m for *_, m in got),
                         "vs_baseline": round(base / seconds, 2)}
    print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
