"""CDA documents in the store: one row per document found in a message or a file, with its
type, header, section inventory and validation; the problems found queued, one item per
document and rule, so a hundred documents failing the same way are one group."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update

from core.signatures import Signature, normalise
from core.store import queue
from core.store.db import Store, Tx
from core.store.models import Document
from core.vocabulary import QueueKind

D = Document.__table__
LIST_COLUMNS = [c for c in D.columns if c.name != "raw"]
MOST_ITEMS = 5  # queue items per document (its findings are all kept on the document)


def record(conn: Tx, rows: list[dict], now: datetime) -> list[dict]:
    """Store the documents the stored rows carry; returns the queue items their problems raise."""
    items, found = [], [(r, d) for r in rows for d in r.get("documents") or ()]
    for r, d in found:
        values = {k: v for k, v in d.items() if k in D.c and k != "id"}
        d["id"] = conn.execute(insert(D).returning(D.c.id), {**values, "message_id": r["id"]}).scalar_one()
        items += _items(r, d, now)
    return items


def _items(r: dict, d: dict, now: datetime) -> list[dict]:
    what = f"{d['type_name']}{' ' + repr(d['part']) if d['part'] else ''} (document {d['id']})"
    out = []
    if d["xsd_state"] in ("invalid", "unreadable"):
        rules: dict[str, dict] = {}
        for f in d["xsd_findings"]:
            rules.setdefault(f["rule"], f)
        for rule, f in list(rules.items())[:MOST_ITEMS]:
            line = f" (line {f['line']})" if f.get("line") else ""
            out.append(queue.new(QueueKind.DOCUMENT_INVALID, f"{what} fails the CDA schema{line}: {f['text']}",
                                 Signature(QueueKind.DOCUMENT_INVALID, d["type_name"], normalise(rule)[:200]),
                                 message_id=r["id"], source_id=r["source_id"], now=now, at=r["event_time"]))
    if d["missing"]:
        out.append(queue.new(QueueKind.DOCUMENT_INCOMPLETE, f"{what} lacks what a {d['type_name']} must hold: "
                             + "; ".join(d["missing"]), Signature(QueueKind.DOCUMENT_INCOMPLETE, d["type_name"],
                                                                 "; ".join(d["missing"])[:200]),
                             message_id=r["id"], source_id=r["source_id"], now=now, at=r["event_time"]))
    return out


def every(store: Store, *, type_name: str | None = None, invalid: bool = False, message_id: int | None = None,
          limit: int = 1000) -> list[dict]:
    stmt = select(*LIST_COLUMNS).order_by(D.c.id.desc()).limit(limit)
    if type_name:
        stmt = stmt.where(D.c.type_name == type_name)
    if invalid:
        stmt = stmt.where(D.c.xsd_state.in_(("invalid", "unreadable")) | (D.c.schematron_state == "invalid"))
    if message_id is not None:
        stmt = stmt.where(D.c.message_id == message_id)
    with store.read() as conn:
        return [r._asdict() for r in conn.execute(stmt)]


def get(store: Store, document_id: int) -> dict | None:
    with store.read() as conn:
        found = conn.execute(select(D).where(D.c.id == document_id)).first()
    return found._asdict() if found else None


def set_schematron(store: Store, document_id: int, state: str, findings: list[dict], now: datetime) -> None:
    with store.begin() as conn:
        conn.execute(update(D).where(D.c.id == document_id).values(schematron_state=state, schematron_findings=findings,
                                                                   schematron_at=now))
