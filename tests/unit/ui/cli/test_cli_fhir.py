"""Headless FHIR verbs against a FHIR server and token endpoint on loopback."""
from __future__ import annotations

import csv
import io
import json
import time

from core import secrets
from core.fhir.loopback import LoopbackFhirServer, key_pair
from core.store import audit
from core.store.db import open_store
from tests.helpers.cli import run
from ui.cli import main as cli
from ui.cli.output import ExitCode


def test_add_discover_probe_and_inventory(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    private, public = key_pair()
    key_file = tmp_path / "key.pem"
    key_file.write_text(private)
    with LoopbackFhirServer(public_key_pem=public, grant="system/Patient.rs") as server:
        code, out, err = run(capsys, url, "endpoint", "add", "loop", server.base_url, "--auth", "backend",
                             "--client-id", "lanewatch", "--kid", "k1", "--audience", "backend", "--key-file", str(key_file),
                             "--scope", "system/Patient.rs system/Observation.rs system/*.write", "--needs", "system/Patient.rs")
        assert code == 0, err
        assert "FHIR 4.0.1 (CapabilityStatement), software Loopback FHIR 1.0" in out
        assert "scopes advertised: 5" in out and f"token endpoint: {server.token_url}" in out
        assert secrets.get("fhir:loop", "private_key") == private
        code, out, _ = run(capsys, url, "endpoint", "probe", "--json")
        result = json.loads(out)
        assert code == 0 and result["status"] == "ok" and [s["step"] for s in result["steps"]] == ["metadata", "token", "read"]
        code, out, _ = run(capsys, url, "scopes", "loop", "--json")
        inventory = json.loads(out)
        codes = {f["code"] for f in inventory["flags"]}
        assert {"silently_narrowed", "wildcard", "clinical_write"} <= codes  # granted only Patient: narrowed
        code, out, _ = run(capsys, url, "scopes", "loop", "--csv", "--writes")
        rows = list(csv.DictReader(io.StringIO(out)))
        assert rows and all(r["write"] == "yes" for r in rows)
        code, out, _ = run(capsys, url, "scopes", "loop", "--html", "-o", str(tmp_path / "review.html"))
        page = (tmp_path / "review.html").read_text()
        assert page.startswith("<!doctype html>") and "<script" not in page and "system/*.write" in page
        server.fail = [(503, {"Retry-After": "300"}, None)]
        code, out, _ = run(capsys, url, "endpoint", "probe")
        assert code == ExitCode.ATTENTION and "loop: down" in out and "HTTP 503: the server is unavailable" in out
    store = open_store(url)
    [entry] = audit.page(store, action="configure_endpoint")
    store.close()
    assert "PRIVATE KEY" not in json.dumps(entry, default=str) and entry["after"]["secret"] == "private_key stored in the OS keyring"


def test_refusals_are_one_line(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    code, _, err = run(capsys, url, "endpoint", "add", "x", "ftp://nowhere", "--no-discover")
    assert code == 1 and "must start with https://" in err
    code, _, err = run(capsys, url, "endpoint", "add", "x", "https://h/fhir", "--auth", "backend", "--no-discover")
    assert code == 1 and "needs a client ID" in err
    code, _, err = run(capsys, url, "scopes", "nothing")
    assert code == 1 and "No endpoint called 'nothing'" in err
    assert cli.main(["--db", url, "endpoint", "list"]) == 0


def test_bulk_export_headless(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr("core.fhir.bulk.time.sleep", lambda s: None)
    url = f"sqlite:///{tmp_path / 's.db'}"
    private, public = key_pair()
    key_file = tmp_path / "key.pem"
    key_file.write_text(private)
    with LoopbackFhirServer(public_key_pem=public) as server:
        server.files = {"Patient.000.ndjson": '{"resourceType":"Patient"}\n{"resourceType":"Patient"}\n',
                        "errors.ndjson": json.dumps({"resourceType": "OperationOutcome", "issue": [
                            {"severity": "error", "code": "processing", "diagnostics": "Observation 12 could not be read"}]})}
        run(capsys, url, "endpoint", "add", "loop", server.base_url, "--auth", "backend", "--client-id", "lanewatch",
            "--key-file", str(key_file), "--scope", "system/*.rs", "--no-discover")
        run(capsys, url, "endpoint", "set", "loop", "--token-url", server.token_url)
        code, out, err = run(capsys, url, "bulk", "loop", "--type", "Patient")
    assert code == ExitCode.ATTENTION and out.split()[:2] == ["Patient", "2"]
    assert "in progress: 1 of 3 types" in err and "1 error put in the queue" in err
    code, out, _ = run(capsys, url, "queue", "--kind", "fhir_bulk_error", "--json")
    assert "Observation 12 could not be read" in json.loads(out)["reason"]


def test_an_endpoint_is_removed_with_its_secrets_and_audited(capsys, tmp_path, monkeypatch):
    import io

    from core import secrets

    url = f"sqlite:///{tmp_path / 's.db'}"
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-abcdef\n"))
    code, _, _ = run(capsys, url, "endpoint", "add", "lab", "https://lab.example/fhir", "--auth", "client_secret_basic",
                     "--client-id", "lw", "--secret-stdin", "--no-discover")
    assert code == 0 and secrets.get("fhir:lab", "client_secret")
    code, out, _ = run(capsys, url, "endpoint", "remove", "lab")
    assert code == 0 and "removed" in out and secrets.get("fhir:lab", "client_secret") is None
    code, out, _ = run(capsys, url, "endpoint", "list", "--json")
    assert "lab" not in out
    code, out, _ = run(capsys, url, "audit", "list")
    assert "remove_endpoint" in out and "s3cret" not in out
    code, _, err = run(capsys, url, "endpoint", "remove", "lab")
    assert code == 1 and "no endpoint called 'lab'" in err


def test_the_recording_tap_headless(capsys, tmp_path):
    import os
    import re
    import signal
    import subprocess
    import sys

    import httpx2

    from tests.helpers.har import jwt

    url = f"sqlite:///{tmp_path / 's.db'}"
    with LoopbackFhirServer() as server:
        run(capsys, url, "endpoint", "add", "loop", server.base_url, "--no-discover")
        run(capsys, url, "endpoint", "set", "loop", "--writes", "on", "--contracted", "Observation.create")
        token = jwt({"scope": "patient/Observation.write", "client_id": "vitals-app"})
        server.tokens[token] = time.time() + 300
        env = dict(os.environ, LANEWATCH_DB=url, XDG_DATA_HOME=str(tmp_path / "data"))
        proc = subprocess.Popen([sys.executable, "-m", "ui.cli.main", "fhir-tap", "--endpoint", "loop"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            first = proc.stderr.readline()
            base = re.search(r"at (http://127\.0\.0\.1:\d+)", first).group(1)
            with httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as app:
                assert app.post("/Observation", json={"resourceType": "Observation", "status": "final"}).status_code == 201
                server.fail = [(0, {}, None)]
                assert app.post("/Observation", json={"resourceType": "Observation"}).status_code == 502
            time.sleep(1.5)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "2 exchanges (2 writes, 1 unanswered by the endpoint)" in err
    assert "stopped: 2 exchanges stored" in err
    code, out, _ = run(capsys, url, "fhir-writes", "--endpoint", "loop")
    assert code == ExitCode.ATTENTION and "201" in out and "no response: could not reach" in out


def test_the_recording_tap_refuses_what_it_cannot_do(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    run(capsys, url, "endpoint", "add", "ehr", "https://ehr.example.test/fhir", "--no-discover")
    for args, said in ((["--endpoint", "nope"], "No endpoint called 'nope'"),
                       (["--endpoint", "ehr", "--host", "0.0.0.0"], "loopback only")):
        code, out, err = run(capsys, url, "fhir-tap", *args)
        assert code == 1 and said in err and len(err.strip().splitlines()) == 1
