"""Headless commands: everything the console does, scriptable (`lanewatch <verb>`)."""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from core import cli_fhir, cli_flows, cli_triage
from core import cli_values as values
from core.commands.context import CommandError
from core.demo import workspace
from core.ingest import Ingestor, Summary
from core.progress import Progress
from core.sources.folder import FolderWatcher
from core.store import queries
from core.store.db import Store, StoreError, open_store

MESSAGE_FIELDS = ("id", "control_id", "type", "version", "sending_app", "sending_facility", "receiving_app",
                  "receiving_facility", "patient_id", "message_time", "source", "offset", "size", "sha256",
                  "parse_state", "reason", "ack_state", "ack_code", "ack_id", "answers_id", "duplicate_of", "transport")
QUEUE_FIELDS = ("id", "message_id", "source", "kind", "reason", "signature", "triage_state", "owner", "created_at")


class TerminalProgress(Progress):
    """A one-line progress bar on stderr when it is a terminal; silent otherwise."""

    def __init__(self, stream=None) -> None:
        stream = stream or sys.stderr
        self.stream, self.total, self.done, self.messages = stream, 0, 0, 0
        self.live = stream.isatty()
        self.t0 = time.monotonic()
        self._shown = 0.0

    def started(self, total_bytes: int) -> None:
        self.total = total_bytes

    def advanced(self, nbytes: int, messages: int) -> None:
        self.done += nbytes
        self.messages += messages
        now = time.monotonic()
        if self.live and now - self._shown > 0.1:
            self._shown = now
            share = self.done / self.total if self.total else 1.0
            bar = "#" * int(share * 30)
            rate = self.done / max(now - self.t0, 1e-6) / 1e6
            self.stream.write(f"\r[{bar:<30}] {share:6.1%}  {self.done / 1e6:8.1f} MB  {rate:6.1f} MB/s")
            self.stream.flush()

    def problem(self, text: str) -> None:
        self.stream.write(("\n" if self.live else "") + f"warning: {text}\n")

    def finished(self) -> None:
        if self.live:
            self.stream.write("\n")


def print_summary(summary: Summary, seconds: float, out=None) -> None:
    out = out or sys.stdout
    rate = summary.messages / seconds if seconds else 0
    out.write(f"{_count(summary.files, 'file')}, {summary.bytes / 1e6:.1f} MB, {_count(summary.messages, 'message')} "
              f"in {seconds:.1f} s ({rate:,.0f}/s)\n"
              f"  ACKs {summary.acks:,}, duplicates {summary.duplicates:,}, invalid {summary.invalid:,}, "
              f"unparseable {summary.unparseable:,}; queue items added {summary.queued:,}\n")
    for path in summary.unreadable:
        out.write(f"  not read: {path}\n")


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' if n != 1 else ''}"


def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _message_json(row: dict) -> dict:
    out = {k: row.get(k) for k in MESSAGE_FIELDS}
    out["type"] = row["message_type"]
    out["ack_code"] = row["ack_result"] if not row["is_ack"] else row["ack_code"]
    return out


def cmd_ingest(store: Store, args) -> int:
    t0 = time.monotonic()
    summary = Ingestor(store, progress=TerminalProgress()).ingest_paths(args.paths)
    if summary.missing and not summary.files:
        raise CommandError(f"nothing to ingest: {', '.join(summary.missing)} does not exist")
    print_summary(summary, time.monotonic() - t0)
    if summary.missing:
        print(f"lanewatch: not found: {', '.join(summary.missing)}", file=sys.stderr)
        return 2
    return 0


def cmd_watch(store: Store, args) -> int:
    watcher = FolderWatcher(Ingestor(store, progress=TerminalProgress()), [Path(p) for p in args.folders],
                            poll_s=args.poll, settle_s=args.settle)
    print(f"watching {', '.join(args.folders)} (Ctrl+C to stop)", file=sys.stderr)
    try:
        watcher.run()
    except KeyboardInterrupt:
        pass
    return 0


