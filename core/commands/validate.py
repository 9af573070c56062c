"""Validate messages with hl7apy against their own HL7 version; what fails becomes `invalid`
with a queue item grouped by the rule it broke.

hl7apy builds a full tree per message (DESIGN.md, "Hot path"), so this is never part of
ingest: it runs on the messages a person or a script chooses (an interface, a type, a day).
"""
from __future__ import annotations

from sqlalchemy import insert, select, update

from core import queue
from core.commands.context import Context
from core.hl7 import validate
from core.hl7.encoding import decode
from core.store.models import Message, QueueItem

M, Q = Message.__table__, QueueItem.__table__


class Validate:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(self, message_ids: list[int]) -> dict[int, list[validate.Finding]]:
        """Findings per message validated; messages with findings are marked and queued once."""
        found: dict[int, list[validate.Finding]] = {}
        for message_id in message_ids:
            with self.ctx.store.engine.connect() as conn:
                row = conn.execute(select(M.c.raw, M.c.charset, M.c.version, M.c.parse_state, M.c.reason, M.c.source_id)
                                   .where(M.c.id == message_id)).first()
            if row is None or row.parse_state == "unparseable":
                continue
            findings = validate.structural(decode(row.raw, row.charset)[0], row.version)
            found[message_id] = findings
            if findings:
                self._record(message_id, row, findings)
        return found

    def _record(self, message_id: int, row, findings: list[validate.Finding]) -> None:
        signature = "invalid | " + "; ".join(sorted({f.rule for f in findings}))[:380]
        text = "; ".join(f.text for f in findings)
        now = self.ctx.now()
        with self.ctx.store.engine.begin() as conn:
            reason = text if row.parse_state == "ok" else f"{row.reason}; {text}"
            conn.execute(update(M).where(M.c.id == message_id).values(parse_state="invalid", reason=reason[:4000]))
            known = conn.execute(select(Q.c.id).where(Q.c.message_id == message_id, Q.c.signature == signature)).first()
            if known is None:
                conn.execute(insert(Q), [queue.item("invalid", f"HL7 validation: {text}", signature, message_id=message_id,
                                                    source_id=row.source_id, now=now)])
