"""Endpoint commands on the store, against the loopback FHIR server."""
from __future__ import annotations

import httpx2
import pytest

from core import secrets
from core.commands.context import CommandError, Context
from core.commands.endpoints import ConfigureEndpoint, Discover, ProbeEndpoints, SignIn
from core.fhir import inventory
from core.fhir.loopback import LoopbackFhirServer
from core.store import audit, endpoints


def test_standalone_sign_in_then_probes_renew_with_the_refresh_token(store):
    ctx = Context(store, actor="alice@ws1")
    with LoopbackFhirServer(grant="launch/patient patient/Observation.rs") as server:
        ConfigureEndpoint(ctx).run("portal", base_url=server.base_url, auth="standalone", client_id="lanewatch",
                                   audience="patient", scopes_requested="launch/patient patient/Observation.rs patient/*.read")
        Discover(ctx).run("portal")
        opened = []
        granted = SignIn(ctx, authorize=lambda url: (opened.append(url), httpx2.get(url, follow_redirects=True))).run("portal")
        assert granted == "launch/patient patient/Observation.rs" and len(opened) == 1
        assert secrets.get("fhir:portal", "refresh_token")
        [(_, probe)] = ProbeEndpoints(ctx).run(["portal"])  # no browser: the refresh token does it
        assert probe.status == "ok" and [s.step for s in probe.steps] == ["metadata", "token", "read"]
    e = endpoints.get(store, "portal")
    codes = {f.code for f in inventory.of_endpoint(e).flags}
    assert "silently_narrowed" in codes  # patient/*.read asked for, not granted
    assert [a["action"] for a in audit.page(store)][:2] == ["sign_in_endpoint", "configure_endpoint"]


def test_sign_in_is_only_for_standalone(store):
    ctx = Context(store)
    ConfigureEndpoint(ctx).run("open", base_url="https://x.example/fhir")
    with pytest.raises(CommandError, match="does not use standalone launch"):
        SignIn(ctx).run("open")
    with pytest.raises(CommandError, match="keeps no secret"):
        ConfigureEndpoint(ctx).run("open", secret="s")


def test_discovery_reads_the_certificate_even_when_it_is_not_trusted(store, certificate):
    from datetime import timedelta

    ctx = Context(store)
    with LoopbackFhirServer(tls=certificate) as server:
        ConfigureEndpoint(ctx).run("selfsigned", base_url=server.base_url)
        found = Discover(ctx).run("selfsigned")
    # the self-signed certificate made for the test lasts one day: its expiry is read and shown,
    # and nothing is fetched over a connection whose certificate the system does not trust
    assert abs(found["cert_expires_at"] - ctx.now() - timedelta(days=1)) < timedelta(minutes=5)
    assert found["capability"] is None
    assert "its TLS certificate is not trusted (self-signed certificate)" in found["discovery_problem"]
