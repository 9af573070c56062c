"""Verbs that list what the store holds: messages and the queue (JSON Lines with --json)."""
from __future__ import annotations

import sys
from dataclasses import replace

from core.commands.context import CommandError, Context
from core.commands.views import FIELDS as VIEW_FIELDS
from core.commands.views import as_filter
from core.hl7 import query
from core.hl7.field_stats import FieldStats
from core.query_filter import hl7_messages
from core.store import messages, queue, views
from core.vocabulary import AckState, Lane, ParseState, QueueKind, TriageState
from ui.cli import values
from ui.cli.output import ExitCode, json_line, verb

MESSAGE_FIELDS = ("id", "control_id", "type", "version", "sending_app", "sending_facility", "receiving_app",
                  "receiving_facility", "patient_id", "message_time", "source", "offset", "size", "sha256",
                  "parse_state", "reason", "ack_state", "ack_code", "ack_id", "answers_id", "duplicate_of", "transport")
QUEUE_FIELDS = ("id", "message_id", "source", "kind", "reason", "signature", "triage_state", "owner", "created_at")


def register(sub, common) -> None:
    s = verb(sub, common, "messages", cmd_messages, "list messages (JSON Lines with --json)")
    filter_arguments(s)
    s.add_argument("--limit", type=values.count)
    s.add_argument("--json", action="store_true")
    s = verb(sub, common, "stats", cmd_stats, "field statistics of chosen messages: fill rate, distinct values, the "
             "commonest; with --new-since, the values first seen since then (drift)")
    s.add_argument("paths", nargs="+", metavar="PATH", help="field paths as queries write them: OBX[*]-3.1, PV1-3, PID-3[*].4")
    filter_arguments(s)
    s.add_argument("--new-since", type=values.moment, metavar="WHEN",
                   help="drift: the values first seen since then, and each path's fill rate before and since")
    s.add_argument("--top", type=values.whole(1, 1000, "a count"), default=10, help="the commonest values shown (default 10)")
    s.add_argument("--json", action="store_true", help="one JSON record a path")
    s = verb(sub, common, "queue", cmd_queue, "list queue items (JSON Lines with --json)")
    s.add_argument("--state", action="append", choices=TriageState.values(), help="triage state (repeatable)")
    s.add_argument("--kind", action="append", choices=QueueKind.values())
    s.add_argument("--limit", type=values.count)
    s.add_argument("--json", action="store_true")
    s.add_argument("--groups", action="store_true", help="one line per signature, with counts")


def filter_arguments(s, *, moments_as_text: bool = False) -> None:
    """The message filters, the same for every verb that takes some messages (a view keeps
    its time range as typed, so "24h" is the last day whenever it is used)."""
    s.add_argument("--type", action="append", help="message type, e.g. ORU^R01 or ORU (repeatable)")
    s.add_argument("--state", action="append", choices=ParseState.values())
    s.add_argument("--ack-state", action="append", choices=AckState.values())
    s.add_argument("--sender", type=values.words)
    s.add_argument("--receiver", type=values.words)
    s.add_argument("--control-id", type=values.words)
    s.add_argument("--patient-id", type=values.words)
    moment = values.words if moments_as_text else values.moment  # a view's: checked when it is saved
    s.add_argument("--since", type=moment, help="ISO time, today, yesterday, or 30m / 2h / 7d ago")
    s.add_argument("--until", type=moment)
    s.add_argument("--text", type=values.words, help="free text: every word must appear")
    s.add_argument("--where", metavar="QUERY", help="a field-path query: \"OBX[*]-8 in ('H','HH') and PID-3[*].4 = 'FEE'\" "
                   "(= != ~ < > <= >= in, is [not] empty, and or not, parentheses)")
    s.add_argument("--lane", choices=Lane.values(), help="the lane of the message's interface (direct: Direct messages, "
                   "MDNs and DSNs)")
    s.add_argument("--engine-message", type=values.identifier, help="an engine's message ID (with --channel)")
    s.add_argument("--channel", type=values.words, help="an engine channel, by name or UUID")
    s.add_argument("--connector", type=values.words, help="an engine connector's name (Source, a destination)")
    s.add_argument("--server-id", type=values.words, help="the engine server's ID")
    if not moments_as_text:
        s.add_argument("--view", metavar="NAME", help="a saved view's filter (lanewatch view list); the options given too "
                       "take its place where they say something")


