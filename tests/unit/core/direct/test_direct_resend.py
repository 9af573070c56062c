"""Resending a Direct message to its HISP's SMTP submission server (aiosmtpd on loopback,
STARTTLS verified, sign-in required) is a write like MLLP resend: gated by the mailbox's
switch, confirmed in words, recorded before it leaves, audited, only to the recipients that
have not processed it, and never repeated silently after an unknown outcome."""
from __future__ import annotations

from datetime import datetime, timedelta

from core import labels
from core.commands.context import Context
from core.commands.mailboxes import ConfigureMailbox
from core.commands.resend import Resend
from core.ingest import Ingestor
from core.store import attempts, audit, direct, messages, queue
from core.store.db import Store
from core.vocabulary import AttemptState, AuditAction, Disposition, QueueKind, TriageState
from tests.helpers.direct import dsn, mdn, message
from tests.helpers.smtp import PASSWORD, USER

T0 = datetime(2026, 12, 1, 9, 0)
CARD, ORTHO = "intake@direct.cardiology.example", "frontdesk@direct.ortho.example"


def undelivered(store: Store, tmp_path) -> dict:
    """A referral to two recipients: one processed it, the other's HISP sent a DSN."""
    files = {"ref.eml": message("r1@ourclinic", USER, [CARD, ORTHO], T0),
             "mdn.eml": mdn("m1@card", "r1@ourclinic", CARD, USER, T0 + timedelta(minutes=1)),
             "dsn.eml": dsn("d1@hisp", "r1@ourclinic", ORTHO, USER, T0 + timedelta(minutes=1))}
    for name, raw in files.items():
        (tmp_path / name).write_bytes(raw)
    Ingestor(store, now=lambda: T0 + timedelta(minutes=2)).ingest_paths([tmp_path / n for n in files])
    [item] = queue.items(store, kinds=[QueueKind.DIRECT_UNDELIVERED])
    return item


def ack_column(store: Store, item: dict) -> str:
    with store.read() as conn:
        return labels.ack(messages.row(conn, item["message_id"], "is_ack", "message_type", "ack_state", "ack_code")._asdict())


def mailbox(ctx: Context, server, **changes) -> None:
    settings = dict(host="imap.hisp.example", username=USER, smtp_host="localhost", smtp_port=server.port,
                    smtp_security="starttls", ca_file=server.ca_file, writes_enabled=False)
    ConfigureMailbox(ctx).run("edge", password=PASSWORD, check=False, **{**settings, **changes})


def test_a_direct_message_goes_again_only_where_it_was_not_processed(store, tmp_path, smtp_server):
    item = undelivered(store, tmp_path)
    ctx = Context(store, actor="tester", now=lambda: T0 + timedelta(minutes=30))
    assert ack_column(store, item) == "Not delivered (DSN)"  # the worst recipient speaks for the message
    resend = Resend(ctx, ack_timeout=10)
    [(_, why)] = resend.plan({item["id"]: None}).refused
    assert why.startswith("no mailbox submits mail for referrals@direct.ourclinic.example")
    mailbox(ctx, smtp_server)
    [(_, why)] = resend.plan({item["id"]: None}).refused
    assert why == "writes are not enabled for mailbox edge: `lanewatch mailbox set edge --writes on`"

    mailbox(ctx, smtp_server, writes_enabled=True)
    plan = resend.plan({item["id"]: None})
    assert plan.refused == [] and [t.submission.recipients for t in plan.targets] == [[ORTHO]]
    words = plan.confirmation()
    assert f"to localhost:{smtp_server.port} by SMTP submission of mailbox edge (STARTTLS, the server verified " \
           f"against {smtp_server.ca_file})" in words
    assert "write class: clinical" in words and f"Only to the recipients that have not processed it: {ORTHO}." in words

    [outcome] = resend.run(plan)
    assert (outcome.state, outcome.detail) == (AttemptState.ACCEPTED, "the HISP accepted it (250 2.0.0 Ok: queued as 4F2A1)")
    [(sender, rcpts, got)] = smtp_server.hisp.received
    stored = message("r1@ourclinic", USER, [CARD, ORTHO], T0)
    assert (sender, rcpts, got) == (USER, [ORTHO], stored)  # the bytes as they came, CRLF already
    with store.read() as conn:
        assert attempts.last(conn, item["message_id"]).state == AttemptState.ACCEPTED
    states = {d["recipient"]: (d["state"], d["sent_at"]) for d in direct.deliveries(store)}
    assert states == {CARD: (Disposition.PROCESSED, T0), ORTHO: (Disposition.SENT, T0 + timedelta(minutes=30))}
    assert ack_column(store, item) == "Awaiting MDN"
    [settled] = [i for i in queue.items(store) if i["id"] == item["id"]]
    assert settled["triage_state"] == TriageState.RESENT
    sent = audit.page(store, action=AuditAction.RESEND)
    assert sent[0]["before"]["recipients"] == [ORTHO] and sent[0]["actor"] == "tester"


def test_after_an_unknown_outcome_nothing_goes_until_the_person_says_so(store, tmp_path, smtp_server):
    item = undelivered(store, tmp_path)
    ctx = Context(store, actor="tester", now=lambda: T0 + timedelta(minutes=30))
    mailbox(ctx, smtp_server, writes_enabled=True)
    smtp_server.hisp.silent_for = 3
    [outcome] = Resend(ctx, ack_timeout=1).run(Resend(ctx).plan({item["id"]: None}))
    assert outcome.state == AttemptState.UNKNOWN and "whether the HISP has it is unknown" in outcome.detail
    plan = Resend(ctx).plan({item["id"]: None})
    assert plan.targets == [] and "outcome is unknown" in plan.refused[0][1] and plan.held == {"after_unknown"}
    smtp_server.hisp.silent_for = 0
    plan = Resend(ctx).plan({item["id"]: None}, after_unknown=True)
    assert [o.state for o in Resend(ctx).run(plan)] == [AttemptState.ACCEPTED]
    assert len(smtp_server.hisp.received) == 2


def test_what_the_hisp_refuses_before_the_message_goes_says_nothing_was_sent(store, tmp_path, smtp_server):
    item = undelivered(store, tmp_path)
    ctx = Context(store, actor="tester", now=lambda: T0 + timedelta(minutes=30))
    mailbox(ctx, smtp_server, writes_enabled=True)
    smtp_server.hisp.refuse = {ORTHO}
    [outcome] = Resend(ctx).run(Resend(ctx).plan({item["id"]: None}))
    assert outcome.state == AttemptState.REJECTED and outcome.detail == (
        f"the HISP refused the recipient {ORTHO}: 550 5.1.1 <{ORTHO}>: Recipient address rejected: User unknown; "
        "nothing was sent")
    assert queue.items(store, kinds=[QueueKind.FAILED_RESEND])[0]["reason"].startswith("Resend to localhost")
    mailbox(ctx, smtp_server, ca_file="", writes_enabled=True)  # the system's certificates do not know the HISP's
    smtp_server.hisp.refuse = set()
    [outcome] = Resend(ctx).run(Resend(ctx).plan({item["id"]: None}))
    assert outcome.state == AttemptState.FAILED and "CERTIFICATE_VERIFY_FAILED" in outcome.detail
    assert smtp_server.hisp.received == []
