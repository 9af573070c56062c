"""`compare`: two messages field by field, or two saved views' messages keyed by a field path."""
from __future__ import annotations

from core.commands.context import CommandError, Context
from core.hl7 import query
from core.hl7.compare import compare, compare_sets
from core.query_filter import hl7_messages, hl7_text
from core.store import messages
from ui.cli import values
from ui.cli.listing import view_filter
from ui.cli.output import ExitCode, json_line, verb

SET_IGNORE = ("MSH-7", "MSH-10")  # two systems' copies of one order never share these


def register(sub, common) -> None:
    s = verb(sub, common, "compare", cmd_compare, "compare two messages field by field (compare A B), or two saved "
             "views' messages keyed by a field path (compare --left VIEW --right VIEW --key ORC-2)")
    s.add_argument("ids", nargs="*", type=values.identifier, metavar="ID", help="two message IDs")
    s.add_argument("--left", metavar="VIEW", help="a saved view: the left set")
    s.add_argument("--right", metavar="VIEW", help="a saved view: the right set")
    s.add_argument("--key", metavar="PATH", help="the field path that pairs them (ORC-2, OBR-3, PID-3.1)")
    s.add_argument("--ignore", action="append", metavar="PATH",
                   help="a field not compared (repeatable); sets leave out MSH-7 and MSH-10 unless this is given")
    s.add_argument("--all", action="store_true", help="two messages: the fields that are the same too")
    s.add_argument("--limit", type=values.count, default=20, help="sets: the keys listed of each kind (default 20)")
    s.add_argument("--json", action="store_true", help="JSON Lines")


def cmd_compare(ctx: Context, args) -> int:
    ignore = list(args.ignore or ())
    for path in ignore:
        try:
            query.FieldPath.parse(path)
        except query.QueryError as exc:
            raise CommandError(f"--ignore: {exc.reason}") from None
    if args.ids:
        if len(args.ids) != 2 or args.left or args.right or args.key:
            raise CommandError("compare two messages (compare A B) or two views (compare --left V --right W --key PATH)")
        return _two(ctx, args, ignore)
    if not (args.left and args.right and args.key):
        raise CommandError("compare two views with --left VIEW --right VIEW --key PATH (or two messages: compare A B)")
    return _sets(ctx, args, ignore if args.ignore else list(SET_IGNORE))


def _text(ctx: Context, message_id: int) -> str:
    row = messages.get(ctx.store, message_id)
    if row is None:
        raise CommandError(f"there is no message {message_id}")
    text = hl7_text(row)
    if text is None:
        raise CommandError(f"message {message_id} is not HL7 v2 (mail or a document): it has no fields to compare")
    return text


def _two(ctx: Context, args, ignore: list[str]) -> int:
    left, right = (_text(ctx, i) for i in args.ids)
    rows = compare(left, right, ignore)
    differ = [r for r in rows if not r.same]
    shown = rows if args.all else differ
    if args.json:
        for r in shown:
            json_line({"path": r.path, "left": r.left, "right": r.right, "same": r.same})
        return ExitCode.OK if not differ else ExitCode.ATTENTION
    width = max([len(r.path) for r in shown] + [6])
    if shown:
        print(f"{'FIELD':{width}}   {'MESSAGE ' + str(args.ids[0]):40}  MESSAGE {args.ids[1]}")
    for r in shown:
        mark = " " if r.same else "≠"
        left = "(no segment)" if r.left is None else r.left
        right = "(no segment)" if r.right is None else r.right
        print(f"{r.path:{width}} {mark} {left[:40]:40}  {right[:60]}")
    print(f"{len(differ)} differ, {len(rows) - len(differ)} the same" + (f" (not compared: {', '.join(ignore)})" if ignore else ""))
    return ExitCode.OK if not differ else ExitCode.ATTENTION


def _read(ctx: Context, view: str):
    return ((row["id"], text) for row, text in hl7_messages(ctx.store, view_filter(ctx, view)))


def _sets(ctx: Context, args, ignore: list[str]) -> int:
    try:
        found = compare_sets(_read(ctx, args.left), _read(ctx, args.right), args.key, ignore)
    except query.QueryError as exc:
        raise CommandError(f"--key: {exc.reason}") from None
    if args.json:
        json_line({"kind": "summary", "left": args.left, "right": args.right, "ignored": ignore, **found.summary()})
        for p in found.pairs:
            json_line({"kind": "different", **p})
        for side, items in (("only_left", found.only_left), ("only_right", found.only_right)):
            for key, mid in items:
                json_line({"kind": side, "key": key, "message": mid})
        return ExitCode.OK
    print(f"keyed by {args.key}: {found.matched:,} matched, {found.different:,} of them different; "
          f"{len(found.only_left):,} only in {args.left}, {len(found.only_right):,} only in {args.right}"
          + (f"; {len(found.no_key):,} without {args.key}" if found.no_key else "")
          + (f" (not compared: {', '.join(ignore)})" if ignore else ""))
    if found.fields:
        print("fields that differed (pairs):")
        for path, n in found.fields.most_common(args.limit):
            print(f"  {n:>8,}  {path}")
    for label, items in ((f"only in {args.left}", found.only_left), (f"only in {args.right}", found.only_right)):
        if items:
            more = f" (first {args.limit} of {len(items):,})" if len(items) > args.limit else ""
            print(f"{label}{more}: " + ", ".join(f"{k} (message {m})" for k, m in items[:args.limit]))
    for p in found.pairs[:args.limit]:
        print(f"  {p['key']}: messages {p['left']} and {p['right']} differ in {', '.join(p['fields'])}")
    return ExitCode.OK
