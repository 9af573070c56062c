"""What every verb shares: its exit codes, its one JSON writer, and how a verb is registered.

Exit codes (the same for every verb, and in the README):
  0 OK           done
  1 REFUSED      not done: the command was refused, had nothing to do, or was not confirmed
  2 USAGE        a bad argument (a line on stderr says which)
  3 STORE        the store cannot be opened or used
  4 ATTENTION    done, and what it found needs a person: a resend not accepted, an audit
                 chain broken, an endpoint down, bulk export errors, open alerts, a path missing
  130            interrupted (Ctrl+C);  141  the reader of the output went away (`| head`)
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, is_dataclass
from datetime import UTC, date, datetime, timedelta
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    REFUSED = 1
    USAGE = 2
    STORE = 3
    ATTENTION = 4
    INTERRUPTED = 130
    BROKEN_PIPE = 141


def moment(value: datetime) -> str:
    """The one datetime format of every --json output: ISO 8601 with the zone. The store
    keeps UTC without a zone, so a time without one is UTC."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _plain(value):
    if isinstance(value, datetime):
        return moment(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if is_dataclass(value):
        return asdict(value)
    return str(value)


def json_line(obj, out=None) -> None:
    """One JSON Lines record on stdout."""
    (out or sys.stdout).write(json.dumps(obj, default=_plain, ensure_ascii=False) + "\n")


def verb(sub, common: argparse.ArgumentParser, name: str, func, help: str, *, store: str = "read") -> argparse.ArgumentParser:
    """Add a verb: its parser (taking the common options too, so `--db` works after the verb)
    and its handler, called as func(ctx, args). `store` is "read" (an existing store only),
    "write" (a verb that puts a first thing in a store may make it) or "none"."""
    parser = sub.add_parser(name, help=help, parents=[common])
    parser.set_defaults(func=func, store_use=store)
    return parser


def settings_target(kind: str, args, exists, usage: str) -> tuple[str, list[str]]:
    """NAME and what follows it for `add` or `set` of a configured thing (an engine, a
    mailbox), refusing what cannot be right: a missing argument, adding one that exists,
    setting one that does not."""
    from core.commands.context import CommandError

    name, *rest = _named(kind, args)
    if args.action == "add" and len(rest) != 1:
        raise CommandError(usage)
    if args.action == "add" and exists(name):
        raise CommandError(f"{'An' if kind[0] in 'aeiou' else 'A'} {kind} called {name!r} exists: change it with "
                           f"'lanewatch {kind} set'.")
    if args.action == "set" and not exists(name):
        raise CommandError(f"No {kind} called {name!r}: add it with '{usage}'.")
    return name, rest


def remove_named(kind: str, args, remove) -> int:
    """`remove NAME` of a configured thing: it and its password go, what was read from it stays."""
    name = _named(kind, args)[0]
    remove(name)
    print(f"{kind} {name}: removed, with its password; what was read from it stays in the store")
    return ExitCode.OK


def _named(kind: str, args) -> list[str]:
    from core.commands.context import CommandError

    if not args.name:
        raise CommandError(f"name the {kind}: lanewatch {kind} {args.action} NAME")
    return args.name


def password_from_stdin(args) -> str | None:
    """The password given on standard input with --password-stdin (never on the command line)."""
    from core.commands.context import CommandError

    if not args.password_stdin:
        return None
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CommandError("no password came on standard input")
    return password
