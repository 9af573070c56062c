"""Verbs that bring messages in: ingest, watch, listen, and the demo workspace."""
from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import tempfile
import time
from pathlib import Path

from core import demo_direct, labels, workstation
from core.commands.context import CommandError, Context
from core.demo import workspace
from core.ingest import Ingestor, Summary
from core.progress import Progress
from core.sources.folder import FolderWatcher
from core.store import indexer, messages, queue
from core.store.db import open_store
from core.vocabulary import TriageState
from ui.cli import values
from ui.cli.output import ExitCode, json_line, verb


def register(sub, common) -> None:
    s = verb(sub, common, "ingest", cmd_ingest, "ingest files and folders once", store="write")
    s.add_argument("paths", nargs="+")
    verb(sub, common, "index", cmd_index, "build what a bulk load left for later (text and indexes), now")
    s = verb(sub, common, "status", cmd_status, "the store: its size, its open queue, whether its indexes are behind")
    s.add_argument("--json", action="store_true", help="one JSON record")
    s = verb(sub, common, "watch", cmd_watch, "tail folders, resuming where the last run stopped", store="write")
    s.add_argument("folders", nargs="+")
    s.add_argument("--poll", type=values.seconds, default=1.0, help="seconds between looks (default 1)")
    s.add_argument("--settle", type=values.seconds, default=2.0, help="seconds a file must be still before its last message is taken")
    s = verb(sub, common, "listen", cmd_listen, "a listening MLLP tap: journal every message received, answer it, store it",
             store="write")
    s.add_argument("--port", type=values.port, required=True)
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    s.add_argument("--ack", default="AA", choices=("AA", "AE", "AR", "none"), help="what to answer (for testing senders)")
    s.add_argument("--tls-cert", help="certificate (PEM) to serve TLS with")
    s.add_argument("--tls-key", help="its private key (PEM)")
    s.add_argument("--tls-client-ca", help="require client certificates signed by this CA")
    s = verb(sub, common, "demo", cmd_demo, "generate demo traffic and ingest it, without a window", store="none")
    s.add_argument("--count", type=values.whole(1, 5_000_000, "a message count"), default=20000)
    s.add_argument("--folder")


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
    out.write(f"{labels.plural(summary.files, 'file')}, {summary.bytes / 1e6:.1f} MB, {labels.plural(summary.messages, 'message')} "
              f"in {seconds:.1f} s ({rate:,.0f}/s)\n"
              f"  ACKs {summary.acks:,}, duplicates {summary.duplicates:,}, invalid {summary.invalid:,}, "
              f"unparseable {summary.unparseable:,}; queue items added {summary.queued:,}\n")
    for path in summary.unreadable:
        out.write(f"  not read: {path}\n")


def cmd_ingest(ctx: Context, args) -> int:
    t0 = time.monotonic()
    summary = Ingestor(ctx.store, progress=TerminalProgress()).ingest_paths(args.paths)
    if summary.missing and not summary.files:
        raise CommandError(f"nothing to ingest: {', '.join(summary.missing)} does not exist")
    print_summary(summary, time.monotonic() - t0)
    catch_up(ctx.store)
    if summary.missing:
        print(f"lanewatch ingest: not found: {', '.join(summary.missing)}", file=sys.stderr)
        return ExitCode.ATTENTION
    return ExitCode.OK


def catch_up(store) -> None:
    """Stage two, when a bulk load (this one, or one cut short before) left the indexes behind."""
    with store.read() as conn:
        behind = indexer.behind(conn)
    if behind.caught_up:
        return
    print(behind.words(), file=sys.stderr)
    t0 = time.monotonic()
    try:
        indexer.catch_up(store)
    except KeyboardInterrupt:
        print("indexing stopped: the store is complete, and `lanewatch index` (or the next ingest) goes on with it",
              file=sys.stderr)
        raise
    print(f"indexes up to date ({time.monotonic() - t0:.1f} s)", file=sys.stderr)


def cmd_index(ctx: Context, _args) -> int:
    catch_up(ctx.store)
    return ExitCode.OK


