"""The engine client against a loopback engine on this machine: sessions, the header the
engine wants, versions, TLS, and each way a connection fails, said in words."""
from __future__ import annotations

import ssl

import httpx2
import pytest

from core.engines.client import EngineClient, EngineError
from core.engines.loopback import LoopbackEngine, demo_channels


@pytest.fixture
def engine():
    with LoopbackEngine(demo_channels()) as server:
        yield server


def test_signs_in_once_and_sends_the_header_on_every_call(engine):
    with EngineClient(engine.url, "admin", "admin", rate=0) as client:
        assert client.version() == "3.12.0"
        assert len(client.channels()) == 4
        assert client.statuses()["5f1c8a7e-0003-4c2a-9d6e-1a2b3c4d5e03"].state == "PAUSED"
    logins = [p for m, p in engine.requests if p.endswith("/_login")]
    assert logins == ["/api/users/_login"]
    assert client.requests == len(engine.requests)


def test_the_engine_refuses_a_call_without_the_header(engine):
    r = httpx2.get(engine.url + "/api/server/version")
    assert r.status_code == 400 and "X-Requested-With" in r.text


def test_a_wrong_password_is_said_as_such(engine):
    with EngineClient(engine.url, "admin", "nope", rate=0) as client, pytest.raises(EngineError, match="wrong user name or password"):
        client.channels()


def test_an_unsupported_version_is_named(engine):
    engine.version = "3.3.1"
    with EngineClient(engine.url, "admin", "admin", rate=0) as client, pytest.raises(EngineError, match="3.3.1.*not supported"):
        client.version()


@pytest.mark.parametrize("version", ["3.12.0", "4.5.2", "4.6.0"])
def test_mirth_3_and_4_and_the_forks_are_read(engine, version):
    engine.version = version
    with EngineClient(engine.url, "admin", "admin", rate=0) as client:
        assert client.version() == version


def test_no_api_at_that_address_is_said_as_such(engine):
    with EngineClient(engine.url + "/mirth", "admin", "admin", rate=0) as client, pytest.raises(EngineError, match="REST API does not answer"):
        client.sign_in()


def test_nothing_listening_is_said_as_such():
    with EngineClient("http://127.0.0.1:9", "admin", "admin", rate=0) as client, pytest.raises(EngineError, match="refused"):
        client.channels()


def test_an_expired_session_is_renewed_once(engine):
    with EngineClient(engine.url, "admin", "admin", rate=0) as client:
        client.channels()
        engine.fail_next("401")
        assert len(client.channels()) == 4
    assert sum(p.endswith("/_login") for _, p in engine.requests) == 2


def test_a_server_error_and_a_reset_are_errors_in_words(engine):
    with EngineClient(engine.url, "admin", "admin", rate=0) as client:
        client.sign_in()
        engine.fail_next("500")
        with pytest.raises(EngineError, match="HTTP 500: An internal error occurred") as err:
            client.channels()
        assert not err.value.maybe_done  # a read: nothing to be unsure of
        engine.fail_next("reset")
        with pytest.raises(EngineError, match="cannot be reached"):
            client.channels()


def test_a_write_whose_answer_is_lost_may_have_been_done(engine):
    with EngineClient(engine.url, "admin", "admin", rate=0) as client:
        client.sign_in()
        engine.fail_next("reset")
        with pytest.raises(EngineError) as err:
            client.reprocess("5f1c8a7e-0002-4c2a-9d6e-1a2b3c4d5e02", 41, [1])
        assert err.value.maybe_done


def test_a_slow_page_past_the_timeout_is_said(engine):
    engine.slow_s = 1.5
    with EngineClient(engine.url, "admin", "admin", rate=0, timeout=0.5) as client:
        client.sign_in()
        engine.fail_next("slow")
        with pytest.raises(EngineError, match="cannot be reached"):
            client.messages("5f1c8a7e-0002-4c2a-9d6e-1a2b3c4d5e02", 1, 10, limit=10)


def test_tls_is_verified_and_a_ca_file_trusts_the_engine(certificate):
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with LoopbackEngine(demo_channels(), tls=context) as server:
        with EngineClient(server.url, "admin", "admin", rate=0) as client, pytest.raises(EngineError, match="not trusted.*--ca-file"):
            client.sign_in()
        with EngineClient(server.url, "admin", "admin", rate=0, ca_file=cert) as client:
            assert client.version() == "3.12.0"


def test_calls_are_paced(engine):
    import time

    with EngineClient(engine.url, "admin", "admin", rate=20) as client:
        t0 = time.monotonic()
        for _ in range(6):
            client.get("/server/version", xml=False)
        assert time.monotonic() - t0 >= 6 / 20 - 0.01
