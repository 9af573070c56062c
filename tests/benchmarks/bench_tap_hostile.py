"""The tap under hostile load: prints JSON figures, before and after, in the same run.

Run: uv run python tests/benchmarks/bench_tap_hostile.py [--parked 30] [--frame-mb 15] [--slow 20]
     [--before PATH_TO_AN_OLDER_CHECKOUT]

`lanewatch listen` runs as its own process (from this checkout, and from --before when
given, one after the other). Against it, at once:
- `--parked` peers each send a frame of `--frame-mb` MB without its end block and sit on it;
- `--slow` slowloris peers send a frame one byte a second;
- one good python-hl7 client sends `--good` messages, each waiting for its ACK.
Reported per checkout: the listen process's RSS before the load and its peak under it, the
good traffic's round trip p50/p95 and how many good messages were answered.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import hl7.client
import psutil

HERE = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(HERE))
from tests.helpers.net import free_port, wait_for_port  # noqa: E402

GOOD = ("MSH|^~\\&|LAB|L|EHR|E|20261124120000||ORU^R01^ORU_R01|G{n}|P|2.5.1\r"
        "PID|1||MRN{n}^^^L^MR||DOE^JANE\rOBR|1|P{n}||GLU^Glucose\rOBX|1|NM|GLU^Glucose||98|mg/dL\r")


def park(port: int, size: int, stop: threading.Event) -> None:
    try:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"\x0bMSH|^~\\&|X|X|Y|Y|2026||ORU^R01|P|P|2.5\rOBX|1|ED|PDF||" + b"A" * size)
    except OSError:
        return
    stop.wait(120)
    s.close()


def slowloris(port: int, stop: threading.Event) -> None:
    try:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"\x0bMSH|")
        while not stop.wait(1.0):
            s.sendall(b"x")
    except OSError:
        return


def run(repo: Path, args) -> dict:
    work = Path(tempfile.mkdtemp(prefix="lanewatch-bench-tap-"))
    port = free_port()
    env = dict(os.environ, LANEWATCH_DB=f"sqlite:///{work / 'store.db'}", XDG_DATA_HOME=str(work))
    proc = subprocess.Popen([sys.executable, "-m", "ui.cli.main", "listen", "--port", str(port)], cwd=repo, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, 60)
        ps = psutil.Process(proc.pid)
        rss_idle = ps.memory_info().rss
        stop, peak = threading.Event(), [rss_idle]
        threading.Thread(target=lambda: [peak.append(ps.memory_info().rss) or time.sleep(0.2)
                                         for _ in iter(lambda: stop.is_set(), True)], daemon=True).start()
        hostile = [threading.Thread(target=park, args=(port, args.frame_mb << 20, stop), daemon=True)
                   for _ in range(args.parked)]
        hostile += [threading.Thread(target=slowloris, args=(port, stop), daemon=True) for _ in range(args.slow)]
        for t in hostile:
            t.start()
        time.sleep(args.settle)
        trips, answered = [], 0
        with hl7.client.MLLPClient("127.0.0.1", port) as client:
            for n in range(args.good):
                t0 = time.perf_counter()
                try:
                    if b"MSA|AA" in client.send_message(GOOD.format(n=n)):
                        answered += 1
                except OSError:
                    break
                trips.append(time.perf_counter() - t0)
        stop.set()
        q = statistics.quantiles(trips, n=20) if len(trips) > 1 else [float("nan")] * 19
        return {"checkout": str(repo), "rss_idle_mib": round(rss_idle / 2**20, 1),
                "rss_peak_mib": round(max(peak) / 2**20, 1), "good_answered": answered, "good_sent": args.good,
                "good_p50_ms": round(statistics.median(trips) * 1000, 2) if trips else None,
                "good_p95_ms": round(q[18] * 1000, 2)}
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--parked", type=int, default=30)
    p.add_argument("--frame-mb", type=int, default=15)
    p.add_argument("--slow", type=int, default=20)
    p.add_argument("--good", type=int, default=300)
    p.add_argument("--settle", type=float, default=8.0, help="seconds the hostile peers get before good traffic starts")
    p.add_argument("--before", type=Path, help="an older checkout to measure first, for comparison")
    args = p.parse_args()
    results = ([run(args.before, args)] if args.before else []) + [run(HERE, args)]
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
