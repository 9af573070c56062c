"""An IMAP mailbox as a source, against a real IMAP server on loopback (Debian's dovecot):
new messages by UID, read-only, resumable with nothing twice; a new UIDVALIDITY starts a new
source; a wrong password, a missing folder and a dead server said in words; the password
only in the keyring; the same verbs headless."""
from __future__ import annotations

import io
from datetime import datetime, timedelta

from core import secrets
from core.commands.context import CommandError, Context
from core.commands.mailboxes import ConfigureMailbox, ReadMailboxes
from core.store import direct, mailboxes, messages
from core.vocabulary import Disposition
from tests.helpers.cli import run
from tests.helpers.direct import mdn, message
from tests.helpers.dovecot import PASSWORD, USER

T0 = datetime(2026, 12, 1, 9, 0)
SENDER, CARD = "referrals@direct.northside-fm.example", "intake@direct.heartcare-cardiology.example"


def _add(ctx, dovecot, folder="INBOX", **kw):
    return ConfigureMailbox(ctx).run("edge", password=PASSWORD, host="127.0.0.1", port=dovecot.port, security="none",
                                     username=USER, folder=folder, **kw)


def test_a_mailbox_is_read_by_uid_resumably_and_nothing_twice(store, dovecot):
    ctx = Context(store, actor="tester", now=lambda: T0 + timedelta(minutes=10))
    dovecot.append(message("r1@nfm", SENDER, [CARD], T0), message("r2@nfm", SENDER, [CARD], T0))
    _add(ctx, dovecot)
    [first] = ReadMailboxes(ctx).run()
    assert (first.stored, first.problem) == (2, None)
    dovecot.append(mdn("m1@card", "r1@nfm", CARD, SENDER, T0 + timedelta(minutes=2)))
    [again] = ReadMailboxes(ctx).run()
    [still] = ReadMailboxes(ctx).run()
    assert (again.stored, still.stored) == (1, 0)
    assert sorted(d["state"] for d in direct.deliveries(store)) == [Disposition.PROCESSED, Disposition.SENT]
    rows = messages.page(store, messages.MessageFilter(), limit=10)
    assert {r["transport"] for r in rows} == {"imap"} and len(rows) == 3


def test_a_renumbered_folder_is_read_again_as_a_new_source(store, dovecot):
    ctx = Context(store, actor="tester", now=lambda: T0)
    dovecot.make("Direct")
    dovecot.append(message("r3@nfm", SENDER, [CARD], T0), folder="Direct")
    _add(ctx, dovecot, folder="Direct")
    assert ReadMailboxes(ctx).run()[0].stored == 1
    dovecot.remake("Direct")
    dovecot.append(message("r4@nfm", SENDER, [CARD], T0), folder="Direct")
    assert ReadMailboxes(ctx).run()[0].stored == 1  # its UID 1 again, in a new source: not mistaken for r3


def test_problems_are_said_in_words_and_nothing_is_saved(store, dovecot):
    ctx = Context(store, actor="tester")
    try:
        ConfigureMailbox(ctx).run("edge", password="wrong", host="127.0.0.1", port=dovecot.port, security="none",
                                  username=USER)
    except CommandError as exc:
        assert "refused the sign-in as edge@direct.northside-fm.example" in str(exc)
    else:
        raise AssertionError("a wrong password was accepted")
    try:
        _add(ctx, dovecot, folder="Nowhere")
    except CommandError as exc:
        assert "there is no folder 'Nowhere'" in str(exc)
    assert mailboxes.every(store) == [] and secrets.get("mailbox:edge", "mailbox_password") is None
    _add(ctx, dovecot)
    box = mailboxes.get(store, "edge")
    with store.begin() as conn:
        mailboxes.change(conn, box["id"], port=1)  # nothing listens there
    [dead] = ReadMailboxes(ctx).run()
    assert "cannot be reached" in dead.problem and "cannot be reached" in mailboxes.get(store, "edge")["problem"]


def test_the_mailbox_verbs_headless(store, store_url, dovecot, capsys, monkeypatch):
    dovecot.append(message("r5@nfm", SENDER, [CARD], T0))
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code, out, err = run(capsys, store_url, "mailbox", "add", "edge", "127.0.0.1", "--port", str(dovecot.port),
                         "--security", "none", "--user", USER, "--password-stdin")
    assert code == 0 and "its password is in the OS keyring" in out and PASSWORD not in out + err
    code, out, _ = run(capsys, store_url, "mailbox", "poll")
    assert code == 0 and out == "edge: 1 new message, 0 queue items raised\n"
    code, _, err = run(capsys, store_url, "mailbox", "poll", "nobox")
    assert code == 1 and "There is no mailbox called 'nobox'" in err
    code, out, _ = run(capsys, store_url, "mailbox", "remove", "edge")
    assert code == 0 and secrets.get("mailbox:edge", "mailbox_password") is None
