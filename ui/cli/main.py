"""`lanewatch`: with no verb it opens the window; with one it runs headless, as the OS user here.

argv is parsed once. Each verb group (one module each) registers its parsers and handlers;
every handler runs through one funnel that turns a refusal, a bad argument or a store
problem into one line on stderr and a documented exit code (ui.cli.output.ExitCode), never
a traceback.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

from core import logs
from core.commands.context import CommandError, Context
from core.secrets import SecretStoreError
from core.store.db import StoreError, describe_store_error, named_url, open_store, store_unavailable
from core.version import build
from ui import system_libraries
from ui.cli import compare, direct, engines, export, fhir, flows, intake, listing, resend, triage, values, views
from ui.cli.output import ExitCode

GROUPS = (intake, listing, export, compare, views, triage, resend, fhir, flows, engines, direct)
log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    # the store options are taken before or after the verb: `lanewatch queue --db x` = `lanewatch --db x queue`
    # (each parser gets its own actions: a parent's are shared, and so would be their defaults)
    p = values.Parser(prog="lanewatch", description="Triage console for HL7 v2 and FHIR interfaces. "
                      "Exit codes: 0 done, 1 refused, 2 bad usage, 3 store problem, 4 needs attention.")
    common = argparse.ArgumentParser(add_help=False)
    for parser, db, init in ((p, None, False), (common, argparse.SUPPRESS, argparse.SUPPRESS)):
        parser.add_argument("--db", default=db,
                            help="store URL or SQLite path (default: LANEWATCH_DB, else Settings → Store, else the user data folder)")
        parser.add_argument("--init", action="store_true", default=init,
                            help="create the store named by --db if there is none yet")
    p.add_argument("--demo", action="store_true", help="open a fresh demo workspace in the window")
    p.add_argument("--version", action=_Version, help="print the version and the commit it was built from")
    sub = p.add_subparsers(dest="verb", metavar="VERB")
    for group in GROUPS:
        group.register(sub, common)
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a bad argument (already said in one line)
        return ExitCode.USAGE if exc.code else ExitCode.OK
    logs.start()
    return open_window(args) if args.verb is None else run_verb(args)


def open_window(args: argparse.Namespace) -> int:
    """No verb: the window, once the machine can show one (checked before Qt loads, which
    would only say that it "could not load the Qt platform plugin")."""
    if not system_libraries.has_display():
        print("lanewatch: no display to open the console on; running the headless commands instead.", file=sys.stderr)
        if args.demo:
            from core.demo import DEMO_COUNT

            return main((["--db", args.db] if args.db else []) + ["demo", "--count", str(DEMO_COUNT)])
        build_parser().print_help()
        return ExitCode.OK
    if problem := system_libraries.window_can_open():
        print(problem, file=sys.stderr)
        return ExitCode.REFUSED
    from ui.app import run  # only now: a headless verb never loads Qt

    return run(args.db, args.demo)


class _Version(argparse.Action):
    """--version, worked out only when asked (a checkout asks git)."""

    def __init__(self, option_strings, dest, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(build().line())
        parser.exit()


def may_create(args: argparse.Namespace) -> bool:
    """A store is made only when asked: --init, a verb that puts something in it, or the
    default store on its first run. A read (`messages`, `queue`...) never adds tables anywhere."""
    use = args.store_use(args) if callable(args.store_use) else args.store_use
    return args.init or use == "write" or named_url(args.db) is None


def run_verb(args: argparse.Namespace) -> int:
    """The one error funnel: every verb's outcome is an ExitCode and, when it fails, one line."""
    try:
        if (args.store_use(args) if callable(args.store_use) else args.store_use) == "none":
            return int(args.func(None, args))
        store = open_store(args.db, create=may_create(args))
        try:
            return int(args.func(Context(store), args))
        finally:
            store.close()
    except (CommandError, SecretStoreError) as exc:
        return _say(args, str(exc), ExitCode.REFUSED)
    except StoreError as exc:
        return _say(args, str(exc), ExitCode.STORE)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except BrokenPipeError:  # `lanewatch messages | head`: the reader has all it wants
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.BROKEN_PIPE
    except Exception as exc:  # noqa: BLE001 - the store went away mid-verb, or a bug: a line, not a traceback
        if store_unavailable(exc):
            return _say(args, describe_store_error(exc, args.db), ExitCode.STORE)
        log.debug("%s failed", args.verb, exc_info=True)
        return _say(args, f"failed unexpectedly ({type(exc).__name__}); nothing more was done. Please report it "
                          "with the command you ran.", ExitCode.ATTENTION)


def _say(args: argparse.Namespace, text: str, code: ExitCode) -> int:
    print(f"lanewatch {args.verb}: {text}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
