"""Validate messages with hl7apy against their own HL7 version; what fails becomes `invalid`
with a queue item grouped by the rule it broke.

hl7apy builds a full tree per message (DESIGN.md, "Hot path"), so this is never part of
ingest: it runs on the messages a person or a script chooses (an interface, a type, a day).
"""
from __future__ import annotations

from core.changes import Changes
from core.commands.context import Context
from core.hl7 import validate
from core.hl7.encoding import decode
from core.signatures import Signature
from core.store import messages, queue
from core.vocabulary import ParseState, QueueKind


class Validate:
    changes = Changes(messages=True, queue=True)

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(self, message_ids: list[int]) -> dict[int, list[validate.Finding]]:
        """Findings per message validated; messages with findings are marked and queued once."""
        found: dict[int, list[validate.Finding]] = {}
        for message_id in message_ids:
            with self.ctx.store.read() as conn:
                row = messages.row(conn, message_id, "raw", "charset", "version", "parse_state", "reason", "source_id")
            if row is None or row.parse_state == ParseState.UNPARSEABLE:
                continue
            findings = validate.structural(decode(row.raw, row.charset)[0], row.version)
            found[message_id] = findings
            if findings:
                self._record(message_id, row, findings)
        return found

    def _record(self, message_id: int, row, findings: list[validate.Finding]) -> None:
        signature = Signature(QueueKind.INVALID, detail="; ".join(sorted({f.rule for f in findings}))[:380])
        text = "; ".join(f.text for f in findings)
        now = self.ctx.now()
        with self.ctx.store.begin() as conn:
            reason = text if row.parse_state == ParseState.OK else f"{row.reason}; {text}"
            messages.set_values(conn, message_id, parse_state=ParseState.INVALID, reason=reason[:4000])
            queue.add_unless_known(conn, queue.new(QueueKind.INVALID, f"HL7 validation: {text}", signature,
                                                   message_id=message_id, source_id=row.source_id, now=now))
