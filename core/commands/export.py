"""Exports that leave the store: de-identified HL7 messages for a vendor (core.deidentify),
and a table as the console shows it (CSV or JSON; masked when the privacy screen is on).

Each file is written beside its destination and moved into place in the same transaction
that records the export in the audit (who, which messages, how many, where to, what free
text was allowed and what was blanked), so there is never an export the audit does not
know of, and never half a file under the name asked for.
"""
from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable
from pathlib import Path

from core.changes import Changes
from core.commands.context import CommandError, Context
from core.deidentify import Deidentifier
from core.hl7.encoding import codec_for
from core.privacy import has_segments
from core.store import audit, messages
from core.vocabulary import AuditAction, ParseState

WIDE = ("utf-16", "utf-32")  # the encodings where a byte is not a character: read and written in their codec


class ExportDeidentified:
    changes = Changes(audit=True)

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(self, flt: messages.MessageFilter, out: Path, *, allow: list[str] = (), chosen: dict | None = None,
            progress: Callable[[int], bool] | None = None) -> dict:
        """Write the messages `flt` picks to `out`, de-identified. `chosen` is what the operator
        asked for, as the audit keeps it; `progress(written)` is told every thousand and
        returns False to stop (nothing is then written)."""
        ids = Deidentifier(allow)

        def write(f) -> dict:
            written = left_out = 0
            for row in messages.every(self.ctx.store, flt, raw=True):
                codec = codec_for(row["charset"]) or "latin-1"
                codec = codec if codec.startswith(WIDE) else "latin-1"
                text = row["raw"].decode(codec, "replace")
                if row["parse_state"] == ParseState.TEXT or not has_segments(text):
                    left_out += 1  # mail, documents, XML, JSON: no fields to de-identify by
                    continue
                data = ids.message(text).encode(codec, "replace")
                f.write(data if data.endswith(b"\n") else data + b"\n")
                written += 1
                if progress and written % 1000 == 0 and progress(written) is False:
                    raise CommandError("The export was stopped: nothing was written.")
            return {"kind": "de-identified HL7", "messages": written, "left_out": left_out, "chosen": chosen or {},
                    "allowed": sorted(ids.allow), "blanked": dict(sorted(ids.blanked.items()))}

        return _write_audited(self.ctx, Path(out), write)


class ExportTable:
    """A table as shown (its headers and the text of its cells) to CSV, or to JSON (a list of
    objects keyed by header) when the file's name ends in .json."""

    changes = Changes(audit=True)

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(self, table: str, headers: list[str], rows: list[list[str]], out: Path, *, masked: bool) -> dict:
        out = Path(out)
        as_json = out.suffix.lower() == ".json"
        if as_json:
            text = json.dumps([dict(zip(headers, r)) for r in rows], indent=1, ensure_ascii=False) + "\n"
        else:
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\r\n")
            writer.writerow(headers)
            writer.writerows(rows)
            text = buf.getvalue()
        data = text.encode("utf-8" if as_json else "utf-8-sig")  # the mark: Excel then reads the CSV as UTF-8

        def write(f) -> dict:
            f.write(data)
            return {"kind": f"{table} table", "rows": len(rows), "format": "json" if as_json else "csv", "masked": masked}

        return _write_audited(self.ctx, out, write)


def _write_audited(ctx: Context, out: Path, write: Callable) -> dict:
    """`write(file)` fills the file beside its name and says what it wrote; the file is moved
    into place in the transaction that records that in the audit, with where it went."""
    if out.is_dir():
        raise CommandError(f"{out} is a folder: name the file to write.")
    part = out.with_name(out.name + ".part")
    try:
        with open(part, "wb") as f:
            report = {**write(f), "to": str(out.resolve())}
            f.flush()
            os.fsync(f.fileno())
        with ctx.store.begin() as conn:
            audit.append(conn, actor=ctx.who(conn), action=AuditAction.EXPORT, at=ctx.now(), after=report)
            os.replace(part, out)
    except OSError as exc:
        raise CommandError(f"Could not write {out}: {exc.strerror or exc}.") from None
    finally:
        part.unlink(missing_ok=True)
    return report
