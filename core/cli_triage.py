"""Headless triage: acknowledge, reopen, assign, correct, and the audit trail.

The same command classes as the console (core.commands), acting as the OS user here.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from sqlalchemy import select

from core import audit, labels
from core import cli_values as values
from core.commands.context import CommandError, Context
from core.commands.correct import Correct
from core.commands.resend import WRITE_CLASSES, Configure, Resend
from core.commands.triage import ACK_REASONS, Acknowledge, Assign, Reopen, group_items
from core.commands.validate import Validate
from core.secrets import SecretStoreError
from core.store import queries
from core.store.db import Store
from core.store.models import AuditEntry, Interface
from core.store.queries import MessageFilter


def add_parsers(sub) -> None:
    add_resend_parsers(sub)
    s = sub.add_parser("ack", help="acknowledge queue items (or a whole group) with a reason and a note")
    s.add_argument("items", nargs="*", type=values.identifier)
    s.add_argument("--group", help="every open item with this signature")
    s.add_argument("--reason", required=True, choices=sorted(ACK_REASONS))
    s.add_argument("--note", type=values.words)
    s = sub.add_parser("reopen", help="open acknowledged items again")
    s.add_argument("items", nargs="+", type=values.identifier)
    s.add_argument("--note", type=values.words)
    s = sub.add_parser("assign", help="give queue items an owner (--owner '' to clear)")
    s.add_argument("items", nargs="+", type=values.identifier)
    s.add_argument("--owner", required=True)
    s = sub.add_parser("correct", help="correct a message by field path or raw text; saved as a new version")
    s.add_argument("message", type=values.identifier)
    s.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help="e.g. PID-3.1=MRN123 (repeatable)")
    s.add_argument("--raw", type=Path, help="a file holding the whole corrected message")
    s.add_argument("--dry-run", action="store_true", help="show the diff and findings, save nothing")
    s = sub.add_parser("validate", help="validate messages with hl7apy; failures become invalid queue items")
    s.add_argument("--type", action="append", help="message type, e.g. ORU^R01 or ORU (repeatable)")
    s.add_argument("--interface", type=values.identifier, help="interface id")
    s.add_argument("--limit", type=values.count, default=1000, help="how many of the newest messages (default 1000)")
    s = sub.add_parser("audit", help="the audit trail: list it, or verify its hash chain, signatures and length")
    s.add_argument("action", choices=("list", "verify"))
    s.add_argument("--limit", type=values.count, default=50)
    s.add_argument("--json", action="store_true")


def run(store: Store, args: argparse.Namespace, verbs: dict) -> int:
    """A command verb as the OS user here; a refusal is one line on stderr, never a traceback."""
    ctx = Context(store)
    try:
        return verbs[args.verb](ctx, args)
    except (CommandError, SecretStoreError) as exc:
        print(f"lanewatch {args.verb}: {exc}", file=sys.stderr)
        return 1


def _items(ctx: Context, args) -> dict[int, None]:
    chosen: dict[int, None] = dict.fromkeys(args.items)
    if getattr(args, "group", None):
        chosen.update(dict.fromkeys(group_items(ctx, args.group)))
    return chosen


def cmd_ack(ctx: Context, args) -> int:
    done = Acknowledge(ctx).run(_items(ctx, args), args.reason, args.note)
    print(f"acknowledged {labels.plural(len(done), 'item')}")
    return 0


def cmd_reopen(ctx: Context, args) -> int:
    print(f"reopened {labels.plural(len(Reopen(ctx).run(_items(ctx, args), args.note)), 'item')}")
    return 0


def cmd_assign(ctx: Context, args) -> int:
    print(f"assigned {labels.plural(len(Assign(ctx).run(_items(ctx, args), args.owner)), 'item')}")
    return 0


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
        return 0
    print(f"saved as message {command.save(preview)} (version of message {args.message})")
    return 0


def cmd_validate(ctx: Context, args) -> int:
    flt = MessageFilter(types=args.type, interface_id=args.interface, parse_states=["ok", "invalid"], acks=False)
    ids = [r["id"] for r in queries.message_page(ctx.store, flt, limit=args.limit)]
    t0 = time.monotonic()
    found = Validate(ctx).run(ids)
    bad = {m: f for m, f in found.items() if f}
    rate = len(found) / max(time.monotonic() - t0, 1e-9)
    print(f"validated {labels.plural(len(found), 'message')} ({rate:.0f}/s): {len(bad):,} with findings")
    for m, findings in list(bad.items())[:10]:
        print(f"  message {m}: {findings[0].text}" + (f" (+{len(findings) - 1} more)" if len(findings) > 1 else ""))
    return 0


def cmd_audit(ctx: Context, args) -> int:
    if args.action == "verify":
        report = audit.verify_store(ctx.store)
        print("\n".join(audit.describe(report)))
        return 0 if report.intact else 2
    with ctx.store.engine.connect() as conn:
        rows = conn.execute(select(AuditEntry.__table__).order_by(AuditEntry.seq.desc()).limit(args.limit)).all()
    for r in rows:
        if args.json:
            print(json.dumps({k: getattr(r, k) for k in ("seq", "at", "actor", "action", "item_id", "message_id",
                                                          "before", "after")}, default=str))
        else:
            target = f"item {r.item_id}" if r.item_id else f"message {r.message_id}" if r.message_id else ""
            print(f"{r.seq:>6}  {r.at:%Y-%m-%d %H:%M:%S}  {r.actor:30}  {r.action:14}  {target}")
    return 0


VERBS = {"validate": cmd_validate, "ack": cmd_ack, "reopen": cmd_reopen, "assign": cmd_assign, "correct": cmd_correct, "audit": cmd_audit}


def add_resend_parsers(sub) -> None:
    s = sub.add_parser("resend", help="resend queue items' messages to their interface's destination")
    s.add_argument("items", nargs="*", type=values.identifier)
    s.add_argument("--group", help="every open item with this signature")
    s.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    s.add_argument("--after-unknown", action="store_true",
                   help="resend even though an earlier attempt's outcome is unknown: say so only after checking "
                        "with the receiver that it does not have the message")
    s.add_argument("--again", action="store_true", help="resend a message that was already resent and accepted")
    s.add_argument("--timeout", type=values.decimal(0.1, 3600, "seconds"), default=30.0, help="seconds to wait for each ACK (default 30)")
    s.add_argument("--to", metavar="HOST:PORT", help="send here instead of the interface's destination "
                   "(the interface must still be write-enabled; its TLS settings apply)")
    s = sub.add_parser("interface", help="list interfaces, or set one's resend destination and write switch")
    s.add_argument("action", choices=("list", "set"))
    s.add_argument("id", nargs="?", type=values.identifier)
    s.add_argument("--resend-to", metavar="HOST:PORT")
    s.add_argument("--write-class", choices=WRITE_CLASSES)
    s.add_argument("--writes", choices=("on", "off"), help="enable or disable resend to this interface")
    s.add_argument("--tls", choices=("on", "off"), help="resend over TLS (the receiver's certificate is verified)")
    s.add_argument("--tls-ca", metavar="PEM", help="verify the receiver against this CA (default: the system's); '' clears")
    s.add_argument("--tls-cert", metavar="PEM", help="client certificate, for receivers that ask for one; '' clears")
    s.add_argument("--tls-key", metavar="PEM", help="the client certificate's key; '' clears")


def cmd_resend(ctx: Context, args) -> int:
    command = Resend(ctx, ack_timeout=args.timeout)
    plan = command.plan(_items(ctx, args), after_unknown=args.after_unknown, again=args.again, to=_host_port(args.to, "--to") if args.to else None)
    print(plan.confirmation())
    if not plan.targets:
        return 1
    if not args.yes:
        if not sys.stdin.isatty():
            raise CommandError("resend changes state in another system: confirm with --yes")
        if input("Send? [y/N] ").strip().lower() not in ("y", "yes"):
            print("nothing sent")
            return 1
    outcomes = command.run(plan)
    for o in outcomes:
        print(f"item {o.item_id} → {o.destination}: {o.state}: {o.detail}")
    return 0 if all(o.state == "accepted" for o in outcomes) else 3


def cmd_interface(ctx: Context, args) -> int:
    if args.action == "list":
        with ctx.store.engine.connect() as conn:
            for r in conn.execute(select(Interface.__table__).order_by(Interface.id)):
                dest = f"{r.resend_host}:{r.resend_port}{' TLS' if r.resend_tls else ''}" if r.resend_host else "-"
                print(f"{r.id:>4}  {r.name:32} resend to {dest:24} write class {r.write_class:15} "
                      f"writes {'ON' if r.write_enabled else 'off'}")
        return 0
    if args.id is None:
        raise CommandError("name the interface: lanewatch interface set ID ...")
    host, port = _host_port(args.resend_to, "--resend-to") if args.resend_to else (None, None)
    after = Configure(ctx).run(args.id, host=host, port=port, write_class=args.write_class, write_enabled=_on(args.writes),
                               tls=_on(args.tls), tls_ca=args.tls_ca, tls_cert=args.tls_cert, tls_key=args.tls_key)
    print(f"interface {args.id}: resend to {after['resend_host']}:{after['resend_port']} "
          f"{'over TLS' if after['resend_tls'] else 'plain'}, write class {after['write_class']}, "
          f"writes {'ON' if after['write_enabled'] else 'off'}")
    return 0


def _on(switch: str | None) -> bool | None:
    return None if switch is None else switch == "on"


def _host_port(text: str, option: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise CommandError(f"{option} wants HOST:PORT, not {text!r}")
    return host, int(port)


VERBS.update({"resend": cmd_resend, "interface": cmd_interface})