def cmd_messages(store: Store, args) -> int:
    flt = queries.MessageFilter(
        types=args.type, parse_states=args.state, ack_states=args.ack_state, sender=args.sender,
        receiver=args.receiver, control_id=args.control_id, patient_id=args.patient_id,
        since=args.since, until=args.until,
        text=args.text)
    out = sys.stdout
    for n, row in enumerate(queries.iter_messages(store, flt)):
        if args.limit and n >= args.limit:
            break
        if args.json:
            out.write(json.dumps(_message_json(row), default=_json_default) + "\n")
        else:
            out.write(f"{row['id']:>8}  {str(row['message_time'] or ''):19}  {row['message_type'] or '-':9}  "
                      f"{row['control_id'] or '-':22}  {row['sending_app'] or '?'} → {row['receiving_app'] or '?'}  "
                      f"{row['parse_state']:11}  {row['ack_state']}\n")
    return 0


def cmd_queue(store: Store, args) -> int:
    if args.groups:
        for g in queries.queue_groups(store, states=args.state):
            if args.json:
                sys.stdout.write(json.dumps(g, default=_json_default) + "\n")
            else:
                sys.stdout.write(f"{g['items']:>6}  {g['kind']:14}  {g['newest']:%Y-%m-%d %H:%M}  {g['signature'][:110]}\n")
        return 0
    for item in queries.queue_items(store, states=args.state, kinds=args.kind, limit=args.limit):
        if args.json:
            sys.stdout.write(json.dumps({k: item.get(k) for k in QUEUE_FIELDS}, default=_json_default) + "\n")
        else:
            sys.stdout.write(f"{item['id']:>6}  {item['triage_state']:12}  {item['kind']:15}  {item['reason'][:100]}\n")
    return 0


