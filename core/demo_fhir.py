"""The demo workspace's FHIR side: a server on loopback with a US Core-like
CapabilityStatement, three endpoints configured as a practice would have them (a backend
service, a patient-facing app that asks for too much, a lab server that is down), their
discovery, two days of probe history so the Endpoints tab has a chart to show, and the
portal app's last day of requests as a HAR file (core.demo_har) for the FHIR lane.

Its secrets live in memory (core.secrets.use_memory): the demo never writes to the OS keyring.
"""
from __future__ import annotations

import random
from datetime import timedelta

from core import demo_har, secrets
from core.commands.context import Context
from core.commands.endpoints import ConfigureEndpoint, Discover, ProbeEndpoints
from core.fhir.health import Probe, Step
from core.fhir.loopback import LoopbackFhirServer, key_pair
from core.store import endpoints

READ_SEARCH = ["read", "vread", "search-type"]
RESOURCES = {  # type: (interactions, search parameters)
    "Patient": (READ_SEARCH + ["create", "update"], ["identifier", "name", "birthdate", "gender", "_id"]),
    "Observation": (READ_SEARCH + ["create"], ["patient", "category", "code", "date", "status"]),
    "Condition": (READ_SEARCH, ["patient", "category", "clinical-status", "onset-date"]),
    "AllergyIntolerance": (READ_SEARCH, ["patient", "clinical-status"]),
    "MedicationRequest": (READ_SEARCH, ["patient", "intent", "status", "authoredon"]),
    "Immunization": (READ_SEARCH + ["create"], ["patient", "date", "status"]),
    "DiagnosticReport": (READ_SEARCH + ["create", "update"], ["patient", "category", "code", "date"]),
    "DocumentReference": (READ_SEARCH + ["create"], ["patient", "category", "type", "date"]),
    "Encounter": (READ_SEARCH, ["patient", "date", "class", "status"]),
    "Procedure": (READ_SEARCH, ["patient", "date", "code"]),
    "CarePlan": (READ_SEARCH, ["patient", "category"]),
    "Goal": (READ_SEARCH, ["patient", "lifecycle-status"]),
    "ServiceRequest": (READ_SEARCH + ["create", "update"], ["patient", "category", "code", "authored"]),
    "Appointment": (READ_SEARCH + ["create", "update", "delete"], ["patient", "date", "status", "practitioner"]),
    "Coverage": (READ_SEARCH, ["patient"]),
    "Practitioner": (READ_SEARCH, ["identifier", "name"]),
    "Organization": (READ_SEARCH, ["identifier", "name"]),
    "Location": (READ_SEARCH, ["name", "address"]),
}


def capability() -> dict:
    return {"resourceType": "CapabilityStatement", "status": "active", "kind": "instance", "fhirVersion": "4.0.1",
            "software": {"name": "Northside EHR FHIR API (demo)", "version": "24.3"}, "format": ["json"],
            "rest": [{"mode": "server", "resource": [
                {"type": t, "interaction": [{"code": c} for c in codes], "searchParam": [{"name": p} for p in params]}
                for t, (codes, params) in RESOURCES.items()]}]}


def start(ctx: Context, *, seed: int = 5) -> LoopbackFhirServer:
    """Start the demo server and configure its endpoints in the store; keep the server open."""
    secrets.use_memory()
    private, public = key_pair()
    server = LoopbackFhirServer(capability=capability(), public_key_pem=public,
                                grant="system/Patient.rs system/Observation.rs system/DiagnosticReport.rs "
                                      "system/Immunization.cu system/Appointment.cruds")
    server.smart["scopes_supported"] = [f"{c}/{t}.{a}" for t in RESOURCES for c in ("patient", "user", "system")
                                        for a in ("rs", "cruds")] + ["launch", "launch/patient", "openid", "fhirUser",
                                                                     "offline_access"]
    server.smart["capabilities"] = ["launch-standalone", "client-confidential-asymmetric", "permission-v2"]
    server.__enter__()
    configure = ConfigureEndpoint(ctx)
    configure.run("Northside EHR (backend)", secret=private, base_url=server.base_url, auth="backend",
                  client_id="lanewatch", alg="RS384", key_id="demo-key-1", audience="backend",
                  scopes_requested="system/Patient.rs system/Observation.rs system/DiagnosticReport.rs "
                                   "system/Immunization.cu system/Appointment.cruds system/Coverage.rs",
                  scopes_needed="system/Patient.rs system/Observation.rs system/Coverage.rs system/Immunization.c")
    configure.run("Patient portal app", base_url=server.base_url, auth="none", audience="patient", client_id=demo_har.APP,
                  write_enabled=True, contracted_writes=["Observation.create"],
                  scopes_requested="launch/patient openid fhirUser offline_access patient/*.read "
                                   "patient/Observation.rs?category=vital-signs patient/Observation.rs?colour=blue "
                                   "system/Patient.read patient/MedicationRequest.write",
                  scopes_needed="patient/Observation.rs patient/AllergyIntolerance.rs patient/Condition.rs")
    configure.run("Quest results FHIR", base_url="http://127.0.0.1:9/fhir", auth="none", audience="provider",
                  scopes_requested="user/DiagnosticReport.rs user/Observation.rs")
    for row in endpoints.every(ctx.store):
        Discover(ctx).run(row["name"])
    _history(ctx, random.Random(seed))
    ProbeEndpoints(ctx, timeout=2).run()
    return server


def write_har(folder, server: LoopbackFhirServer, ctx: Context):
    """The portal app's day against `server`, for the workspace to ingest."""
    return demo_har.write(folder, server.base_url, server.token_url, ctx.now())


def _history(ctx: Context, rng: random.Random) -> None:
    """Two days of half-hourly probes, as a console left open would have gathered."""
    now = ctx.now()
    for row in endpoints.every(ctx.store):
        base = {"Northside EHR (backend)": 140, "Patient portal app": 90}.get(row["name"])
        for i in range(96, 0, -1):
            at = now - timedelta(minutes=30 * i)
            if base is None:
                probe = Probe("down", 2.0, [Step("metadata", False, 2.0, None, "could not reach the server: ConnectError")])
            else:
                latency = base * (1 + rng.random() * 0.5) + (900 if 40 <= i <= 44 else 0)  # a slow spell yesterday
                status = "degraded" if latency > 800 else "ok"
                probe = Probe(status, round(latency, 1), [Step("metadata", True, round(latency / 3, 1), 200)])
            endpoints.record_probe(ctx.store, row["id"], probe, at)
