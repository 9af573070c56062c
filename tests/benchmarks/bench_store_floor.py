"""The store's floor for ingest: prints what SQLite alone costs per message.

Run: uv run python tests/benchmarks/bench_store_floor.py [--count N]

Every row and every parameter tuple is built before the clock starts; then only the
statements ingest cannot do without are timed, part by part as ingest commits them: the
message rows with their indexes, the full-text rows, the commit. No framing, scanning,
correlation or Python row work is in the figure, so no ingest can be faster than it on the
same machine and schema (bench_ingest.py measures the real thing).
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import datetime
from pathlib import Path

from core.demo import write_logs
from core.hl7.framing import BATCH
from core.ingest import _MESSAGE_COLUMNS, M
from core.ingest import stamp as _stamp
from core.message_rows import read_parts
from core.store.bulk import _tuples
from core.store.db import open_store


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=300_000)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lanewatch-floor-"))
    files = write_logs(work / "logs", a.count, seed=1)
    store = open_store(f"sqlite:///{work / 'floor.db'}")
    now = datetime(2026, 11, 25)
    parts = [[_stamp(row, 1, "file", None, now) for kind, _, row in p.entries if kind != BATCH]
             for f in files.values() for p in read_parts(f, 0, True)]
    n = 0
    for rows in parts:
        for r in rows:
            n += 1
            r.update(id=n, offset=n, pair_key="a|b", is_ack=bool(r["ack_code"]), interface_id=None, ack_state="pending")
    with store.begin() as conn:
        conn.exec_driver_sql("INSERT INTO sources (id, path, kind, size, offset, state, first_seen, last_seen) "
                             "VALUES (1, 'floor', 'file', 0, 0, 'active', '2026-11-25', '2026-11-25')")
        tuples = [_tuples(conn, M, rows, _MESSAGE_COLUMNS) for rows in parts]
    texts = [[(r["id"], r["text"]) for r in rows] for rows in parts]
    del parts
    insert = (f"INSERT INTO messages ({', '.join(_MESSAGE_COLUMNS)}) "
              f"VALUES ({', '.join('?' * len(_MESSAGE_COLUMNS))})")
    raw = store.engine.raw_connection()
    cur = raw.cursor()
    spent = {"messages": 0.0, "full_text": 0.0, "commit": 0.0}
    for rows, bodies in zip(tuples, texts):
        t0 = time.perf_counter()
        cur.executemany(insert, rows)
        t1 = time.perf_counter()
        cur.executemany("INSERT INTO message_text (rowid, body) VALUES (?, ?)", bodies)
        t2 = time.perf_counter()
        raw.commit()
        t3 = time.perf_counter()
        spent["messages"] += t1 - t0
        spent["full_text"] += t2 - t1
        spent["commit"] += t3 - t2
    raw.close()
    total = sum(spent.values())
    print(json.dumps({
        "messages": n, "parts": len(tuples),
        "us_per_message": {k: round(v / n * 1e6, 1) for k, v in spent.items()} | {"total": round(total / n * 1e6, 1)},
        "floor_messages_per_s": round(n / total),
    }, indent=2))


if __name__ == "__main__":
    main()