def cmd_status(ctx: Context, args) -> int:
    """The store at a glance: where, how much, what is open, and whether its indexes are behind."""
    with ctx.store.read() as conn:
        behind = indexer.behind(conn)
    found = {"store": ctx.store.location, "messages": messages.count(ctx.store, messages.MessageFilter(acks=False)),
             "acks": messages.count(ctx.store, messages.MessageFilter(acks=True)),
             "open_queue_items": queue.count(ctx.store, queue.QueueFilter(states=[TriageState.OPEN])),
             "text_to_index": behind.text, "indexes_to_build": behind.indexes,
             "configuration_folder": str(workstation.config_folder())}
    if args.json:
        json_line(found)
        return ExitCode.OK
    print(f"store: {found['store']}")
    print(f"messages: {found['messages']:,} and {found['acks']:,} ACKs")
    print(f"queue: {found['open_queue_items']:,} open")
    print(f"configuration folder: {found['configuration_folder']}")
    print(behind.words() + ("" if behind.caught_up else "\n  `lanewatch index` catches up now (so do an ingest and the console)"))
    return ExitCode.OK


def cmd_watch(ctx: Context, args) -> int:
    watcher = FolderWatcher(Ingestor(ctx.store, progress=TerminalProgress()), [Path(p) for p in args.folders],
                            poll_s=args.poll, settle_s=args.settle)
    print(f"watching {', '.join(args.folders)} (Ctrl+C to stop)", file=sys.stderr)
    try:
        watcher.run()
    except KeyboardInterrupt:
        pass
    return ExitCode.OK


def cmd_demo(_ctx: None, args) -> int:
    """The demo workspace without a window: generate traffic, ingest it, print a summary."""
    root = Path(args.folder) if args.folder else Path(tempfile.mkdtemp(prefix="lanewatch-demo-"))
    logs = workspace(root, args.count)
    demo_direct.write(logs / "direct")
    store = open_store(args.db or f"sqlite:///{root / 'demo.db'}")
    print(f"demo workspace: {root}", file=sys.stderr)
    t0 = time.monotonic()
    try:
        summary = Ingestor(store, progress=TerminalProgress()).ingest_paths([logs])
        print_summary(summary, time.monotonic() - t0)
        _demo_engine(store)
        _demo_fhir(store, logs)
        _demo_direct(store)
        for group in queue.groups(store, states=[TriageState.OPEN])[:6]:  # the newest kinds of trouble, not one many times
            print(f"  queue: {group['items']:>4} × {group['kind']:15} {group['example'][:80]}")
    finally:
        store.close()
    return ExitCode.OK


def _demo_direct(store) -> None:
    from collections import Counter

    from core.store import direct
    from core.vocabulary import Disposition

    states = Counter(d["state"] for d in direct.deliveries(store, limit=100_000))
    if states:
        print("  direct deliveries: " + ", ".join(f"{Disposition.label(s)} {n}" for s, n in states.most_common()))


def _demo_fhir(store, logs: Path) -> None:
    """The demo's FHIR server and endpoints, and the portal app's day read from its HAR file."""
    from core import demo_fhir
    from core.store import fhir

    ctx = Context(store)
    server = demo_fhir.start(ctx)
    try:
        Ingestor(store).ingest_paths([demo_fhir.write_har(logs / "fhir", server, ctx)])
    finally:
        server.__exit__(None, None, None)
    every = fhir.exchanges(store, writes=False, limit=100_000)
    writes = [e for e in every if e["is_write"]]
    print(f"  FHIR: {len(every):,} exchanges of the portal app, {len(writes):,} writes, "
          f"{sum(not e['ok'] for e in writes):,} failed, {sum(bool(e['flags']) and e['ok'] for e in writes):,} "
          "taken but flagged (lanewatch fhir-writes)")


def _demo_engine(store) -> None:
    """The demo's engine, polled once (it is gone when the command ends; the window keeps it)."""
    from core import demo_engine
    from core.store import engines

    server = demo_engine.start(Context(store))
    try:
        for c in engines.channels(store):
            print(f"  engine channel {c['name']}: {c['state'].lower()}, {c['received']:,} received, {c['errored']:,} errored, "
                  f"{c['queued']:,} queued")
    finally:
        server.stop()


def cmd_listen(ctx: Context, args) -> int:
    """Run the tap until interrupted, printing a line a second while traffic flows."""
    from core.sources.listener import Listener
    from core.sources.tap_loader import LoaderError
    from core.store.db import StoreError
    from core.transport.mllp import server_tls

    tls = server_tls(args.tls_cert, args.tls_key, args.tls_client_ca) if args.tls_cert else None

    async def run() -> None:
        tap = Listener(ctx.store, args.host, args.port, ack_mode=args.ack, tls=tls)
        try:
            port = await tap.start()
        except LoaderError as exc:
            raise StoreError(f"The tap cannot store what it receives: {exc}.") from None
        except OSError as exc:  # the port is taken, or not ours to listen on
            raise CommandError(f"could not listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
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
    return ExitCode.OK