def message_filter(ctx: Context, args) -> messages.MessageFilter:
    """The filter the options say, over the saved view's when one is named."""
    kept = _view(ctx, args.view) if getattr(args, "view", None) else {}
    given = {k: getattr(args, k, None) for k in VIEW_FIELDS if k not in ("columns", "sort", "interface")}
    try:
        flt = as_filter({**kept, **{k: v for k, v in given.items() if v not in (None, [])}})
    except query.QueryError as exc:
        raise CommandError(f"--where: {exc}") from None
    except ValueError as exc:  # a view's time range that no longer reads (checked when it was saved)
        raise CommandError(str(exc)) from None
    return replace(flt, engine_message_id=args.engine_message, channel=args.channel, connector=args.connector,
                   server_id=args.server_id)


def view_filter(ctx: Context, name: str) -> messages.MessageFilter:
    """A saved view's filter alone (compare's --left and --right)."""
    return as_filter(_view(ctx, name))


def _view(ctx: Context, name: str) -> dict:
    found = views.named(ctx.store, name)
    if found is None:
        raise CommandError(f"there is no view called {name!r} (see `lanewatch view list`)")
    return found["definition"]


def _message_json(row: dict) -> dict:
    out = {k: row.get(k) for k in MESSAGE_FIELDS}
    out["type"] = row["message_type"]
    out["ack_code"] = row["ack_result"] if not row["is_ack"] else row["ack_code"]
    return out


def cmd_messages(ctx: Context, args) -> int:
    flt = message_filter(ctx, args)
    out = sys.stdout
    for n, row in enumerate(messages.every(ctx.store, flt)):
        if args.limit and n >= args.limit:
            break
        if args.json:
            json_line(_message_json(row))
        else:
            out.write(f"{row['id']:>8}  {str(row['message_time'] or ''):19}  {row['message_type'] or '-':9}  "
                      f"{row['control_id'] or '-':22}  {row['sending_app'] or '?'} → {row['receiving_app'] or '?'}  "
                      f"{row['parse_state']:11}  {row['ack_state']}\n")
    return ExitCode.OK


def cmd_stats(ctx: Context, args) -> int:
    try:
        stats = FieldStats(args.paths, since=args.new_since)
    except query.QueryError as exc:
        raise CommandError(exc.reason) from None
    flt = message_filter(ctx, args)
    for row, text in hl7_messages(ctx.store, flt):
        stats.add(text, row["event_time"])
    for r in stats.report(args.top):
        if args.json:
            json_line(r)
            continue
        print(f"{r['path']}: {r['filled']:,} of {r['messages']:,} messages filled ({r['fill_rate']:.1%}), "
              f"{r['distinct']:,} distinct values, length {r['length']['min']}–{r['length']['max']}")
        for t in r["top"]:
            print(f"  {t['count']:>8,}  {t['value']}")
        if "new_since" in r:
            before = "–" if r["fill_rate_before"] is None else f"{r['fill_rate_before']:.1%}"
            since = "–" if r["fill_rate_since"] is None else f"{r['fill_rate_since']:.1%}"
            print(f"  since {args.new_since:%Y-%m-%d %H:%M}: filled {before} before, {since} since; "
                  f"{len(r['new_since']):,} values not seen before")
            for t in r["new_since"][:args.top]:
                print(f"  {t['count']:>8,}  {t['value']}  (first {t['first_seen']:%Y-%m-%d %H:%M})")
    return ExitCode.OK


def cmd_queue(ctx: Context, args) -> int:
    if args.groups:
        for g in queue.groups(ctx.store, states=args.state):
            if args.json:
                json_line(g)
            else:
                sys.stdout.write(f"{g['items']:>6}  {g['kind']:14}  {g['newest']:%Y-%m-%d %H:%M}  {g['signature'][:110]}\n")
        return ExitCode.OK
    for item in queue.items(ctx.store, states=args.state, kinds=args.kind, limit=args.limit):
        if args.json:
            json_line({k: item.get(k) for k in QUEUE_FIELDS})
        else:
            sys.stdout.write(f"{item['id']:>6}  {item['triage_state']:12}  {item['kind']:15}  {item['reason'][:100]}\n")
    return ExitCode.OK


