"""Tokens and requests against a FHIR server and token endpoint on loopback (real HTTP)."""
from __future__ import annotations

import httpx2
import pytest

from core import secrets
from core.fhir.auth import AuthError, TokenSource
from core.fhir.client import FhirClient, FhirError
from core.fhir.loopback import LoopbackFhirServer, key_pair


def endpoint(server: LoopbackFhirServer, **kw) -> dict:
    return {"name": "loop", "base_url": server.base_url, "client_id": "lanewatch", "token_url": server.token_url,
            "scopes_requested": "system/Patient.rs", **kw}


@pytest.mark.parametrize(("kind", "alg"), [("RSA", "RS384"), ("EC", "ES384")])
def test_backend_services_assertion_is_accepted_and_the_token_reads(kind, alg):
    private, public = key_pair(kind)
    with LoopbackFhirServer(public_key_pem=public, key_type=kind) as server:
        secrets.put("fhir:loop", "private_key", private)
        with FhirClient(endpoint(server, auth="backend", alg=alg, key_id="k1")) as client:
            assert client.get("Patient?_count=1").status_code == 200
            assert client.tokens.token.scope == "system/Patient.rs"


def test_an_assertion_signed_by_another_key_is_refused_in_words():
    _, public = key_pair()
    other, _ = key_pair()
    with LoopbackFhirServer(public_key_pem=public) as server:
        secrets.put("fhir:loop", "private_key", other)
        with FhirClient(endpoint(server, auth="backend", alg="RS384")) as client, \
                pytest.raises(FhirError, match="the token endpoint refused: invalid_client"):
            client.get("Patient")


def test_an_expired_token_is_renewed_once_on_401():
    private, public = key_pair()
    with LoopbackFhirServer(public_key_pem=public, token_lifetime_s=600) as server:
        secrets.put("fhir:loop", "private_key", private)
        with FhirClient(endpoint(server, auth="backend", alg="RS384")) as client:
            assert client.get("Patient").status_code == 200
            server.tokens.clear()  # the server forgets every token it issued (expiry, revocation)
            assert client.get("Patient").status_code == 200
            assert server.token_requests == 2


def test_a_token_near_its_expiry_is_renewed_before_use():
    private, public = key_pair()
    with LoopbackFhirServer(public_key_pem=public, token_lifetime_s=600) as server:
        secrets.put("fhir:loop", "private_key", private)
        clock = [1000.0]
        source = TokenSource(endpoint(server, auth="backend", alg="RS384"), server.token_url, now=lambda: clock[0])
        first = source.current()
        clock[0] += 590  # within the last 30 s
        assert source.current().access_token != first.access_token


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_client_secret(method):
    with LoopbackFhirServer(client_secret="s3cret") as server:
        secrets.put("fhir:loop", "client_secret", "s3cret")
        with FhirClient(endpoint(server, auth=method)) as client:
            assert client.get("Patient").status_code == 200
        secrets.put("fhir:loop", "client_secret", "wrong")
        with FhirClient(endpoint(server, auth=method)) as client, pytest.raises(FhirError) as caught:
            client.get("Patient")
        assert "invalid_client" in str(caught.value) and "wrong" not in str(caught.value)


def test_standalone_launch_with_pkce_and_a_loopback_redirect_then_refresh():
    with LoopbackFhirServer() as server:
        opened = []

        def browser(url: str) -> None:  # the system browser: follows the server's redirect to our loopback port
            opened.append(url)
            httpx2.get(url, follow_redirects=True)

        e = endpoint(server, auth="standalone", scopes_requested="launch/patient patient/Observation.rs offline_access",
                     smart_config=server.smart)
        with FhirClient(e, authorize=browser) as client:
            assert client.get("Patient").status_code == 200
            assert "code_challenge_method=S256" in opened[0] and "redirect_uri=http%3A%2F%2F127.0.0.1" in opened[0]
            assert secrets.get("fhir:loop", "refresh_token")
            client.tokens.expire()
            assert client.get("Patient").status_code == 200
        assert len(opened) == 1  # the refresh token renewed it, no second sign-in
        assert server.token_requests == 2


def test_429_waits_as_retry_after_asks_and_a_long_wait_is_reported():
    with LoopbackFhirServer() as server:
        slept = []
        with FhirClient(endpoint(server, auth="none"), sleep=slept.append) as client:
            server.fail = [(429, {"Retry-After": "2"}, None)]
            assert client.get("metadata").status_code == 200 and slept == [2.0]
            server.fail = [(429, {"Retry-After": "120"}, None)]
            with pytest.raises(FhirError, match=r"HTTP 429: rate limited.*wait 120 s"):
                client.json("metadata")


def test_5xx_with_an_operation_outcome_reads_as_words():
    with LoopbackFhirServer() as server, FhirClient(endpoint(server, auth="none")) as client:
        server.fail = [(500, {}, {"resourceType": "OperationOutcome", "issue": [
            {"severity": "fatal", "code": "exception", "details": {"text": "Database\n  unavailable"}, "expression": ["Patient"]}]})]
        with pytest.raises(FhirError, match=r"HTTP 500: the server failed .*fatal \(exception\): Database unavailable at Patient"):
            client.json("metadata")


def test_a_slow_server_times_out_in_words():
    with LoopbackFhirServer() as server, FhirClient(endpoint(server, auth="none"), timeout=0.3) as client:
        server.delay_s = 1.0
        with pytest.raises(FhirError, match="no answer from .* within 0 s|no answer from"):
            client.get("metadata")


def test_a_missing_secret_says_so():
    with LoopbackFhirServer() as server, FhirClient(endpoint(server, auth="bearer")) as client:
        with pytest.raises(FhirError, match="no bearer token is stored"):
            client.get("Patient")
    with pytest.raises(AuthError, match="RS384 or ES384"):
        from core.fhir.auth import SmartJwtAssertion
        SmartJwtAssertion("http://x/token", "key", "HS256", None)


def test_an_app_the_practice_has_not_activated_is_explained():
    private, public = key_pair()
    with LoopbackFhirServer(public_key_pem=public) as server:
        server.refusal = "FHIR App Authentication is not enabled."  # eClinicalWorks's words for it
        secrets.put("fhir:loop", "private_key", private)
        with FhirClient(endpoint(server, auth="backend", alg="RS384")) as client, \
                pytest.raises(FhirError, match="the practice has not activated this app for FHIR yet") as caught:
            client.get("Patient")
    assert "FHIR App Authentication is not enabled" in str(caught.value)
