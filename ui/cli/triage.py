"""Triage verbs: acknowledge, reopen, assign, correct, validate, and the audit trail.

The same command classes as the console (core.commands), acting as the OS user here.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from core import labels
from core.audit import describe
from core.commands.context import CommandError, Context
from core.commands.correct import Correct
from core.commands.triage import ACK_REASONS, Acknowledge, Assign, Reopen, group_items
from core.commands.validate import Validate
from core.store import audit, messages
from core.store.messages import MessageFilter
from core.vocabulary import ParseState
from ui.cli import values
from ui.cli.direct import validate_document
from ui.cli.output import ExitCode, json_line, verb


def register(sub, common) -> None:
    s = verb(sub, common, "ack", cmd_ack, "acknowledge queue items (or a whole group) with a reason and a note")
    s.add_argument("items", nargs="*", type=values.identifier)
    s.add_argument("--group", help="every open item with this signature")
    s.add_argument("--reason", required=True, choices=sorted(ACK_REASONS))
    s.add_argument("--note", type=values.words)
    s = verb(sub, common, "reopen", cmd_reopen, "open acknowledged items again")
    s.add_argument("items", nargs="+", type=values.identifier)
    s.add_argument("--note", type=values.words)
    s = verb(sub, common, "assign", cmd_assign, "give queue items an owner (--owner '' to clear)")
    s.add_argument("items", nargs="+", type=values.identifier)
    s.add_argument("--owner", required=True)
    s = verb(sub, common, "correct", cmd_correct, "correct a message by field path or raw text; saved as a new version")
    s.add_argument("message", type=values.identifier)
    s.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help="e.g. PID-3.1=MRN123 (repeatable)")
    s.add_argument("--raw", type=Path, help="a file holding the whole corrected message")
    s.add_argument("--dry-run", action="store_true", help="show the diff and findings, save nothing")
    s = verb(sub, common, "validate", cmd_validate, "validate messages with hl7apy (failures become invalid queue items); "
             "or, named, a CDA document against the CDA schema and the C-CDA R2.1 Schematron (2-22 s; exit 4 when it fails)",
             store=lambda a: "none" if a.document and not a.document.isdigit() else "read")
    s.add_argument("document", nargs="?", help="a stored document's id (see `documents`), or a path to a CDA XML file")
    s.add_argument("--type", action="append", help="message type, e.g. ORU^R01 or ORU (repeatable)")
    s.add_argument("--interface", type=values.identifier, help="interface id")
    s.add_argument("--limit", type=values.count, default=1000, help="how many of the newest messages (default 1000)")
    s.add_argument("--no-schematron", action="store_true", help="a document: the schema only")
    s.add_argument("--json", action="store_true", help="a document: its findings as JSON Lines")
    s = verb(sub, common, "audit", cmd_audit, "the audit trail: list it, or verify its hash chain, signatures and length")
    s.add_argument("action", choices=("list", "verify"))
    s.add_argument("--limit", type=values.count, default=50)
    s.add_argument("--json", action="store_true")


def chosen_items(ctx: Context, args) -> dict[int, None]:
    """The items named, and every open item of the group named (--group SIGNATURE)."""
    chosen: dict[int, None] = dict.fromkeys(args.items)
    if getattr(args, "group", None):
        chosen.update(dict.fromkeys(group_items(ctx, args.group)))
    return chosen


def cmd_ack(ctx: Context, args) -> int:
    done = Acknowledge(ctx).run(chosen_items(ctx, args), args.reason, args.note)
    print(f"acknowledged {labels.plural(len(done), 'item')}")
    return ExitCode.OK


def cmd_reopen(ctx: Context, args) -> int:
    print(f"reopened {labels.plural(len(Reopen(ctx).run(chosen_items(ctx, args), args.note)), 'item')}")
    return ExitCode.OK


def cmd_assign(ctx: Context, args) -> int:
    print(f"assigned {labels.plural(len(Assign(ctx).run(chosen_items(ctx, args), args.owner)), 'item')}")
    return ExitCode.OK


def cmd_correct(ctx: Context, args) -> int:
    edits = []
    for pair in args.set:
        path, sep, value = pair.partition("=")
        if not sep:
            raise CommandError(f"--set wants PATH=VALUE, not {pair!r}")
        edits.append((path, value))
    try:
        raw = args.raw.read_bytes() if args.raw else None
    except OSError as exc:
        raise CommandError(f"cannot read {args.raw}: {exc.strerror}") from None
    command = Correct(ctx)
    preview = command.preview(args.message, edits, raw_bytes=raw)
    print("\n".join(preview.diff) or "(no change)")
    for f in preview.findings:
        print(f"still: {f.text}", file=sys.stderr)
    if args.dry_run:
        return ExitCode.OK
    print(f"saved as message {command.save(preview)} (version of message {args.message})")
    return ExitCode.OK


def cmd_validate(ctx: Context | None, args) -> int:
    if args.document:
        return validate_document(ctx, args)
    flt = MessageFilter(types=args.type, interface_id=args.interface, parse_states=[ParseState.OK, ParseState.INVALID],
                        acks=False)
    ids = [r["id"] for r in messages.page(ctx.store, flt, limit=args.limit)]
    t0 = time.monotonic()
    found = Validate(ctx).run(ids)
    bad = {m: f for m, f in found.items() if f}
    rate = len(found) / max(time.monotonic() - t0, 1e-9)
    print(f"validated {labels.plural(len(found), 'message')} ({rate:.0f}/s): {len(bad):,} with findings")
    for m, findings in list(bad.items())[:10]:
        print(f"  message {m}: {findings[0].text}" + (f" (+{len(findings) - 1} more)" if len(findings) > 1 else ""))
    return ExitCode.OK


def cmd_audit(ctx: Context, args) -> int:
    if args.action == "verify":
        report = audit.verify_store(ctx.store)
        print("\n".join(describe(report)))
        return ExitCode.OK if report.intact else ExitCode.ATTENTION
    for r in audit.page(ctx.store, limit=args.limit):
        if args.json:
            json_line({k: r[k] for k in ("seq", "at", "actor", "action", "item_id", "message_id", "before", "after")})
        else:
            target = f"item {r['item_id']}" if r["item_id"] else f"message {r['message_id']}" if r["message_id"] else ""
            print(f"{r['seq']:>6}  {r['at']:%Y-%m-%d %H:%M:%S}  {r['actor']:30}  {r['action']:14}  {target}")
    return ExitCode.OK
