"""Any benchmark here, for an older checkout and this one, alternating, in the same run.

Run: uv run python tests/benchmarks/compare.py --before PATH_TO_AN_OLDER_CHECKOUT [--rounds 3] \\
         bench_ingest.py --count 200000

Each round runs the benchmark from the older checkout, then from this one (same Python,
same dependencies, its own code: PYTHONPATH and working folder are the checkout's), takes
the JSON figures it prints and reports, per figure, both medians and after/before. The
machine is shared and noisy: alternating and taking medians is what makes a ratio fair.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def figures(obj, prefix: str = "") -> dict[str, float]:
    """Every number in a JSON document, by its path (a.b.c)."""
    out: dict[str, float] = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(figures(v, f"{prefix}{k}."))
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        out[prefix.rstrip(".")] = float(obj)
    return out


def run(checkout: Path, script: str, args: list[str]) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run([sys.executable, str(checkout / "tests" / "benchmarks" / script), *args], cwd=checkout,
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{script} failed in {checkout}: {done.stderr.strip().splitlines()[-1:]}")
    text = done.stdout
    return figures(json.loads(text[text.index("{"):text.rindex("}") + 1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True, type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("script")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    before: list[dict] = []
    after: list[dict] = []
    for _ in range(a.rounds):
        before.append(run(a.before.resolve(), a.script, a.args))
        after.append(run(HERE, a.script, a.args))
    report = {}
    for key in sorted(set(before[0]) & set(after[0])):
        b = statistics.median(r[key] for r in before if key in r)
        n = statistics.median(r[key] for r in after if key in r)
        report[key] = {"before": round(b, 3), "after": round(n, 3), "after/before": round(n / b, 3) if b else None}
    print(json.dumps({"script": a.script, "args": a.args, "rounds": a.rounds, "figures": report}, indent=1))


if __name__ == "__main__":
    main()
