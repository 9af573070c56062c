"""Secrets: never the in-memory keyring by accident, a missing keyring said in words, echoed
secrets scrubbed from every text, and no credentials in a URL."""
from __future__ import annotations

import io

import keyring
import keyring.errors
import pytest
from keyring.backends import fail

from core import secrets
from core.commands.context import CommandError, Context
from core.commands.endpoints import ConfigureEndpoint, ProbeEndpoints
from core.fhir.loopback import LoopbackFhirServer
from core.store import audit
from ui.cli import main as cli


def test_the_memory_keyring_is_never_chosen_on_its_own():
    assert not secrets.MemoryKeyring.viable
    assert not any(isinstance(k, secrets.MemoryKeyring) for k in keyring.backend.get_all_keyring())


def test_no_keyring_is_a_clear_error_that_names_the_ways_out(tmp_path, capsys, monkeypatch):
    keyring.set_keyring(fail.Keyring())
    with pytest.raises(secrets.SecretStoreError, match="No OS keyring .*keyrings.alt"):
        secrets.put("fhir:x", "client_secret", "s3cr3t-value")
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cr3t-value\n"))
    code = cli.main(["--db", str(tmp_path / "s.db"), "endpoint", "add", "lab", "https://lab.example/fhir",
                     "--auth", "client_secret_basic", "--client-id", "lw", "--secret-stdin", "--no-discover"])
    err = capsys.readouterr()
    assert code == 1 and "No OS keyring" in err.err and "saved" not in err.out and "s3cr3t" not in err.out + err.err


def test_a_token_server_that_echoes_the_request_never_gets_the_secret_shown_or_stored(store):
    ctx = Context(store, actor="alice@ws1")
    secret = "Tr0ub4dor&3-correct-horse"
    with LoopbackFhirServer(client_secret="something else") as server:
        server.echo = True
        ConfigureEndpoint(ctx).run("lab", base_url=server.base_url, auth="client_secret_basic", client_id="lanewatch",
                                   token_url=server.token_url, secret=secret)
        [(_, probe)] = ProbeEndpoints(ctx).run(["lab"])
    shown = " ".join(s.detail or "" for s in probe.steps) + str(probe.__dict__)
    assert probe.status != "ok" and "invalid_client" in shown
    assert secret not in shown and "Tr0ub4dor" not in shown
    stored = str(audit.page(store)) + str([dict(r) for r in _probe_rows(store)])
    assert secret not in stored and "Tr0ub4dor" not in stored


def _probe_rows(store):
    from sqlalchemy import select

    from core.store.models import FhirEndpoint, FhirProbe

    with store.read() as conn:
        return [r._mapping for t in (FhirProbe.__table__, FhirEndpoint.__table__) for r in conn.execute(select(t))]


def test_credentials_in_a_url_are_refused_and_kept_nowhere(store):
    ctx = Context(store)
    for url in ("https://lw:hunter22@ehr.example/fhir", "https://token@ehr.example/fhir"):
        with pytest.raises(CommandError, match="holds a user name or password; nothing was saved"):
            ConfigureEndpoint(ctx).run("ehr", base_url=url)
    with pytest.raises(CommandError, match="token url holds"):
        ConfigureEndpoint(ctx).run("ehr", base_url="https://ehr.example/fhir", token_url="https://a:b@ehr.example/t")
    assert "hunter22" not in str(audit.page(store))


def test_scrub_finds_the_forms_a_server_echoes():
    secrets.put("fhir:y", "client_secret", "p@ss w0rd/x")
    import base64

    basic = base64.b64encode(b"lanewatch:p@ss w0rd/x").decode()
    text = f"got p@ss w0rd/x, p%40ss%20w0rd%2Fx, p%40ss+w0rd%2Fx and Basic {basic}"
    assert "w0rd" not in secrets.scrub(text) and basic not in secrets.scrub(text)


class WindowsLikeKeyring(secrets.MemoryKeyring):
    """Windows Credential Manager's limit: 1,280 characters a credential."""

    def set_password(self, service: str, username: str, password: str) -> None:
        if len(password) > 1280:
            raise keyring.errors.PasswordSetError("The stub received bad data")
        super().set_password(service, username, password)


def test_a_private_key_longer_than_windows_holds_is_kept_in_pieces_and_comes_back_whole():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    ring = WindowsLikeKeyring()
    keyring.set_keyring(ring)
    pem = rsa.generate_private_key(public_exponent=65537, key_size=4096).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    assert len(pem) > 3000
    secrets.put("direct:a@direct.example", "private_key", pem)
    assert secrets.get("direct:a@direct.example", "private_key") == pem
    assert all(len(v) <= secrets.PIECE for v in ring.values.values())
    secrets.put("direct:a@direct.example", "private_key", "short one")  # the pieces of the long one go
    assert list(ring.values.values()) == ["short one"]
    secrets.put("direct:a@direct.example", "private_key", pem)
    del ring.values[("lanewatch", "direct:a@direct.example:private_key#2")]
    with pytest.raises(secrets.SecretStoreError, match="only part of the private key"):
        secrets.get("direct:a@direct.example", "private_key")
    secrets.delete("direct:a@direct.example", "private_key")
    assert ring.values == {}
