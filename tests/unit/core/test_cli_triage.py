"""The headless triage verbs, as a script would call them."""
from __future__ import annotations

import json

from sqlalchemy import update

from core import cli
from core.store.models import AuditEntry
from tests.conftest import demo_store


def run(capsys, url, *args):
    code = cli.main(["--db", url, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_ack_correct_and_audit_verify(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    demo_store(url, tmp_path, 20_000).close()
    code, out, _ = run(capsys, url, "queue", "--groups", "--json")
    groups = [json.loads(line) for line in out.splitlines()]
    missing = next(g for g in groups if g["kind"] == "missing_ack")
    code, out, _ = run(capsys, url, "ack", "--group", missing["signature"], "--reason", "resolved_upstream", "--note", "vendor")
    assert code == 0 and out == f"acknowledged {missing['items']} item(s)\n"
    code, out, _ = run(capsys, url, "queue", "--kind", "invalid", "--state", "open", "--json")
    invalid = next(json.loads(line) for line in out.splitlines() if "PID-3" in json.loads(line)["reason"])
    code, out, err = run(capsys, url, "correct", str(invalid["message_id"]), "--set", "PID-3.1=MRN9", "--dry-run")
    assert code == 0 and "+PID|1||MRN9|" in out and "saved" not in out
    code, out, _ = run(capsys, url, "correct", str(invalid["message_id"]), "--set", "PID-3.1=MRN9")
    assert code == 0 and "saved as message" in out
    code, out, err = run(capsys, url, "correct", str(invalid["message_id"]), "--set", "PID3=x")
    assert code == 1 and "not a field path" in err
    code, out, _ = run(capsys, url, "audit", "verify")
    assert code == 0 and out == f"audit chain intact: {missing['items'] + 1} entries\n"
    from core.store.db import open_store

    store = open_store(url)
    with store.engine.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(actor="someone else"))
    store.close()
    code, out, _ = run(capsys, url, "audit", "verify")
    assert code == 2 and out.startswith("audit chain broken at entry 2")
    code, out, _ = run(capsys, url, "audit", "list", "--json", "--limit", "1")
    assert json.loads(out)["action"] == "correct"
