"""Headless Direct lane: `deliveries`, where each Direct message stands with each recipient
(sent, processed, dispatched, failed, not delivered, timed out), and the notices that could
not be paired, with why."""
from __future__ import annotations

import sys

from core.commands.context import Context
from core.store import direct
from core.vocabulary import Disposition
from ui.cli import values
from ui.cli.output import ExitCode, json_line, verb

FIELDS = ("message_id", "header_id", "sender", "recipient", "state", "asks_dispatched", "sent_at", "processed_at",
          "dispatched_at", "failed_at", "words", "subject", "signed", "encrypted", "attachments")
TROUBLE = (Disposition.FAILED, Disposition.DELIVERY_FAILED, Disposition.TIMED_OUT)


def register(sub, common) -> None:
    s = verb(sub, common, "deliveries", cmd_deliveries, "Direct messages per recipient: sent, processed, dispatched, "
             "failed, not delivered, timed out (exit 4 when any failed or timed out)")
    s.add_argument("--state", action="append", choices=Disposition.values(), help="only these states (repeatable)")
    s.add_argument("--since", type=values.moment, help="sent since: ISO time, today, yesterday, or 30m / 2h / 7d ago")
    s.add_argument("--message", type=values.identifier, help="one Direct message (its Lanewatch message id)")
    s.add_argument("--unpaired", action="store_true", help="the MDNs and DSNs that answer no message stored here, and why")
    s.add_argument("--limit", type=values.count, default=1000)
    s.add_argument("--json", action="store_true")


def cmd_deliveries(ctx: Context, args) -> int:
    if args.unpaired:
        return _unpaired(ctx, args)
    found = direct.deliveries(ctx.store, message_id=args.message, states=args.state, since=args.since, limit=args.limit)
    out = sys.stdout
    for d in found:
        if args.json:
            json_line({k: d.get(k) for k in FIELDS})
        else:
            words = f"  {d['words'][:80]}" if d["words"] else ""
            out.write(f"{d['message_id']:>8}  {d['sent_at']:%Y-%m-%d %H:%M}  {Disposition(d['state']).words:20}  "
                      f"{d['recipient'][:40]:40}  {(d['subject'] or '')[:30]}{words}\n")
    if not found and not args.json:
        out.write("No Direct deliveries match.\n")
    return ExitCode.ATTENTION if any(d["state"] in TROUBLE for d in found) else ExitCode.OK


def _unpaired(ctx: Context, args) -> int:
    found = direct.unpaired(ctx.store, limit=args.limit)
    for u in found:
        if args.json:
            json_line({k: u[k] for k in ("message_id", "kind", "sender", "original_id", "why", "problems")})
        else:
            sys.stdout.write(f"{u['message_id']:>8}  {u['kind'].upper():3}  {(u['sender'] or '?')[:36]:36}  {u['why']}\n")
    if not found and not args.json:
        sys.stdout.write("Every MDN and DSN here is paired to its message.\n")
    return ExitCode.OK
