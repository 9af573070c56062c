"""Cold start to a visible window, the frozen bundle against `uv run`, in the same run.

Run: uv run python tests/benchmarks/bench_startup.py [--bundle dist/lanewatch/lanewatch] [--runs 7]

Each run starts the program on a virtual screen of its own (Xvfb) with fresh data,
settings and log folders, and watches from outside (xdotool) for a visible window with
"Lanewatch" in its title: the demo's main window, and, on a workstation with no store
yet, the welcome page. For the demo it also times the queue filling: the demo store's
queue_items table, read with sqlite3 as the window ingests. The two ways of starting
alternate, and medians are printed (the machine is shared and noisy) with their ratio.
Needs Debian's xvfb and xdotool.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.helpers.stores import demo_queue_filled  # noqa: E402


def xvfb() -> tuple[subprocess.Popen, str]:
    for number in range(91, 120):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            server = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1600x1000x24", "-nolisten", "tcp", "-noreset"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and server.poll() is None:  # until it answers, not only until its socket is there
                if subprocess.run(["xdotool", "getdisplaygeometry"], capture_output=True,
                                  env={**os.environ, "DISPLAY": f":{number}"}).returncode == 0:
                    return server, f":{number}"
                time.sleep(0.05)
            server.kill()
    raise SystemExit("no free display number for Xvfb")


def visible(display: str, title: str) -> bool:
    found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", title], capture_output=True, text=True,
                           env={**os.environ, "DISPLAY": display})
    return bool(found.stdout.strip())


def once(command: list[str], display: str, *, demo: bool, timeout: float = 60) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="lanewatch-start-") as home:
        tmp = Path(home) / "tmp"
        tmp.mkdir()
        env = {**os.environ, "DISPLAY": display, "HOME": home, "TMPDIR": str(tmp), "XDG_DATA_HOME": f"{home}/data",
               "XDG_CONFIG_HOME": f"{home}/config", "XDG_STATE_HOME": f"{home}/state", "XDG_CONFIG_DIRS": f"{home}/etc"}
        for name in ("QT_QPA_PLATFORM", "LANEWATCH_DB", "WAYLAND_DISPLAY"):
            env.pop(name, None)
        title = "Lanewatch" if demo else "Welcome to Lanewatch"
        started = time.monotonic()
        wall = time.time()
        errors = (Path(home) / "stderr").open("w+")
        proc = subprocess.Popen(command + (["--demo"] if demo else []), env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=errors, start_new_session=True)
        out: dict[str, float] = {}
        try:
            while "window_s" not in out or (demo and "queue_s" not in out):
                now = time.monotonic() - started
                if now > timeout or proc.poll() is not None:
                    errors.seek(0)
                    said = errors.read().strip().splitlines()[:4]
                    raise SystemExit(f"{' '.join(command)}: no window after {now:.0f} s (exit {proc.poll()}): {said}")
                if "window_s" not in out and visible(display, title):
                    out["window_s"] = now
                if demo and "queue_s" not in out and demo_queue_filled(tmp, wall - 1):
                    out["queue_s"] = time.monotonic() - started
                time.sleep(0.02)
        finally:  # the whole group: `uv run` is a parent of the console's process
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(20)
            deadline = time.monotonic() + 20
            while visible(display, "Lanewatch") and time.monotonic() < deadline:  # the screen is empty again
                time.sleep(0.05)
        return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "lanewatch" / "lanewatch")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if not (shutil.which("Xvfb") and shutil.which("xdotool")):
        raise SystemExit("needs Xvfb and xdotool (apt-get install xvfb xdotool)")
    ways = {"uv_run": [shutil.which("uv") or "uv", "run", "--no-sync", "lanewatch"]}
    if args.bundle.exists():
        ways["bundle"] = [str(args.bundle)]
    else:
        print(f"no bundle at {args.bundle} (packaging/build.py bundle): timing uv run only", file=sys.stderr)
    server, display = xvfb()
    samples: dict[str, dict[str, list[float]]] = {w: {} for w in ways}
    try:
        for command in ways.values():  # a warm disk: one untimed start of each first
            once(command, display, demo=True)
        for _ in range(args.runs):
            for name, command in ways.items():
                for key, value in once(command, display, demo=True).items():
                    samples[name].setdefault(f"demo_{key}", []).append(value)
                for key, value in once(command, display, demo=False).items():
                    samples[name].setdefault(f"first_run_{key}", []).append(value)
    finally:
        server.terminate()
    report: dict[str, dict[str, float]] = {n: {k: round(statistics.median(v), 3) for k, v in s.items()}
                                           for n, s in samples.items()}
    if "bundle" in report:
        size = sum(f.lstat().st_size for f in args.bundle.parent.rglob("*") if f.is_file() and not f.is_symlink())
        report["bundle"]["size_mib"] = round(size / 2**20, 1)
        report["ratio_bundle_over_uv_run"] = {k: round(report["bundle"][k] / report["uv_run"][k], 2)
                                              for k in report["uv_run"]}
    report["runs"] = {"each": args.runs}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
