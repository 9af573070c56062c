"""Reading Direct messages, MDNs and DSNs from the Direct Project's own test messages
(../shared/corpora/direct/nhin-d) as they are, and from any bytes at all."""
from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.direct.files import frame_mail, is_mail
from core.direct.mail import read

NHIN = "direct/nhin-d"
JAVA = f"{NHIN}/java/direct-common/src/test/resources/messages"
GATEWAY = f"{NHIN}/java/gateway/src/test/resources/messages"


def test_every_corpus_file_reads_and_every_mail_is_recognised(corpora):
    files = sorted(p for p in (corpora / NHIN).rglob("*") if p.is_file())
    assert len(files) > 90
    mails = 0
    for path in files:
        raw = path.read_bytes()
        mail = read(raw)  # never raises
        if is_mail(raw[:8192]):
            mails += 1
            assert mail.sender or mail.problems, path.name
    assert mails > 60


def test_a_processed_mdn_names_its_message_and_recipient(corpora):
    mail = read((corpora / JAVA / "MDNMessage.txt").read_bytes())
    assert (mail.kind, mail.in_reply_to, mail.reporter) == (
        "mdn", "<9501051053.aa04167@IETF.CNR I.Reston.VA.US>", "starugh-stateline.com;NHIN Direct Security Agent")
    [n] = mail.notices
    assert (n.recipient, n.disposition, n.final_delivery, mail.problems) == (
        "externuser1@starugh-stateline.com", "processed", False, [])


def test_a_dispatched_mdn_says_final_destination_delivery(corpora):
    [n] = read((corpora / JAVA / "MDNDispatchedTimeAndReliable.txt").read_bytes()).notices
    assert (n.disposition, n.final_delivery) == ("dispatched", True)
    [n] = read((corpora / GATEWAY / "MDNDispatchedMessage.txt").read_bytes()).notices
    assert (n.disposition, n.final_delivery) == ("dispatched", False)


@pytest.mark.parametrize(("name", "problem"), [
    ("MDNMessageNoDisp.txt", "no Disposition"), ("MDNMessageNoFinalRecip.txt", "no Final-Recipient"),
    ("DSNMessageNoActionOrStatus.txt", "no Action for carol@ivory.edu")])
def test_a_malformed_notice_is_read_with_what_is_missing(corpora, name, problem):
    mail = read((corpora / JAVA / name).read_bytes())
    assert mail.is_notice and any(p.startswith(problem) for p in mail.problems)


def test_the_in_reply_to_form_and_a_friendly_name_are_read(corpora):
    assert read((corpora / JAVA / "MDNMessageOrigInReplyTo.txt").read_bytes()).in_reply_to.startswith("<9501051053")
    [n] = read((corpora / JAVA / "MDNMessageFriendlyNameFinalRecip.txt").read_bytes()).notices
    assert n.recipient == "externuser1@starugh-stateline.com"


def test_a_dsn_gives_each_failed_recipient_with_the_servers_words(corpora):
    mail = read((corpora / JAVA / "DSNMessage.txt").read_bytes())
    assert (mail.kind, mail.in_reply_to, mail.reporter) == ("dsn", "<9501051053.aa04167@IETF.CNR I.Reston.VA.US>",
                                                            "dns; Example.ORG")
    [n] = mail.notices
    assert (n.recipient, n.disposition, n.words) == ("carol@ivory.edu", "delivery_failed",
                                                     "status 5.0.0; 550 error - no such recipient")


def test_a_message_gives_its_recipients_attachments_and_whether_it_is_encrypted(corpora):
    mail = read((corpora / GATEWAY / "MultipleRecipientsIncomingMessage.txt").read_bytes())
    assert mail.recipients == ["user1@cerner.com", "gm2552@securehealthemail.com"]
    assert mail.sent_at == datetime(1995, 1, 5, 15, 53, 24) and not mail.encrypted
    encrypted = read((corpora / GATEWAY / "EncryptedMessage.txt").read_bytes())
    assert encrypted.encrypted and encrypted.message_id == "<26083064.0.1274973804464.JavaMail.root@bizet>"
    attached = read((corpora / JAVA / "MessageWithAttachment.txt").read_bytes())
    [a] = attached.attachments
    assert a.size > 0 and a.content_type and "Attachment:" in attached.text


def test_the_dispatched_request_is_read_from_the_senders_options(corpora):
    assert read((corpora / GATEWAY / "PlainUntrustedReliableOutgoingMessage.txt").read_bytes()).asks_dispatched
    assert not read((corpora / GATEWAY / "PlainOutgoingMessage.txt").read_bytes()).asks_dispatched


def test_an_mbox_is_framed_at_its_from_lines_and_the_last_waits_until_final():
    one = b"From: a@x.org\nTo: b@y.org\nMessage-ID: <1@x>\n\nhello\n"
    two = b"From: a@x.org\nTo: c@y.org\nMessage-ID: <2@x>\n\nFrom the start\n"
    box = b"From a@x.org Mon Dec  1 09:00:00 2026\n" + one + b"\nFrom a@x.org Mon Dec  1 09:01:00 2026\n" + two
    pieces, used = frame_mail(box, 100, final=False)
    assert [box[s - 100:e - 100] for s, e in pieces] == [one] and box[used:].startswith(b"From a@x.org Mon")
    pieces, used = frame_mail(box, 100, final=True)
    assert [box[s - 100:e - 100] for s, e in pieces] == [one, two.rstrip(b"\n")] and used == len(box)
    assert is_mail(box) and is_mail(one) and not is_mail(b"MSH|^~\\&|A|B\r") and not is_mail(b"Subject only: x\n")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_read_as_a_mail_with_problems_never_an_exception(raw):
    mail = read(raw)
    assert mail.kind in ("message", "mdn", "dsn")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([b"Content-Type: multipart/report; report-type=disposition-notification; boundary=b\n",
                                 b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n",
                                 b"From: x@y\n", b"\n", b"--b\n", b"--b--\n", b"Content-Type: message/delivery-status\n",
                                 b"Content-Type: message/disposition-notification\n", b"Disposition: ;\n",
                                 b"Final-Recipient: rfc822;\n", b"Action: failed\n", b"=?utf-8?q?=FF?=\n"]), max_size=30))
def test_broken_reports_are_read_with_problems(lines):
    mail = read(b"".join(lines))
    assert all(isinstance(p, str) for p in mail.problems)
