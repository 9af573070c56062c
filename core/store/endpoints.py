"""FHIR endpoints in the store: reading them, keeping what discovery and probes found, and
the probe history the latency chart draws."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, select, update

from core.fhir.discovery import Discovery
from core.fhir.health import Probe
from core.store.db import Store, Tx
from core.store.models import FhirEndpoint, FhirProbe

E, P = FhirEndpoint.__table__, FhirProbe.__table__


def get(store: Store, name_or_id: str | int) -> dict | None:
    key = E.c.id == int(name_or_id) if str(name_or_id).isdigit() else E.c.name == name_or_id
    with store.read() as conn:
        row = conn.execute(select(E).where(key)).first()
    return row._asdict() if row else None


def every(store: Store) -> list[dict]:
    """Every endpoint, whole (its stored documents included), by name."""
    with store.read() as conn:
        return [r._asdict() for r in conn.execute(select(E).order_by(E.c.name))]


def overview(store: Store) -> list[dict]:
    """Every endpoint with its newest probe (status, latency, when, what went wrong)."""
    newest = select(P.c.endpoint_id, func.max(P.c.id).label("probe_id")).group_by(P.c.endpoint_id).subquery()
    stmt = (select(E.c.id, E.c.name, E.c.base_url, E.c.auth, E.c.audience, E.c.fhir_version, E.c.software,
                   E.c.cert_expires_at, E.c.discovered_at, E.c.discovery_problem, E.c.write_enabled, E.c.contracted_writes,
                   P.c.status, P.c.latency_ms, P.c.at.label("probed_at"), P.c.detail)
            .join(newest, newest.c.endpoint_id == E.c.id, isouter=True)
            .join(P, P.c.id == newest.c.probe_id, isouter=True).order_by(E.c.name))
    with store.read() as conn:
        return [r._asdict() for r in conn.execute(stmt)]


def save_discovery(store: Store, endpoint_id: int, found: Discovery, at: datetime) -> None:
    with store.begin() as conn:
        conn.execute(update(E).where(E.c.id == endpoint_id).values(
            capability=found.capability, smart_config=found.smart_config, fhir_version=found.fhir_version,
            software=found.software, cert_expires_at=found.cert_expires_at, discovered_at=at,
            discovery_problem="; ".join(found.problems) or None))


def record_probe(store: Store, endpoint_id: int, probe: Probe, at: datetime) -> None:
    with store.begin() as conn:
        conn.execute(insert(P), {"endpoint_id": endpoint_id, "at": at, "status": probe.status,
                                 "latency_ms": probe.latency_ms, "detail": probe.detail or None,
                                 "steps": [s.__dict__ for s in probe.steps]})
        if probe.granted is not None:
            conn.execute(update(E).where(E.c.id == endpoint_id).values(scopes_granted=probe.granted))


def history(store: Store, endpoint_id: int, since: datetime | None = None, limit: int = 2000) -> list[dict]:
    """Probes of one endpoint, oldest first (for the latency chart)."""
    stmt = select(P.c.at, P.c.status, P.c.latency_ms, P.c.detail).where(P.c.endpoint_id == endpoint_id)
    if since is not None:
        stmt = stmt.where(P.c.at >= since)
    with store.read() as conn:
        rows = [r._asdict() for r in conn.execute(stmt.order_by(P.c.id.desc()).limit(limit))]
    return rows[::-1]


def find(conn: Tx, name: str):
    """An endpoint's row by name, in the caller's transaction (None when there is none)."""
    return conn.execute(select(E).where(E.c.name == name)).first()


def add(conn: Tx, values: dict) -> int:
    return conn.execute(insert(E).returning(E.c.id), values).scalar_one()


def change(conn: Tx, endpoint_id: int, **values) -> None:
    conn.execute(update(E).where(E.c.id == endpoint_id).values(**values))


def remove(conn: Tx, endpoint_id: int) -> None:
    """An endpoint and its probe history."""
    conn.execute(P.delete().where(P.c.endpoint_id == endpoint_id))
    conn.execute(E.delete().where(E.c.id == endpoint_id))
