"""Headless flows: the flow map's figures, the go-live board, a trace, and alerts."""
from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from core import alerts
from core.commands.context import CommandError, Context
from core.store import alerts as store_alerts
from core.store import flows, trace
from core.vocabulary import AlertState
from ui.cli import values
from ui.cli.output import ExitCode, json_line, verb


def register(sub, common) -> None:
    s = verb(sub, common, "flows", cmd_flows, "the flows between systems in a time window, with their health")
    s.add_argument("--hours", type=values.decimal(0.01, 24 * 400, "hours"), default=24.0, help="the window: this many hours up to now (default 24)")
    s.add_argument("--json", action="store_true")
    s = verb(sub, common, "board", cmd_board, "the go-live board: per interface, volume, ACK coverage, errors, silence")
    fmt = s.add_mutually_exclusive_group()
    fmt.add_argument("--csv", action="store_true")
    fmt.add_argument("--json", action="store_true")
    s = verb(sub, common, "trace", cmd_trace, "the order, visit or referral a message belongs to, in time order with turnaround times")
    s.add_argument("message", type=values.identifier)
    s.add_argument("--json", action="store_true")
    s = verb(sub, common, "alerts", cmd_alerts, "evaluate the alert rules and list open alerts; manage rules; acknowledge")
    s.add_argument("action", nargs="?", default="list",
                   choices=("list", "ack", "rules", "add-rule", "set-rule", "disable-rule", "enable-rule", "delete-rule"))
    s.add_argument("target", nargs="*", help="ack: ALERT_ID; add-rule: KIND THRESHOLD; set-rule RULE_ID [THRESHOLD]; "
                                             "disable-rule, enable-rule, delete-rule: RULE_ID")
    s.add_argument("--json", action="store_true")
    s.add_argument("--note", type=values.words)
    s.add_argument("--interface", type=values.identifier, help="add-rule: the interface (default: every interface)")
    s.add_argument("--window", type=values.whole(1, 60 * 24 * 31, "minutes"), help="add-rule, set-rule: minutes looked back (default 15)")
    s.add_argument("--hours", help="add-rule: business hours, e.g. 07:00-19:00 (local time)")
    s.add_argument("--days", help="add-rule: weekdays, 1 = Monday, e.g. 12345")
    s.add_argument("--path", help="add-rule field_drift: the field path watched, e.g. OBX[*]-3.1 or PV1-3")


def cmd_flows(ctx: Context, args) -> int:
    now = ctx.now()
    fm = flows.flow_map(ctx.store, now - timedelta(hours=args.hours), now)
    for f in fm.flows:
        if args.json:
            json_line({**f.__dict__, "error_rate": round(f.error_rate, 4)})
        else:
            print(f"{f.health:4} {f.source} → {f.target} {f.message_type}: {f.messages:,} messages, {f.naks} NAKs, "
                  f"{f.missing} missing ACKs, {f.unparseable} unparseable")
    return ExitCode.OK


def cmd_board(ctx: Context, args) -> int:
    rows = flows.board(ctx.store, ctx.now())
    if args.csv:
        sys.stdout.write(flows.board_csv(rows))
        return ExitCode.OK
    if args.json:
        for r in rows:
            json_line(r)
        return ExitCode.OK
    for r in rows:
        coverage = "-" if r["ack_coverage"] is None else f"{r['ack_coverage']:.0%}"
        silence = "" if r["silence_s"] is None else f"silent {r['silence_s'] / 60:.0f} min"
        print(f"{r['interface']:28} today {r['today']:>7,}  ACKs {coverage:>5}  errors {r['error_rate']:6.1%}  "
              f"open {r['open_items']:>5}  {silence}")
    return ExitCode.OK


