"""Write verbs: resend queue items' messages, and set an interface's destination and write switch."""
from __future__ import annotations

import sys

from core.commands.context import CommandError, Context
from core.commands.resend import Configure, Resend
from core.store import interfaces
from core.vocabulary import AttemptState, WriteClass
from ui.cli import values
from ui.cli.output import ExitCode, json_line, verb
from ui.cli.triage import chosen_items

LIST_FIELDS = ("id", "name", "direction", "messages", "acks", "problems", "last_time", "resend_host", "resend_port",
               "resend_tls", "write_class", "write_enabled")


def register(sub, common) -> None:
    s = verb(sub, common, "resend", cmd_resend, "resend queue items' messages to their interface's destination")
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
    s = verb(sub, common, "interface", cmd_interface, "list interfaces, or set one's resend destination and write switch")
    s.add_argument("action", choices=("list", "set"))
    s.add_argument("id", nargs="?", type=values.identifier)
    s.add_argument("--resend-to", metavar="HOST:PORT")
    s.add_argument("--write-class", choices=WriteClass.values())
    s.add_argument("--writes", choices=("on", "off"), help="enable or disable resend to this interface")
    s.add_argument("--tls", choices=("on", "off"), help="resend over TLS (the receiver's certificate is verified)")
    s.add_argument("--tls-ca", metavar="PEM", help="verify the receiver against this CA (default: the system's); '' clears")
    s.add_argument("--tls-cert", metavar="PEM", help="client certificate, for receivers that ask for one; '' clears")
    s.add_argument("--tls-key", metavar="PEM", help="the client certificate's key; '' clears")
    s.add_argument("--ack-timeout", type=values.whole(1, 7 * 86400, "seconds"), metavar="S",
                   help="seconds an answer may take before it is missing: an HL7 ACK, a Direct message's processed MDN")
    s.add_argument("--dispatch-timeout", type=values.whole(1, 30 * 86400, "seconds"), metavar="S",
                   help="Direct: seconds a dispatched MDN may take, when the sender asked for one (default a day)")
    s.add_argument("--json", action="store_true", help="list: JSON Lines")


def cmd_resend(ctx: Context, args) -> int:
    command = Resend(ctx, ack_timeout=args.timeout)
    plan = command.plan(chosen_items(ctx, args), after_unknown=args.after_unknown, again=args.again, to=_host_port(args.to, "--to") if args.to else None)
    return confirm_and_run(command, plan, args.yes, "resend changes state in another system", "Send?", "nothing sent")


def confirm_and_run(command, plan, yes: bool, why: str, question: str, declined: str) -> int:
    """A write verb's end: the plan said, confirmed (--yes, or asked at a terminal), run, each outcome said."""
    print(plan.confirmation())
    if not plan.targets:
        return ExitCode.REFUSED
    if not yes:
        if not sys.stdin.isatty():
            raise CommandError(f"{why}: confirm with --yes")
        if input(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
            print(declined)
            return ExitCode.REFUSED
    outcomes = command.run(plan)
    for o in outcomes:
        print(f"item {o.item_id} → {o.destination}: {o.state}: {o.detail}")
    return ExitCode.OK if all(o.state == AttemptState.ACCEPTED for o in outcomes) else ExitCode.ATTENTION


def cmd_interface(ctx: Context, args) -> int:
    if args.action == "list":
        for r in sorted(interfaces.overview(ctx.store), key=lambda r: r["id"]):
            if args.json:
                json_line({k: r[k] for k in LIST_FIELDS})
                continue
            dest = f"{r['resend_host']}:{r['resend_port']}{' TLS' if r['resend_tls'] else ''}" if r["resend_host"] else "-"
            print(f"{r['id']:>4}  {r['name']:32} resend to {dest:24} write class {r['write_class']:15} "
                  f"writes {'ON' if r['write_enabled'] else 'off'}")
        return ExitCode.OK
    if args.id is None:
        raise CommandError("name the interface: lanewatch interface set ID ...")
    host, port = _host_port(args.resend_to, "--resend-to") if args.resend_to else (None, None)
    after = Configure(ctx).run(args.id, host=host, port=port, write_class=args.write_class, write_enabled=_on(args.writes),
                               tls=_on(args.tls), tls_ca=args.tls_ca, tls_cert=args.tls_cert, tls_key=args.tls_key,
                               ack_timeout_s=args.ack_timeout, dispatch_timeout_s=args.dispatch_timeout)
    dest = (f"resend to {after['resend_host']}:{after['resend_port']} {'over TLS' if after['resend_tls'] else 'plain'}"
            if after["resend_host"] else "no resend destination")
    print(f"interface {args.id}: {dest}, write class {after['write_class']}, "
          f"writes {'ON' if after['write_enabled'] else 'off'}; answers due within {after['ack_timeout_s'] or 'the default'} s"
          + (f", dispatched MDNs within {after['dispatch_timeout_s']} s" if after["dispatch_timeout_s"] else ""))
    return ExitCode.OK


def _on(switch: str | None) -> bool | None:
    return None if switch is None else switch == "on"


def _host_port(text: str, option: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise CommandError(f"{option} wants HOST:PORT, not {text!r}")
    return host, int(port)


