"""Saved views (issue 19): a named filter shared through the store, with owner and time;
saving, replacing and deleting audited; exported and imported as a file; used headless by
`messages --view` and `stats --view`, the options given too taking its place."""
from __future__ import annotations

import json

import pytest

from core.commands.context import CommandError, Context
from core.commands.views import DeleteView, SaveView
from core.store import audit, views
from core.vocabulary import AuditAction
from tests.helpers.cli import run


def test_saved_replaced_and_deleted_with_the_audit_saying_what_it_was(store):
    ctx = Context(store, actor="ana")
    saved = SaveView(ctx).run(" High results ", {"type": ["ORU"], "where": "OBX[*]-8 in ('H','HH')", "since": "24h",
                                                  "text": "", "columns": ["Time", "Patient"]})
    assert saved == {"name": "High results", "owner": "ana", "replaced": False,
                     "definition": {"type": ["ORU"], "where": "OBX[*]-8 in ('H','HH')", "since": "24h",
                                    "columns": ["Time", "Patient"]}}
    assert SaveView(Context(store, actor="bo")).run("High results", {"type": ["ORU"]})["replaced"]
    [v] = views.every(store)
    assert v["owner"] == "bo" and v["definition"] == {"type": ["ORU"]} and v["created_at"] <= v["updated_at"]
    DeleteView(ctx).run("High results")
    assert views.every(store) == []
    entries = [e for e in audit.page(store, limit=10) if e["action"] in (AuditAction.SAVE_VIEW, AuditAction.DELETE_VIEW)]
    deleted, replaced, first = entries
    assert first["before"] is None and first["after"]["where"] == "OBX[*]-8 in ('H','HH')"
    assert replaced["actor"] == "bo" and replaced["before"]["since"] == "24h" and replaced["after"] == {"name": "High results", "type": ["ORU"]}
    assert deleted["action"] == AuditAction.DELETE_VIEW and deleted["before"]["owner"] == "bo"


@pytest.mark.parametrize(("name", "definition", "says"), [
    ("", {}, "1 to 100 characters"),
    ("x" * 101, {}, "1 to 100 characters"),
    ("v", {"colour": "red"}, "does not keep colour"),
    ("v", {"where": "PID-3 ="}, "does not parse: the query ends too soon"),
    ("v", {"type": "ORU"}, "type is a list of words"),
    ("v", {"sort": "sideways"}, "newest first or oldest first"),
    ("v", {"since": "tomorrowish"}, "since: 'tomorrowish' is not a time"),  # an imported file is checked as the command line is
])
def test_a_view_that_cannot_be_right_is_refused_in_words(store, name, definition, says):
    with pytest.raises(CommandError, match=says):
        SaveView(Context(store)).run(name, definition)
    assert views.every(store) == []
    with pytest.raises(CommandError, match="no view called"):
        DeleteView(Context(store)).run("nothing")


def test_views_headless_with_messages_and_stats(store_url, tmp_path, capsys):
    from core.demo import write_logs

    write_logs(tmp_path / "logs", 2000, seed=6)
    run(capsys, store_url, "ingest", str(tmp_path / "logs"))
    code, out, _ = run(capsys, store_url, "view", "save", "highs", "--type", "ORU", "--where", "OBX[*]-8 in ('H','HH')")
    assert code == 0 and "view highs: saved (type ORU; where OBX[*]-8 in ('H','HH'))" in out
    _, out, _ = run(capsys, store_url, "messages", "--view", "highs", "--json")
    highs = [json.loads(line) for line in out.splitlines()]
    _, out, _ = run(capsys, store_url, "messages", "--where", "OBX[*]-8 in ('H','HH')", "--type", "ORU", "--json")
    assert highs and highs == [json.loads(line) for line in out.splitlines()]
    _, out, _ = run(capsys, store_url, "messages", "--view", "highs", "--type", "ADT", "--json")  # the option wins
    assert out == ""
    code, out, _ = run(capsys, store_url, "stats", "MSH-9.1", "--view", "highs", "--json")
    assert code == 0 and json.loads(out)["messages"] == len(highs)
    code, _, err = run(capsys, store_url, "view", "export", "highs", "-o", str(tmp_path / "highs.json"))
    assert code == 0 and "written to" in err
    run(capsys, store_url, "view", "delete", "highs")
    code, out, _ = run(capsys, store_url, "view", "import", str(tmp_path / "highs.json"))
    assert code == 0 and "imported" in out
    code, out, _ = run(capsys, store_url, "view", "list", "--json")
    assert json.loads(out)["definition"] == {"type": ["ORU"], "where": "OBX[*]-8 in ('H','HH')"}
    (tmp_path / "other.json").write_text("{}")
    code, _, err = run(capsys, store_url, "view", "import", str(tmp_path / "other.json"))
    assert code == 1 and "not a Lanewatch view" in err
    code, _, err = run(capsys, store_url, "messages", "--view", "gone")
    assert code == 1 and "no view called 'gone'" in err