def cmd_trace(ctx: Context, args) -> int:
    try:
        t = trace.trace(ctx.store, args.message)
    except LookupError as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        json_line({"kind": t.kind, "key": t.key, "steps": [s.__dict__ for s in t.steps], "notes": t.notes,
                   "turnarounds": {k: v.total_seconds() for k, v in t.turnarounds.items()}})
        return ExitCode.OK
    print(f"{t.kind}: {t.key}")
    for note in t.notes:
        print(f"  {note}")
    for s in t.steps:
        print(f"  +{str(s.since_start):>16}  {s.at:%Y-%m-%d %H:%M:%S}  {s.what:34} {s.route:24} message {s.message_id}")
    for k, v in t.turnarounds.items():
        print(f"  {k}: {v}")
    return ExitCode.OK


def _rule_action(ctx: Context, args) -> int:
    """Edit, switch or remove a rule (each audited)."""
    if not args.target or not args.target[0].isdigit():
        raise CommandError(f"lanewatch alerts {args.action} RULE_ID" + (" [THRESHOLD] [--window MIN] ..." if args.action == "set-rule" else ""))
    rule_id = int(args.target[0])
    if args.action == "delete-rule":
        alerts.delete_rule(ctx, rule_id)
        print(f"rule {rule_id} deleted")
        return ExitCode.OK
    changes: dict = {"enabled": {"disable-rule": False, "enable-rule": True}.get(args.action)}
    if args.action == "set-rule":
        if len(args.target) > 1:
            try:
                changes["threshold"] = values.decimal(0, 1e9, "a threshold")(args.target[1])
            except argparse.ArgumentTypeError as exc:
                raise CommandError(f"set-rule: {exc}") from None
        changes.update(window_min=args.window, hours=args.hours, weekdays=args.days)
    after = alerts.change_rule(ctx, rule_id, **changes)
    print(f"rule {rule_id}: {'on' if after['enabled'] else 'off'}, limit {after['threshold']:g}, window {after['window_min']} min")
    return ExitCode.OK


def cmd_alerts(ctx: Context, args) -> int:
    if args.action == "rules":
        for r in store_alerts.rules(ctx.store):
            if args.json:
                json_line(r)
                continue
            print(f"{r['id']:>3} {r['kind']:12} > {r['threshold']:g} {alerts.KINDS[r['kind']]}"
                  + (f" of {r['path']}" if r["path"] else "") + f", interface "
                  f"{r['interface_id'] or 'all'}, window {r['window_min']} min {r['hours'] or ''} {r['weekdays'] or ''}")
        return ExitCode.OK
    if args.action == "add-rule":
        if len(args.target) != 2:
            raise CommandError("lanewatch alerts add-rule KIND THRESHOLD [--interface ID] [--window MIN] ...")
        try:
            threshold = values.decimal(0, 1e9, "a threshold")(args.target[1])
        except argparse.ArgumentTypeError as exc:
            raise CommandError(f"add-rule: {exc}") from None
        rule = alerts.add_rule(ctx, args.target[0], threshold, interface_id=args.interface,
                               window_min=args.window or 15, hours=args.hours, weekdays=args.days, path=args.path)
        print(f"rule {rule} added")
        return ExitCode.OK
    if args.action in ("set-rule", "disable-rule", "enable-rule", "delete-rule"):
        return _rule_action(ctx, args)
    if args.action == "ack":
        if len(args.target) != 1 or not args.target[0].isdigit():
            raise CommandError("lanewatch alerts ack ALERT_ID [--note N]")
        alerts.acknowledge(ctx, int(args.target[0]), args.note)
        print(f"alert {args.target[0]} acknowledged")
        return ExitCode.OK
    alerts.evaluate(ctx.store, ctx.now())
    current = store_alerts.active(ctx.store)
    for a in current:
        if args.json:
            json_line(a)
        else:
            print(f"{a['id']:>4} {a['state']:12} {a['raised_at']:%Y-%m-%d %H:%M} {a['text']}")
    return ExitCode.ATTENTION if any(a["state"] == AlertState.OPEN for a in current) else ExitCode.OK


