"""The FHIR lane in the store: each exchange's facts (`fhir_exchanges`, beside its row in
`messages`), judged against the endpoint it went to, and the queue items its write raises.

An exchange belongs to a configured endpoint (its URL is below the base URL, or is the
endpoint's token URL); its interface is the app to that endpoint (lane `fhir`). Exchanges
to no known endpoint are not stored: they are counted by host and said, so an operator can
add the endpoint and read the archive again.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import String, insert, or_, select, update

from core.fhir.exchange import Interaction, answer, identifier, interaction
from core.fhir.writes import judge, writes_of
from core.signatures import Signature, normalise
from core.store import interfaces, queue
from core.store.db import Store, Tx
from core.store.models import MESSAGE_KEY_LENGTHS, FhirEndpoint, FhirExchange, Interface, Message
from core.vocabulary import AckState, Lane, QueueKind, WriteClass

E, FX, I, M = FhirEndpoint.__table__, FhirExchange.__table__, Interface.__table__, Message.__table__
_FACTS = ("write_enabled", "contracted", "scope_allows", "capability_allows")  # each False raises a flag (core.fhir.writes)
_LENGTHS = {c.name: c.type.length for c in FX.columns if isinstance(c.type, String) and c.type.length}
SIGN_IN = Interaction("sign-in", None)
FHIR_TYPE = "FHIR "  # an exchange's message type: FHIR and what it did ("FHIR create Observation")
_CLASS_ORDER = (WriteClass.NONE, WriteClass.ADMINISTRATIVE, WriteClass.CLINICAL)


def prepare(conn: Tx, rows: list[dict]) -> Counter:
    """Give each exchange row its endpoint, interface, judgement and answer, in place; rows
    to no known endpoint are taken out of `rows`. Returns those, counted by host."""
    known = [r._asdict() for r in conn.execute(select(E))]
    passed: Counter = Counter()
    interfaces: dict[tuple[str, int], int] = {}
    kept = []
    for row in rows:
        if "exchange" not in row:
            kept.append(row)
            continue
        ex = row["exchange"]
        found = _endpoint_of(ex.url, known, ex.method == "POST" and b"grant_type" in ex.request_body, ex.app)
        if found is None:
            passed[urlsplit(ex.url).hostname or ex.url[:60]] += 1
            continue
        endpoint, signing_in = found
        it = SIGN_IN if signing_in else interaction(ex.method, ex.url, endpoint["base_url"], ex.request_headers)
        app = ex.app or "unknown app"
        key = (app, endpoint["id"])
        iface = interfaces.get(key) or interfaces.setdefault(key, _interface(conn, app, endpoint))
        _judge(row, it, endpoint, iface)
        kept.append(row)
    rows[:] = kept
    return passed


def _endpoint_of(url: str, known: list[dict], signing_in: bool, app: str | None) -> tuple[dict, bool] | None:
    """The endpoint a URL is for (the longest base it lies below; of two with that base, the
    one configured with the app's client ID), and whether it is its token URL (or, for a
    token request, a URL on its host)."""
    bare = url.split("?")[0].split("#")[0]
    ranked = sorted(known, key=lambda e: (-len(e["base_url"].rstrip("/")), e.get("client_id") != app))
    for e in ranked:
        base = e["base_url"].rstrip("/")
        if bare == base or bare.startswith(base + "/"):
            return e, False
    for e in ranked:
        if bare in {e.get("token_url"), (e.get("smart_config") or {}).get("token_endpoint")} - {None}:
            return e, True
    if signing_in:  # a token request to the endpoint's host, its token URL not known yet
        host = urlsplit(url).hostname
        return next(((e, True) for e in ranked if urlsplit(e["base_url"]).hostname == host), None)
    return None


def _interface(conn: Tx, app: str, endpoint: dict) -> int:
    return interfaces.of_lane(conn, Lane.FHIR, f"{app}>{endpoint['name']}", f"{app} → {endpoint['name']}", app,
                              endpoint["name"])


def _judge(row: dict, it: Interaction, endpoint: dict, iface: int) -> None:
    ex = row["exchange"]
    writes = writes_of(it, ex.request_body)
    j = judge(writes, endpoint, ex.scopes)
    said = answer(ex)
    state = (AckState.MISSING if ex.status == 0 else AckState.ERROR if not said.ok
             else AckState.ACCEPTED_WITH_WARNINGS if said.words else AckState.ACCEPTED)
    location = ex.header("Location") or ex.header("Content-Location")
    rid = it.resource_id or _id_in(location, it.resource_type)
    key = None if it.resource_type == "Patient" else rid  # a patient's id is PHI: its column is the masked patient ID
    row.update(receiving_app=endpoint["name"][:200], message_type=f"{FHIR_TYPE}{it.words()}"[:MESSAGE_KEY_LENGTHS["message_type"]],
               control_id=(key or "")[:MESSAGE_KEY_LENGTHS["control_id"]] or None, interface=(iface, False, None),
               lane_state=state, reason="; ".join([said.words, *j.flags]).strip("; ")[:2000] or None)
    row["fhir"] = {
        "endpoint_id": endpoint["id"], "endpoint": endpoint["name"], "app": ex.app, "method": ex.method[:10],
        "url": ex.url, "interaction": it.name, "operation": it.operation, "resource_type": it.resource_type,
        "resource_id": rid, "conditional": it.conditional, "status": ex.status, "ok": said.ok,
        "duration_ms": ex.duration_ms, "is_write": bool(writes), "write_class": j.write_class, "scopes": ex.scopes,
        "scope_allows": j.scope_allows, "capability_allows": j.capability_allows, "contracted": j.contracted,
        "write_enabled": j.enabled, "flags": j.flags, "outcome": said.words or None, "issues": list(said.issues),
        "retry_after": said.retry_after, "identifier": identifier(row.get("resource")), "location": location,
        "etag": ex.header("ETag"), "if_match": ex.header("If-Match", response=False),
        "request_at": row["bodies"][0][0], "request_size": row["bodies"][0][1],
        "response_at": row["bodies"][1][0], "response_size": row["bodies"][1][1]}


def _id_in(location: str | None, rtype: str | None) -> str | None:
    """The id in a Location such as .../Observation/123/_history/1."""
    if not location or not rtype:
        return None
    parts = urlsplit(location).path.split("/")
    return parts[parts.index(rtype) + 1] if rtype in parts[:-1] else None


# -- after the rows went in ------------------------------------------------------------------
def record(conn: Tx, rows: list[dict], now: datetime) -> list[dict]:
    """Store the exchanges' facts; returns the queue items their writes raise: a failed write
    (grouped by endpoint, interaction and the OperationOutcome's codes and paths), and a write
    that was not allowed (flags), even one the server took."""
    facts = [r for r in rows if "fhir" in r]
    if not facts:
        return []
    conn.execute(insert(FX), [{"message_id": r["id"], **{k: _clip(k, v) for k, v in r["fhir"].items() if k != "endpoint"}}
                              for r in facts])
    _raise_write_class(conn, facts)
    items = []
    for r in facts:
        f = r["fhir"]
        if not f["is_write"]:
            continue
        what = f"{f['interaction']} {f['resource_type'] or ''}".strip()
        if not f["ok"]:
            items.append(queue.new(QueueKind.FHIR_WRITE_FAILED, _failed_words(f, what), Signature(
                QueueKind.FHIR_WRITE_FAILED, f"{f['endpoint']} {what}", _outcome_signature(f)),
                message_id=r["id"], source_id=r["source_id"], now=now, at=r["event_time"], lane=Lane.FHIR))
        elif f["flags"]:  # a failed write says its flags in its own item
            items.append(queue.new(QueueKind.FHIR_WRITE_FLAGGED, (
                f"{what} to {f['endpoint']} by {f['app'] or 'an unknown app'} was taken by the server, but "
                + "; ".join(f["flags"]) + ". Check the app's access with the practice before it writes again."),
                Signature(QueueKind.FHIR_WRITE_FLAGGED, f["endpoint"], normalise("; ".join(f["flags"]))),
                message_id=r["id"], source_id=r["source_id"], now=now, at=r["event_time"], lane=Lane.FHIR))
    return items


def _clip(column: str, value):
    return value[: _LENGTHS[column]] if isinstance(value, str) and column in _LENGTHS else value


def _failed_words(f: dict, what: str) -> str:
    paths = ", ".join(dict.fromkeys(p for i in f["issues"] if i["severity"] in ("error", "fatal") for p in i["expression"]))
    return (f"{what} to {f['endpoint']} failed: {f['outcome'] or 'no words from the server'}."
            + (f" Correct {paths} in the request, then retry." if paths else "")
            + (" Wait for the rate limit before retrying." if f["status"] == 429 else "")
            + (f" Also: {'; '.join(f['flags'])}." if f["flags"] else ""))


def _outcome_signature(f: dict) -> str:
    """What groups identical failures: status, the error issues' codes and paths, their words normalised."""
    errors = [i for i in f["issues"] if i["severity"] in ("error", "fatal")] or f["issues"]
    parts = [f"HTTP {f['status']}" if f["status"] else "no response"]
    parts += [f"{i['code']}" + (f" at {', '.join(i['expression'])}" if i["expression"] else "")
              + (f": {normalise(i['text'])}" if i["text"] else "") for i in errors[:3]]
    return "; ".join(parts)[:300]


def _raise_write_class(conn: Tx, facts: list[dict]) -> None:
    """An app's interface takes the highest write class its writes have shown."""
    seen: dict[int, str] = {}
    for r in facts:
        cls = r["fhir"]["write_class"]
        iface = r["interface_id"]
        if cls and _CLASS_ORDER.index(WriteClass(cls)) > _CLASS_ORDER.index(WriteClass(seen.get(iface, "none"))):
            seen[iface] = cls
    for iface, cls in seen.items():
        lower = [c.value for c in _CLASS_ORDER[:_CLASS_ORDER.index(WriteClass(cls))]]
        conn.execute(update(I).where(I.c.id == iface, I.c.write_class.in_(lower)).values(write_class=cls))


# -- reading ---------------------------------------------------------------------------------
def exchange_of(store: Store, message_id: int) -> dict | None:
    """One exchange's facts, by its message, with its endpoint's name (None: not an exchange)."""
    stmt = (select(FX, E.c.name.label("endpoint")).join(E, E.c.id == FX.c.endpoint_id, isouter=True)
            .where(FX.c.message_id == message_id))
    with store.read() as conn:
        found = conn.execute(stmt).first()
    return found._asdict() if found else None


def exchanges(store: Store, *, endpoint: str | None = None, writes: bool = False, failed: bool = False,
              flagged: bool = False, limit: int = 500) -> list[dict]:
    """Exchanges newest first with their endpoint's name and when they happened: every one,
    or only writes, failed writes (`failed`) or writes that raised a flag (`flagged`)."""
    stmt = (select(FX, E.c.name.label("endpoint"), M.c.message_time, M.c.patient_id, M.c.source_id)
            .join(M, M.c.id == FX.c.message_id).join(E, E.c.id == FX.c.endpoint_id, isouter=True))
    if endpoint:
        stmt = stmt.where(E.c.name == endpoint)
    if writes or failed or flagged:
        stmt = stmt.where(FX.c.is_write.is_(True))
    if failed:
        stmt = stmt.where(FX.c.ok.is_(False))
    if flagged:
        stmt = stmt.where(or_(*(FX.c[fact].is_(False) for fact in _FACTS)))
    with store.read() as conn:
        return [r._asdict() for r in conn.execute(stmt.order_by(FX.c.message_id.desc()).limit(limit))]
