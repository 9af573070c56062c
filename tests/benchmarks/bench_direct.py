"""Document lane benchmark: prints JSON figures.
Run: uv run python tests/benchmarks/bench_direct.py [--count N] [--xsd PATH]

Writes an mbox of N Direct messages, each carrying a C-CDA Referral Note, with their MDNs
(processed for each, dispatched for a third), and ingests it into fresh SQLite stores:
the messages alone, then messages and MDNs, with the CDA schema check off and on (the
schema: --xsd, else ../shared's CDA_SDTC.xsd when there). Reports mails/s and
documents/s for each, the pairing cost (the MDNs' extra time per MDN), and resident memory
by tenth of the way; then the same messages signed and sealed as Direct sends them, opened
with the receiver's key and verified (their cost over the plain ones). The baseline, in the same run: plain HL7 ingest of as many messages.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import psutil

from core import demo_direct, secrets
from core.demo import write_logs
from core.documents import validate
from core.ingest import Ingestor
from core.store import direct_keys
from core.store.db import open_store

SHARED_XSD = Path(__file__).resolve().parents[3] / "shared/corpora/cda/hl7-cda-core-2.0/schema/extensions/SDTC/infrastructure/cda/CDA_SDTC.xsd"
T0 = datetime(2026, 12, 1, 7, 0)


def write(folder: Path, count: int, notices: bool, secure=None) -> Path:
    """`secure`: (the sender's certificate and key, the receiver's certificate): every message
    signed, then sealed to the receiver, as Direct sends it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "hisp.mbox"
    with open(path, "wb") as f:
        for i in range(count):
            at = T0 + timedelta(seconds=2 * i)
            to = demo_direct.RECEIVERS[i % len(demo_direct.RECEIVERS)]
            mid = f"b{i}@northside-fm.example"
            mail = demo_direct.message(mid, demo_direct.PRACTICE, [to], at, dispatched=i % 3 == 0,
                                       document=demo_direct.referral(i, at))
            if secure:
                (cert, key), theirs = secure
                mail = demo_direct.seal(demo_direct.sign(mail, cert, key), theirs)
            mails = [(at, mail)]
            if notices:
                mails.append((at, demo_direct.mdn(f"m{i}@hisp", mid, to, demo_direct.PRACTICE, at + timedelta(seconds=30))))
                if i % 3 == 0:
                    mails.append((at, demo_direct.mdn(f"d{i}@hisp", mid, to, demo_direct.PRACTICE, at + timedelta(seconds=60),
                                                      "dispatched", final=True)))
            f.write(demo_direct.mbox(mails))
    return path


def ingest(root: Path, name: str, paths: list[Path], key=None) -> tuple[float, int, list[float]]:
    store = open_store(f"sqlite:///{root / f'{name}.db'}", create=True)
    if key:  # the receiving practice's certificate and private key, as `direct-key add` keeps them
        with store.begin() as conn:
            direct_keys.add(conn, *key, T0)
    proc, rss, done = psutil.Process(), [], threading.Event()

    def sample() -> None:
        while not done.wait(0.25):
            rss.append(proc.memory_info().rss / 2**20)

    threading.Thread(target=sample, daemon=True).start()
    t0 = time.perf_counter()
    summary = Ingestor(store, now=lambda: T0 + timedelta(days=1)).ingest_paths(paths)
    seconds = time.perf_counter() - t0
    done.set()
    store.close()
    return seconds, summary.messages, [round(rss[int(len(rss) * k / 10)], 1) for k in range(10)] if rss else []


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10_000, help="Direct messages (each with one document)")
    ap.add_argument("--xsd", help="the CDA schema (CDA_SDTC.xsd)")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="lanewatch-bench-direct-"))
    bare, full = write(root / "bare", args.count, False), write(root / "full", args.count, True)
    write_logs(root / "hl7", args.count)
    xsd = args.xsd or (str(SHARED_XSD) if SHARED_XSD.is_file() else None)
    figures: dict = {"direct_messages": args.count, "mbox_mib": round(full.stat().st_size / 2**20, 1)}
    hl7_s, hl7_n, _ = ingest(root, "hl7", [root / "hl7"])
    figures["baseline_hl7_per_s"] = round(hl7_n / hl7_s)
    os.environ.pop(validate.XSD_ENV, None)
    bare_s, _, _ = ingest(root, "bare", [bare])
    full_s, full_n, rss = ingest(root, "full", [full])
    mdns = full_n - args.count
    figures.update(xsd_off={"mails_per_s": round(full_n / full_s), "documents_per_s": round(args.count / full_s),
                            "messages_only_per_s": round(args.count / bare_s), "rss_mib_by_tenth": rss},
                   pairing_ms_per_mdn=round((full_s - bare_s) / mdns * 1000, 3), mdns=mdns)
    if xsd:
        os.environ[validate.XSD_ENV] = xsd
        on_s, on_n, rss_on = ingest(root, "full_xsd", [full])
        figures["xsd_on"] = {"mails_per_s": round(on_n / on_s), "documents_per_s": round(args.count / on_s),
                             "rss_mib_by_tenth": rss_on}
        figures["xsd_cost_ms_per_document"] = round((on_s - full_s) / args.count * 1000, 3)
    else:
        figures["xsd_on"] = "not measured: no CDA schema (--xsd)"
    practice, receiver = demo_direct.certificate(demo_direct.PRACTICE), demo_direct.certificate(demo_direct.RECEIVERS[0])
    secure = write(root / "secure", args.count, False, secure=(practice, receiver[0]))
    os.environ.pop(validate.XSD_ENV, None)
    secrets.use_memory()
    secure_s, _, _ = ingest(root, "secure", [secure], key=(demo_direct.RECEIVERS[0], *receiver))
    figures["signed_and_sealed"] = {"mails_per_s": round(args.count / secure_s),
                                    "cost_ms_per_mail_over_plain": round((secure_s - bare_s) / args.count * 1000, 3),
                                    "mbox_mib": round(secure.stat().st_size / 2**20, 1)}
    figures["mails_vs_hl7"] = round((full_n / full_s) / (hl7_n / hl7_s), 2)
    print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
