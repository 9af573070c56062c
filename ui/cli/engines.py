"""Headless engines: add, set, list, channels, poll, remove; and reprocess through one.

The API user's password is never taken on the command line (it would sit in the shell's
history): it comes on standard input (--password-stdin) and goes to the OS keyring."""
from __future__ import annotations

import sys
import threading

from core import labels
from core.commands.context import Context
from core.commands.engines import ConfigureEngine, PollEngines, RemoveEngine, engine
from core.commands.reprocess import Reprocess
from core.store import engines
from ui.cli import values
from ui.cli.output import ExitCode, json_line, password_from_stdin, remove_named, settings_target, verb
from ui.cli.resend import confirm_and_run
from ui.cli.triage import chosen_items

LIST_FIELDS = ("id", "name", "url", "username", "ca_file", "write_enabled", "rate", "concurrency", "page_size", "version",
               "server_id", "checked_at", "problem")
CHANNEL_FIELDS = ("engine", "channel_id", "name", "state", "received", "filtered", "queued", "sent", "errored", "cursor",
                  "polled_at", "interface_id")


def register(sub, common) -> None:
    s = verb(sub, common, "engine", cmd_engine, "interface engines (Mirth Connect, Open Integration Engine, BridgeLink): "
             "add, set, list, channels, poll, remove", store=lambda a: "write" if a.action == "add" else "read")
    s.add_argument("action", choices=("add", "set", "list", "channels", "poll", "remove"))
    s.add_argument("name", nargs="*", help="the engine's name (add: NAME URL, e.g. https://mirth.example:8443)")
    s.add_argument("--user", type=values.words, help="the engine's API user")
    s.add_argument("--password-stdin", action="store_true", help="read the API user's password from stdin (kept in the keyring)")
    s.add_argument("--ca-file", help="PEM to verify the engine's certificate by (an engine's own is self-signed); '' clears")
    s.add_argument("--writes", choices=("on", "off"), help="allow reprocessing through this engine")
    s.add_argument("--rate", type=values.decimal(0, 100, "calls a second"), help="API calls a second at most (default 10)")
    s.add_argument("--concurrency", type=values.whole(1, 8, "channels at once"), help="channels polled at once (default 2)")
    s.add_argument("--page-size", type=values.whole(1, 1000, "messages a call"), help="messages a call (default 50)")
    s.add_argument("--no-check", action="store_true", help="set: keep the settings without signing in to try them")
    s.add_argument("--watch", type=values.decimal(1, 86_400, "seconds"), metavar="SECONDS",
                   help="poll: go on polling every SECONDS until interrupted")
    s.add_argument("--json", action="store_true")
    s = verb(sub, common, "reprocess", cmd_reprocess, "reprocess queue items' messages through the engine they came from")
    s.add_argument("items", nargs="*", type=values.identifier)
    s.add_argument("--group", help="every open item with this signature")
    s.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    s.add_argument("--after-unknown", action="store_true", help="reprocess even though an earlier attempt's outcome is "
                   "unknown: say so only after checking in the engine that it was not reprocessed")
    s.add_argument("--again", action="store_true", help="reprocess a message that was already resent or reprocessed")


def cmd_engine(ctx: Context, args) -> int:
    if args.action == "list":
        return _list(ctx, args.json)
    if args.action == "channels":
        return _channels(ctx, args.name, args.json)
    if args.action == "poll":
        return _poll(ctx, args.name, args.watch)
    if args.action == "remove":
        return remove_named("engine", args, RemoveEngine(ctx).run)
    name, rest = settings_target("engine", args, lambda n: engines.get(ctx.store, n),
                                 "lanewatch engine add NAME URL --user USER --password-stdin")
    password = password_from_stdin(args)
    e = ConfigureEngine(ctx).run(name, password=password, check=not args.no_check, url=rest[0] if rest else None,
                                 username=args.user, ca_file=args.ca_file,
                                 write_enabled=None if args.writes is None else args.writes == "on", rate=args.rate,
                                 concurrency=args.concurrency, page_size=args.page_size)
    print(f"engine {name}: saved ({e.get('version') and 'version ' + e['version'] + ', ' or ''}"
          f"writes {'ON' if e['write_enabled'] else 'off'})" + (" ; its password is in the OS keyring" if password else ""))
    return ExitCode.OK


def _list(ctx: Context, as_json: bool) -> int:
    for e in engines.every(ctx.store):
        if as_json:
            json_line({k: e[k] for k in LIST_FIELDS})
            continue
        print(f"{e['id']:>3}  {e['name']:16} {e['url']:36} {e['username']:12} {e['version'] or '?':8} "
              f"writes {'ON ' if e['write_enabled'] else 'off'}  {e['problem'] or 'ok'}")
    return ExitCode.OK


def _channels(ctx: Context, names: list[str], as_json: bool) -> int:
    ids = [engine(ctx, n)["id"] for n in names] or [None]
    for engine_id in ids:
        for c in engines.channels(ctx.store, engine_id):
            if as_json:
                json_line({k: c[k] for k in CHANNEL_FIELDS})
                continue
            print(f"{c['engine']:12} {c['name'][:34]:34} {c['state'] or '?':9} received {c['received']:>7} filtered "
                  f"{c['filtered']:>6} queued {c['queued']:>5} sent {c['sent']:>7} errored {c['errored']:>5}  read to {c['cursor']}")
    return ExitCode.OK


def _poll(ctx: Context, names: list[str], watch: float | None) -> int:
    stop = threading.Event()
    while True:
        results = PollEngines(ctx, stop=stop).run(names or None)
        for r in results:
            if r.problem and not r.channels:
                print(f"{r.engine}: {r.problem}", file=sys.stderr)
                continue
            print(f"{r.engine}: {labels.plural(r.stored, 'content')} stored from {labels.plural(len(r.channels), 'channel')}, "
                  f"{labels.plural(r.queued, 'queue item')} raised, {labels.plural(r.requests, 'API call')}")
            for c in r.channels:
                line = f"  {c.name}: {c.messages} new, read to {c.cursor} of {c.top}"
                line += f", {c.resolved} queued now delivered" if c.resolved else ""
                print(line + (f"; problem: {c.problem}" if c.problem else ""), file=sys.stderr if c.problem else sys.stdout)
        if watch is None:
            return ExitCode.ATTENTION if any(r.problem or any(c.problem for c in r.channels) for r in results) else ExitCode.OK
        if stop.wait(watch):
            return ExitCode.OK


def cmd_reprocess(ctx: Context, args) -> int:
    command = Reprocess(ctx)
    plan = command.plan(chosen_items(ctx, args), after_unknown=args.after_unknown, again=args.again)
    return confirm_and_run(command, plan, args.yes, "reprocessing changes state in the engine and beyond it",
                           "Reprocess?", "nothing reprocessed")
