"""Every command-line value is checked where it is read: one line, a non-zero exit, never a
traceback, and nothing absurd reaches the store."""
from __future__ import annotations

import pytest

from ui.cli import main as cli
from ui.cli.output import ExitCode

BAD = [
    ["messages", "--since", "1; DROP TABLE messages"], ["messages", "--since", "99999999999d"],
    ["messages", "--until", "tomorrowish"], ["messages", "--limit", "9" * 40], ["messages", "--limit", "-3"],
    ["messages", "--text", "MRN\x001"], ["messages", "--control-id", "x" * 5000], ["flows", "--hours", "nan"],
    ["flows", "--hours", "inf"], ["flows", "--hours", "-1"], ["trace", "0"], ["trace", "abc"],
    ["queue", "--limit", "1e3"], ["listen", "--port", "70000"], ["watch", "x", "--poll", "nan"],
    ["resend", "1", "--timeout", "0"], ["alerts", "add-rule", "silence", "5", "--window", "0"],
    ["ack", "0", "--reason", "duplicate"], ["interface", "set", "-4"], ["demo", "--count", "0"],
]


@pytest.mark.parametrize("argv", BAD, ids=lambda a: " ".join(a)[:40])
def test_bad_values_are_one_line_and_exit_2(argv, tmp_path, capsys):
    code = cli.main(["--db", str(tmp_path / "s.db"), *argv])
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("lanewatch ") and "--help" in err
    assert not (tmp_path / "s.db").exists()  # refused before any store was opened


def test_a_bad_alert_threshold_is_one_line(tmp_path, capsys):
    assert cli.main(["--db", str(tmp_path / "s.db"), "--init", "alerts", "add-rule", "silence", "abc"]) == ExitCode.REFUSED
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'abc' is not a threshold" in err


def test_good_times_read_as_an_operator_writes_them(tmp_path, capsys):
    for since in ("yesterday", "today", "30m", "2h", "7d", "2w", "2026-11-24T09:00", "2026-11-24T09:00+01:00"):
        assert cli.main(["--db", str(tmp_path / "s.db"), "--init", "messages", "--since", since]) == 0
