"""Direct messages, MDNs and DSNs as a HISP writes them, for the Direct lane's tests and demo-like data."""
from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime

from core.direct.mail import FINAL_DELIVERY


def _date(at: datetime) -> str:
    from datetime import UTC

    return format_datetime(at.replace(tzinfo=UTC))


def message(mid: str, sender: str, to: list[str], at: datetime, *, dispatched: bool = False,
            subject: str = "Referral") -> bytes:
    options = f"Disposition-Notification-Options: {FINAL_DELIVERY.upper()}=optional,true\r\n" if dispatched else ""
    return (f"From: {sender}\r\nTo: {', '.join(to)}\r\nSubject: {subject}\r\nDate: {_date(at)}\r\nMessage-ID: <{mid}>\r\n"
            f"MIME-Version: 1.0\r\n{options}Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
            "Content-Type: text/plain\r\n\r\nPlease see the attached referral.\r\n--b1\r\n"
            "Content-Type: application/xml; name=\"referral.xml\"\r\nContent-Disposition: attachment; "
            "filename=\"referral.xml\"\r\n\r\n<ClinicalDocument xmlns=\"urn:hl7-org:v3\"/>\r\n--b1--\r\n").encode()


def mdn(mid: str, original: str, recipient: str, sender_of_original: str, at: datetime, disposition: str = "processed",
        *, final: bool = False, failure: str | None = None) -> bytes:
    extra = f"{FINAL_DELIVERY.upper()}:\r\n" if final else ""
    extra += f"Failure: {failure}\r\n" if failure else ""
    return (f"From: {recipient}\r\nTo: {sender_of_original}\r\nSubject: {disposition.title()}: Referral\r\n"
            f"Date: {_date(at)}\r\nMessage-ID: <{mid}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; "
            "report-type=disposition-notification; boundary=\"r1\"\r\n\r\n--r1\r\nContent-Type: text/plain\r\n\r\n"
            f"Your message was {disposition}.\r\n--r1\r\nContent-Type: message/disposition-notification\r\n\r\n"
            "Reporting-UA: hisp.example;Direct Agent\r\n"
            f"Final-Recipient: rfc822;{recipient}\r\nOriginal-Message-ID: <{original}>\r\n"
            f"Disposition: automatic-action/MDN-sent-automatically;{disposition}\r\n{extra}\r\n--r1--\r\n").encode()


def dsn(mid: str, original: str, recipient: str, sender_of_original: str, at: datetime,
        diagnostic: str = "smtp; 550 5.1.1 mailbox unavailable") -> bytes:
    return (f"From: postmaster@hisp.example\r\nTo: {sender_of_original}\r\nSubject: Delivery Status Notification (Failure)"
            f"\r\nDate: {_date(at)}\r\nMessage-ID: <{mid}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; "
            "report-type=delivery-status; boundary=\"d1\"\r\n\r\n--d1\r\nContent-Type: text/plain\r\n\r\n"
            "Delivery failed.\r\n--d1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; hisp.example\r\n"
            f"X-Original-Message-Id: <{original}>\r\n\r\nFinal-Recipient: rfc822;{recipient}\r\nAction: failed\r\n"
            f"Status: 5.1.1\r\nDiagnostic-Code: {diagnostic}\r\n\r\n--d1--\r\n").encode()


def mbox(*mails: bytes, at: datetime = datetime(2026, 12, 1, 9, 0)) -> bytes:
    stamp = at.strftime("%a %b %d %H:%M:%S %Y")
    return b"".join(b"From hisp@example " + stamp.encode() + b"\n" + m.replace(b"\r\n", b"\n") + b"\n" for m in mails)
