"""Correct a message: edits by field path, or new raw text, saved as a new version.

The original never changes. The correction is a new message linked to the version it
corrects (parent_id, version_no), revalidated before it is saved; the queue items of the
corrected version become `corrected`, and an audit entry records the edits. A correction
is not sent anywhere: it waits, ACK `not_expected`, until it is resent.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass

from core.changes import WRITE
from core.commands.context import CommandError, Context
from core.correlate import match_key
from core.hl7 import checks, edit, validate
from core.hl7.encoding import decode
from core.hl7.scan import scan
from core.ingest import receive
from core.store import audit, messages, queue
from core.store.db import Tx
from core.store.pairing import Pairing
from core.vocabulary import ACTIVE_ITEMS, AuditAction, TriageState

SOURCE = "corrections"
Edit = tuple[str, str]  # (field path, new value)


@dataclass
class Preview:
    message_id: int
    before: str
    after: str
    codec: str
    findings: list[validate.Finding]  # what is still wrong with the result

    @property
    def diff(self) -> list[str]:
        return list(difflib.unified_diff(_lines(self.before), _lines(self.after), "before", "after", lineterm="", n=1))

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\r").replace("\n", "\r").split("\r")


class Correct:
    changes = WRITE  # preview changes nothing; save does
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def preview(self, message_id: int, edits: list[Edit] | None = None, raw_text: str | None = None,
                *, structural: bool = True, raw_bytes: bytes | None = None) -> Preview:
        """The corrected text and what validation still finds, without saving anything.
        `raw_bytes` (a file's) are read in the message's own encoding (MSH-18), not UTF-8."""
        with self.ctx.store.read() as conn:
            row = messages.row(conn, message_id)
        if row is None:
            raise CommandError(f"Message {message_id} does not exist.")
        before, codec = decode(row.raw, row.charset)
        if raw_bytes is not None:
            raw_text = decode(raw_bytes, row.charset)[0].replace("\r\n", "\r").replace("\n", "\r")
        after = raw_text if raw_text is not None else before
        try:
            for path, value in edits or []:
                after = edit.set_value(after, path, value)
        except edit.EditError as exc:
            raise CommandError(str(exc)) from exc
        return Preview(message_id, before, after, codec, self._findings(after, row, structural))

    def _findings(self, text: str, row, structural: bool) -> list[validate.Finding]:
        keys = scan(text.encode("utf-8"))
        if keys["parse_state"] == "unparseable":
            return [validate.Finding("unparseable", keys["reason"] or "not an HL7 message")]
        found = [validate.Finding("invalid", keys["reason"])] if keys["parse_state"] == "invalid" else []
        rules = validate.catalogue().rules(keys["message_type"], match_key(keys))
        found += validate.missing_required(text, rules)
        found += checks.findings(text, keys["version"])  # types, tables, fields past a segment's end
        if structural:
            found += validate.structural(text, keys["version"])
        return found

    def save(self, preview: Preview) -> int:
        """Store the previewed correction; returns the new version's message id."""
        if not preview.changed:
            raise CommandError("Nothing was changed.")
        if any(f.rule == "unparseable" for f in preview.findings):
            raise CommandError(f"The corrected text is not a readable HL7 message: {preview.findings[0].text}")
        try:
            raw = preview.after.encode(preview.codec)
        except UnicodeEncodeError as exc:
            raise CommandError(f"The new text has characters {preview.codec} cannot hold: {exc.object[exc.start:exc.end]!r}") from exc
        with self.ctx.store.begin() as conn:
            return self._store(conn, preview, raw, Pairing(self.ctx.now))

    def _store(self, conn: Tx, preview: Preview, raw: bytes, pairing: Pairing) -> int:
        """The correction as a new version of its message; the items about the corrected
        version become `corrected`; one audit entry with the diff."""
        actor, now = self.ctx.who(conn), self.ctx.now()
        parent = messages.row(conn, preview.message_id, "id", "version_no")
        [new_id] = receive(conn, SOURCE, [raw], pairing, now=now, transport="edit",
                           corrects=(parent.id, parent.version_no)).ids
        items = queue.about(conn, [parent.id], ACTIVE_ITEMS)
        queue.settle(conn, {i.id: i.row_version for i in items}, TriageState.CORRECTED, now, f"corrected as message {new_id}")
        audit.append(conn, actor=actor, action=AuditAction.CORRECT, at=now, message_id=parent.id,
                     before={"message_id": parent.id, "version": parent.version_no, "items": [i.id for i in items]},
                     after={"message_id": new_id, "version": parent.version_no + 1, "diff": preview.diff})
        return new_id

    def bulk_preview(self, message_ids: list[int], edits: list[Edit], first: int = 3) -> list[Preview]:
        """The same edits on the first few messages of a group, to look at before applying to all."""
        return [self.preview(m, edits, structural=False) for m in message_ids[:first]]

    def bulk_apply(self, message_ids: list[int], edits: list[Edit]) -> list[int]:
        """The same edits on every message, in one transaction: all are corrected or none."""
        previews = [self.preview(m, edits, structural=False) for m in message_ids]
        unchanged = [p.message_id for p in previews if not p.changed]
        if unchanged:
            shown = ", ".join(map(str, unchanged[:5])) + (" and more" if len(unchanged) > 5 else "")
            raise CommandError(f"The edit changes nothing in message {shown}; nothing was saved.")
        with self.ctx.store.begin() as conn:
            pairing = Pairing(self.ctx.now)  # one for the lot: each interface is asked of the store once
            return [self._store(conn, p, p.after.encode(p.codec), pairing) for p in previews]


def failures(ctx: Context, message_id: int) -> list[tuple[str, str | None]]:
    """What failed about a message, for the person correcting it: each open queue item's
    reason, and the field path its NAK's ERR points at (ERR-2 ORC^1^12 → ORC-12), if any."""
    with ctx.store.read() as conn:
        row = messages.row(conn, message_id, "ack_id")
        answer = messages.row(conn, row.ack_id, "errors") if row and row.ack_id else None
    errors = answer.errors if answer else None
    items = queue.items(ctx.store, queue.QueueFilter(states=list(ACTIVE_ITEMS), message_ids=[message_id]))
    reasons = [i["reason"] for i in items]
    paths = [p for p in (err_path(e.get("location")) for e in errors or []) if p]
    return [(reason, paths[0] if paths else None) for reason in reasons] or [("", p) for p in paths]


def err_path(location: str | None) -> str | None:
    """An ERR-2 location (ORC^1^12, PID^1^3^1, OBX^2^5; or already ORC-12, as the scanner keeps it)
    as the field path edits use (ORC-12, PID-3.1, OBX[2]-5)."""
    try:
        return str(edit.Path.parse(location)) if location and "-" in location else _from_err(location)
    except edit.EditError:
        return None


def _from_err(location: str | None) -> str | None:
    parts = (location or "").split("^")
    if len(parts) < 3 or len(parts[0]) != 3 or not parts[2].isdigit():
        return None
    occurrence = f"[{parts[1]}]" if parts[1].isdigit() and parts[1] != "1" else ""
    comp = f".{parts[3]}" if len(parts) > 3 and parts[3].isdigit() else ""
    return f"{parts[0]}{occurrence}-{parts[2]}{comp}"
