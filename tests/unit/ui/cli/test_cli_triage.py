"""The headless triage verbs, as a script would call them."""
from __future__ import annotations

import json

from sqlalchemy import update

from core.store.models import AuditEntry
from tests.helpers.cli import run
from tests.helpers.stores import demo_store
from ui.cli.output import ExitCode


def test_ack_correct_and_audit_verify(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    demo_store(url, tmp_path, 20_000).close()
    code, out, _ = run(capsys, url, "queue", "--groups", "--json")
    groups = [json.loads(line) for line in out.splitlines()]
    missing = next(g for g in groups if g["kind"] == "missing_ack")
    code, out, _ = run(capsys, url, "ack", "--group", missing["signature"], "--reason", "resolved_upstream", "--note", "vendor")
    assert code == 0 and out == f"acknowledged {missing['items']:,} items\n"
    code, out, _ = run(capsys, url, "queue", "--kind", "invalid", "--state", "open", "--json")
    invalid = next(json.loads(line) for line in out.splitlines() if "PID-3" in json.loads(line)["reason"])
    code, out, err = run(capsys, url, "correct", str(invalid["message_id"]), "--set", "PID-3.1=MRN9", "--dry-run")
    assert code == 0 and "+PID|1||MRN9|" in out and "saved" not in out
    code, out, _ = run(capsys, url, "correct", str(invalid["message_id"]), "--set", "PID-3.1=MRN9")
    assert code == 0 and "saved as message" in out
    code, out, err = run(capsys, url, "correct", str(invalid["message_id"]), "--set", "PID3=x")
    assert code == 1 and "not a field path" in err
    code, out, _ = run(capsys, url, "audit", "verify")
    n = missing['items'] + 1
    assert code == 0 and out.startswith(f"audit chain intact: {n} entries, every one linked, {n} signed\n  key ")
    from core.store.db import open_store

    store = open_store(url)
    with store.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(actor="someone else"))
    store.close()
    code, out, _ = run(capsys, url, "audit", "verify")
    assert code == ExitCode.ATTENTION and out.startswith("audit chain broken at entry 2")
    code, out, _ = run(capsys, url, "audit", "list", "--json", "--limit", "1")
    assert json.loads(out)["action"] == "correct"


def test_interface_set_with_tls_then_resend_headless(capsys, tmp_path, certificate):
    from core.store.db import open_store
    from tests.helpers.resend import TlsReceiver, setup

    cert, key = certificate
    url = f"sqlite:///{tmp_path / 's.db'}"
    store = open_store(url)
    items, iface = setup(store)
    store.close()
    receiver = TlsReceiver(cert, key)
    try:
        code, out, _ = run(capsys, url, "resend", str(items[0]["id"]), "--yes")
        assert code == 1 and "writes are not enabled" in out
        code, out, _ = run(capsys, url, "interface", "set", str(iface), "--resend-to", "127.0.0.1:1", "--write-class",
                           "clinical", "--writes", "on", "--tls", "on", "--tls-ca", cert)
        assert code == 0 and "over TLS" in out and "writes ON" in out
        code, out, _ = run(capsys, url, "interface", "list")
        assert "127.0.0.1:1 TLS" in out
        code, out, _ = run(capsys, url, "resend", str(items[0]["id"]), "--to", f"127.0.0.1:{receiver.port}", "--yes",
                           "--timeout", "5")
        assert code == 0 and f"to 127.0.0.1:{receiver.port} over TLS" in out and ": accepted:" in out
        code, _, err = run(capsys, url, "resend", str(items[0]["id"]), "--to", "nowhere", "--yes")
        assert code == 1 and "--to wants HOST:PORT" in err
    finally:
        receiver.stop()
