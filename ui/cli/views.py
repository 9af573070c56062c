"""The saved views' verbs: save, list, show, delete, export and import; `messages --view`
and `stats --view` use them."""
from __future__ import annotations

import sys
from pathlib import Path

from core.commands.context import CommandError, Context
from core.commands.views import FIELDS, DeleteView, SaveView, exported, imported
from core.store import views
from ui.cli import values
from ui.cli.listing import filter_arguments
from ui.cli.output import ExitCode, json_line, verb


def register(sub, common) -> None:
    s = verb(sub, common, "view", cmd_view, "saved views: named filters of messages, shared through the store",
             store="write")
    s.add_argument("action", choices=("save", "list", "show", "delete", "export", "import"))
    s.add_argument("name", nargs="?", help="the view's name (import: the file)")
    filter_arguments(s, moments_as_text=True)
    s.add_argument("--interface", type=values.identifier, help="only this interface's messages (lanewatch interface list)")
    s.add_argument("--columns", help="the Messages columns to show, in order, comma-separated")
    s.add_argument("--sort", choices=("newest", "oldest"), help="newest first (default) or oldest first")
    s.add_argument("-o", "--out", help="export: write the view to this file (default: standard output)")
    s.add_argument("--json", action="store_true", help="list: JSON Lines")


def cmd_view(ctx: Context, args) -> int:
    if args.action == "list":
        for v in views.every(ctx.store):
            if args.json:
                json_line(v)
            else:
                print(f"{v['name']:30}  {v['owner']:24}  {v['updated_at']:%Y-%m-%d %H:%M}  {_said(v['definition'])}")
        return ExitCode.OK
    if not args.name:
        raise CommandError(f"name the view: lanewatch view {args.action} NAME")
    if args.action == "import":
        try:
            name, definition = imported(Path(args.name).read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"the file cannot be read: {exc.strerror}: {args.name}") from None
        saved = SaveView(ctx).run(name, definition)
        print(f"view {saved['name']}: imported ({_said(saved['definition'])})")
        return ExitCode.OK
    if args.action == "save":
        definition = {k: getattr(args, k) for k in FIELDS if k != "columns"}
        definition["columns"] = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns else None
        saved = SaveView(ctx).run(args.name, definition)
        print(f"view {saved['name']}: {'replaced' if saved['replaced'] else 'saved'} ({_said(saved['definition'])})")
        return ExitCode.OK
    if args.action == "delete":
        DeleteView(ctx).run(args.name)
        print(f"view {args.name}: deleted")
        return ExitCode.OK
    found = views.named(ctx.store, args.name)
    if found is None:
        raise CommandError(f"there is no view called {args.name!r} (see `lanewatch view list`)")
    if args.action == "show":
        json_line(found)
        return ExitCode.OK
    text = exported(found)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"view {found['name']}: written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return ExitCode.OK


def _said(definition: dict) -> str:
    return "; ".join(f"{k} {', '.join(v) if isinstance(v, list) else v}" for k, v in definition.items()) or "everything"