def cmd_demo(args) -> int:
    """The demo workspace without a window: generate traffic, ingest it, print a summary."""
    root = Path(args.folder) if args.folder else Path(tempfile.mkdtemp(prefix="lanewatch-demo-"))
    logs = workspace(root, args.count)
    store = open_store(args.db or f"sqlite:///{root / 'demo.db'}")
    print(f"demo workspace: {root}", file=sys.stderr)
    t0 = time.monotonic()
    summary = Ingestor(store, progress=TerminalProgress()).ingest_paths([logs])
    print_summary(summary, time.monotonic() - t0)
    for item in queries.queue_items(store, states=["open"], limit=5):
        print(f"  queue: {item['kind']:12} {item['reason'][:90]}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = values.Parser(prog="lanewatch", description="Triage console for HL7 v2 and FHIR interfaces.")
    p.add_argument("--db", help="store URL or SQLite path (default: LANEWATCH_DB, else the user data folder)")
    p.add_argument("--demo", action="store_true", help="open a fresh demo workspace")
    p.add_argument("--init", action="store_true", help="create the store named by --db if there is none yet")
    sub = p.add_subparsers(dest="verb")
    s = sub.add_parser("ingest", help="ingest files and folders once")
    s.add_argument("paths", nargs="+")
    s = sub.add_parser("watch", help="tail folders, resuming where the last run stopped")
    s.add_argument("folders", nargs="+")
    s.add_argument("--poll", type=values.seconds, default=1.0, help="seconds between looks (default 1)")
    s.add_argument("--settle", type=values.seconds, default=2.0, help="seconds a file must be still before its last message is taken")
    s = sub.add_parser("listen", help="a listening MLLP tap: journal every message received, answer it, store it")
    s.add_argument("--port", type=values.port, required=True)
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    s.add_argument("--ack", default="AA", choices=("AA", "AE", "AR", "none"), help="what to answer (for testing senders)")
    s.add_argument("--tls-cert", help="certificate (PEM) to serve TLS with")
    s.add_argument("--tls-key", help="its private key (PEM)")
    s.add_argument("--tls-client-ca", help="require client certificates signed by this CA")
    s = sub.add_parser("messages", help="list messages (JSON Lines with --json)")
    s.add_argument("--type", action="append", help="message type, e.g. ORU^R01 or ORU (repeatable)")
    s.add_argument("--state", action="append", choices=("ok", "invalid", "unparseable"))
    s.add_argument("--ack-state", action="append")
    s.add_argument("--sender", type=values.words)
    s.add_argument("--receiver", type=values.words)
    s.add_argument("--control-id", type=values.words)
    s.add_argument("--patient-id", type=values.words)
    s.add_argument("--since", type=values.moment, help="ISO time, today, yesterday, or 30m / 2h / 7d ago")
    s.add_argument("--until", type=values.moment)
    s.add_argument("--text", type=values.words, help="free text: every word must appear")
    s.add_argument("--limit", type=values.count)
    s.add_argument("--json", action="store_true")
    s = sub.add_parser("queue", help="list queue items (JSON Lines with --json)")
    s.add_argument("--state", action="append", help="triage state (repeatable)")
    s.add_argument("--kind", action="append")
    s.add_argument("--limit", type=values.count)
    s.add_argument("--json", action="store_true")
    s.add_argument("--groups", action="store_true", help="one line per signature, with counts")
    cli_triage.add_parsers(sub)
    cli_fhir.add_parsers(sub)
    cli_flows.add_parsers(sub)
    s = sub.add_parser("demo", help="generate demo traffic and ingest it, without a window")
    s.add_argument("--count", type=values.whole(1, 5_000_000, "a message count"), default=20000)
    s.add_argument("--folder")
    return p


def cmd_listen(store: Store, args) -> int:
    """Run the tap until interrupted, printing a line a second while traffic flows."""
    import asyncio

    from core.sources.listener import Listener
    from core.transport.mllp import server_tls

    tls = server_tls(args.tls_cert, args.tls_key, args.tls_client_ca) if args.tls_cert else None

    async def run() -> None:
        tap = Listener(store, args.host, args.port, ack_mode=args.ack, tls=tls)
        port = await tap.start()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):  # a service manager's stop: store what was answered, then exit
            with contextlib.suppress(NotImplementedError, RuntimeError):
                asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        print(f"listening on {args.host}:{port} ({'TLS' if tls else 'plain'}), answering {args.ack}", file=sys.stderr)
        seen, problems = 0, 0
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1)
                if tap.stats.received != seen or len(tap.stats.problems) != problems:
                    seen, problems = tap.stats.received, len(tap.stats.problems)
                    peers = ", ".join(tap.peers) or "none connected"
                    print(f"{seen} received, {tap.stats.answered} answered; peers: {peers}", file=sys.stderr)
                    for text in tap.stats.problems[-3:]:
                        print(f"  problem: {text}", file=sys.stderr)
        finally:
            await tap.close()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    return 0


HEADLESS = {"listen": cmd_listen, "ingest": cmd_ingest, "watch": cmd_watch, "messages": cmd_messages, "queue": cmd_queue}


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # `lanewatch messages | head`: the reader has all it wants
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


WRITERS = ("ingest", "watch", "listen", "endpoint add")  # what puts a first thing in a store may make it


def may_create(db: str | None, init: bool, verb: str | None, action: str | None = None) -> bool:
    """A store is made only when asked: --init, a verb that puts something in it, or the
    default store on its first run. A read (`messages`, `queue`...) never adds tables anywhere."""
    return init or verb in WRITERS or f"{verb} {action}" in WRITERS or not (db or os.environ.get("LANEWATCH_DB"))


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.verb == "demo":
        return cmd_demo(args)
    try:
        store = open_store(args.db, create=may_create(args.db, args.init, args.verb, getattr(args, "action", None)))
    except StoreError as exc:
        print(f"lanewatch: {exc}", file=sys.stderr)
        return 2
    try:
        for verbs in (cli_triage.VERBS, cli_fhir.VERBS, cli_flows.VERBS):
            if args.verb in verbs:
                return cli_triage.run(store, args, verbs)
        return cli_triage.run(store, args, {args.verb: lambda _ctx, a: HEADLESS[a.verb](store, a)})
    finally:
        store.close()
