"""Headless engine verbs against a loopback engine: add (the password from stdin, tried
first), poll, channels, search by engine keys, reprocess; bad input in one line."""
from __future__ import annotations

import io
import json
import logging

import pytest

from core import secrets
from core.engines.loopback import LoopbackEngine, demo_channels
from tests.helpers.cli import run
from tests.helpers.engines import PASSWORD
from ui.cli.output import ExitCode


@pytest.fixture
def server():
    with LoopbackEngine(demo_channels(), password=PASSWORD) as s:
        yield s


def add(capsys, monkeypatch, url, server, password=PASSWORD, *extra):
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return run(capsys, url, "engine", "add", "mirth", server.url, "--user", "admin", "--password-stdin", "--rate", "0", *extra)


def test_add_poll_search_and_reprocess(capsys, monkeypatch, tmp_path, server):
    url = f"sqlite:///{tmp_path / 's.db'}"
    code, out, err = add(capsys, monkeypatch, url, server, "wrong")
    assert code == ExitCode.REFUSED and err.count("\n") == 1
    assert "Nothing was saved: the engine refused the sign-in as admin: wrong user name or password" in err
    code, out, err = add(capsys, monkeypatch, url, server)
    assert code == ExitCode.OK, err
    assert "version 3.12.0" in out and secrets.get("engine:mirth", "engine_password") == PASSWORD
    code, out, err = run(capsys, url, "engine", "poll")
    assert code == ExitCode.OK, err
    assert "2,515 contents stored from 4 channels" in out and "ECW lab orders to Quest: 300 new, read to 300 of 300" in out
    code, out, _ = run(capsys, url, "engine", "channels", "--json")
    channels = {c["name"]: c for c in map(json.loads, out.splitlines())}
    assert channels["Immunizations to state IIS"]["state"] == "PAUSED" and channels["ECW lab orders to Quest"]["errored"] == 19
    code, out, _ = run(capsys, url, "messages", "--channel", "ECW lab orders to Quest", "--engine-message", "41", "--json")
    found = [json.loads(line) for line in out.splitlines()]
    assert [m["control_id"] for m in found] == ["ORD00000041", "ORD00000041"]  # received, and sent on
    code, out, _ = run(capsys, url, "queue", "--kind", "engine_error", "--json")
    item = json.loads(out.splitlines()[0])
    code, out, err = run(capsys, url, "reprocess", str(item["id"]), "--yes")
    assert code == ExitCode.REFUSED and "writes are not enabled for engine mirth" in out
    code, out, err = run(capsys, url, "engine", "set", "mirth", "--writes", "on")
    assert code == ExitCode.OK and "writes ON" in out
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, out, err = run(capsys, url, "reprocess", str(item["id"]))
    assert code == ExitCode.REFUSED and "confirm with --yes" in err and not server.channels[item_channel(server)].reprocessed
    code, out, err = run(capsys, url, "reprocess", str(item["id"]), "--yes")
    assert code == ExitCode.OK, out + err
    assert "Reprocess 1 message through engine mirth, channel ECW lab orders to Quest, to Quest LLP." in out
    assert ": accepted: the engine reprocesses message" in out


def item_channel(server) -> str:
    return "5f1c8a7e-0002-4c2a-9d6e-1a2b3c4d5e02"


@pytest.mark.parametrize("args, words", [
    (["engine", "add", "mirth"], "lanewatch engine add NAME URL"),
    (["engine", "add", "mirth", "ftp://x", "--user", "a", "--password-stdin"], "https://HOST:PORT"),
    (["engine", "add", "mirth", "https://u:p@host:8443", "--user", "a", "--password-stdin"], "holds a user name or password"),
    (["engine", "poll", "nosuch"], "No engine called 'nosuch'"),
    (["engine", "set", "nosuch", "--writes", "on"], "No engine called 'nosuch'"),
    (["engine", "add", "m", "https://h", "--user", "a", "--rate", "500"], "argument --rate"),
])
def test_bad_input_is_one_line(capsys, monkeypatch, tmp_path, args, words):
    monkeypatch.setattr("sys.stdin", io.StringIO("pw\n"))
    code, out, err = run(capsys, f"sqlite:///{tmp_path / 's.db'}", "--init", *args)
    assert code in (ExitCode.REFUSED, ExitCode.USAGE) and words in err and "Traceback" not in err


def test_a_dead_engine_is_one_line_and_the_poll_says_so(capsys, monkeypatch, tmp_path, server):
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert add(capsys, monkeypatch, url, server)[0] == ExitCode.OK
    server.stop()
    code, out, err = run(capsys, url, "engine", "poll")
    assert code == ExitCode.ATTENTION and "mirth: the engine at" in err and "cannot be reached" in err
    assert "Traceback" not in err


def test_no_password_or_session_reaches_the_log(capsys, monkeypatch, tmp_path, server):
    from core import logs

    path = logs.start(tmp_path / "logs", level=logging.DEBUG)
    try:
        url = f"sqlite:///{tmp_path / 's.db'}"
        assert add(capsys, monkeypatch, url, server)[0] == ExitCode.OK
        run(capsys, url, "engine", "poll")
    finally:
        for h in list(logging.getLogger().handlers):
            if getattr(h, "baseFilename", None) == str(path):
                h.close()
                logging.getLogger().removeHandler(h)
    text = path.read_text() if path.exists() else ""
    assert PASSWORD not in text and not any(s in text for s in server.sessions)
