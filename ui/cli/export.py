"""`export --deidentify`: chosen messages as an HL7 file with no PHI, for a vendor."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from core.commands.context import CommandError, Context
from core.commands.export import ExportDeidentified
from core.commands.views import FIELDS as VIEW_FIELDS
from core.deidentify import not_allowable
from ui.cli import values
from ui.cli.listing import filter_arguments, message_filter
from ui.cli.output import ExitCode, verb


def register(sub, common) -> None:
    s = verb(sub, common, "export", cmd_export, "write chosen messages to an HL7 file, de-identified for a vendor "
             "(HIPAA Safe Harbor identifiers replaced, dates moved, free text blanked; audited)", store="write")
    s.add_argument("--deidentify", action="store_true", required=True,
                   help="required: Lanewatch exports messages de-identified only (the store is where the originals stay)")
    s.add_argument("--out", required=True, metavar="FILE", help="the HL7 file to write")
    s.add_argument("--id", type=values.identifier, action="append", dest="ids", metavar="ID",
                   help="this message (repeatable); with filters, only those of them the filters pick")
    s.add_argument("--allow", action="append", default=[], metavar="FIELD",
                   help="keep this free text as it is (blanked otherwise): NTE-3, OBX-5, a Z-segment (ZPI) or one of "
                   "its fields (ZPI-2); repeatable")
    filter_arguments(s)


def cmd_export(ctx: Context, args) -> int:
    allow = [a.strip().upper() for a in args.allow]
    bad = not_allowable(allow)
    if bad:
        raise CommandError(f"--allow takes a segment or a field, such as NTE-3 or ZPI: not {', '.join(bad)}")
    flt = message_filter(ctx, args)
    if args.ids:
        flt = replace(flt, ids=args.ids)
    chosen = {k: _plain(getattr(args, k, None)) for k in (*VIEW_FIELDS, "view", "ids") if getattr(args, k, None) not in (None, [])}
    report = ExportDeidentified(ctx).run(flt, args.out, allow=allow, chosen=chosen)
    print(f"{report['messages']:,} messages written de-identified to {report['to']}")
    if report["left_out"]:
        print(f"{report['left_out']:,} left out: they are not HL7 v2 (mail, documents, JSON), so they have no fields to "
              "de-identify by")
    if report["blanked"]:
        said = ", ".join(f"{f} ({n:,})" for f, n in report["blanked"].items())
        print(f"free text blanked (messages): {said}; keep a field's with --allow FIELD once you know it holds no PHI")
    return ExitCode.OK if report["messages"] else ExitCode.ATTENTION


def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else value
