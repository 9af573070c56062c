"""Reading one Direct message from its bytes: who, to whom, what it carries, and, for an
MDN or a DSN, what it says about which message and which recipient.

Direct (the Applicability Statement for Secure Health Transport) is S/MIME mail between
HISPs. Its ACKs are mail too: MDNs (RFC 8098, `multipart/report;
report-type=disposition-notification`: processed, dispatched, failed...) and DSNs (RFC
3464, `report-type=delivery-status`: a delivery that failed). The "Implementation Guide
for Delivery Notification in Direct" adds `X-DIRECT-FINAL-DESTINATION-DELIVERY`: a sender
that asks for it wants a `dispatched` MDN once the message reached its final destination.

Total, like core.message_rows: whatever the bytes, a Mail comes back; what is missing or
malformed is listed in `problems`, in words, never raised.
"""
from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from core.documents.examine import in_attachment

FINAL_DELIVERY = "x-direct-final-destination-delivery"
_DISPOSITION = re.compile(r"^\s*(?P<mode>[^;]*);\s*(?P<type>[A-Za-z-]+)(?:/(?P<modifier>[A-Za-z-]+))?\s*$")
_SHOWN = ("From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To")
TEXT_LIMIT = 64 << 10  # characters of a message's text kept for search and display
_ADDRESS_TYPE = re.compile(r"^\s*[A-Za-z0-9-]+\s*;\s*")  # "rfc822;" before an address in a report


@dataclass
class Attachment:
    filename: str | None
    content_type: str
    size: int  # decoded bytes


@dataclass
class Notice:
    """What one MDN or DSN says about one recipient of one message."""

    recipient: str | None  # Final-Recipient, as an address
    disposition: str | None  # processed, dispatched, failed, displayed, deleted (MDN); delivery_failed, delayed, delivered (DSN)
    final_delivery: bool = False  # a dispatched MDN that says X-DIRECT-FINAL-DESTINATION-DELIVERY
    words: str | None = None  # the reporter's own words: the MDN's modifier/Failure, the DSN's Status and Diagnostic-Code


@dataclass
class Mail:
    kind: str  # message, mdn, dsn
    message_id: str | None
    sender: str | None
    recipients: list[str]
    subject: str | None
    sent_at: datetime | None
    in_reply_to: str | None = None  # a notice's original: Original-Message-ID, X-Original-Message-Id or In-Reply-To
    signed: bool = False
    encrypted: bool = False
    asks_dispatched: bool = False  # the sender asked for X-DIRECT-FINAL-DESTINATION-DELIVERY
    attachments: list[Attachment] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    reporter: str | None = None  # Reporting-UA or Reporting-MTA
    problems: list[str] = field(default_factory=list)
    text: str = ""  # what a person reads and searches: the headers that matter and the message's own words
    documents: list[tuple[str, bytes]] = field(default_factory=list)  # the CDA documents it carries (name, bytes)

    @property
    def is_notice(self) -> bool:
        return self.kind != "message"


def read(raw: bytes) -> Mail:
    """A Mail from the bytes of one RFC 5322 message."""
    msg = email.message_from_bytes(raw.removeprefix(b"\xef\xbb\xbf").lstrip(b"\r\n \t"), policy=email.policy.compat32)
    mail = Mail("message", _id(msg.get("Message-ID")), _address(msg.get("From")), _recipients(msg),
                _header(msg.get("Subject")), _date(msg.get("Date")))
    if mail.message_id is None:
        mail.problems.append("no Message-ID: notices cannot be paired to it")
    if mail.sender is None:
        mail.problems.append("no From address")
    report = (msg.get_param("report-type") or "").lower() if msg.get_content_type() == "multipart/report" else ""
    options = " ".join(str(v) for v in msg.get_all("Disposition-Notification-Options", [])).lower()
    mail.asks_dispatched = FINAL_DELIVERY in options and "true" in options.split(FINAL_DELIVERY, 1)[1][:40]
    words: list[str] = []
    try:
        _walk(msg, mail, words)
        if report == "disposition-notification":
            _mdn(msg, mail)
        elif report == "delivery-status":
            _dsn(msg, mail)
    except Exception as exc:  # noqa: BLE001 - a malformed MIME tree costs its details, never the message
        mail.problems.append(f"its MIME structure could not be read ({type(exc).__name__})")
    heads = [f"{name}: {v}" for name in _SHOWN if (v := _header(msg.get(name)))]
    said = [f"Notice for {n.recipient or '(no Final-Recipient)'}: {n.disposition or '(no disposition)'}"
            + (f" ({n.words})" if n.words else "") for n in mail.notices]
    files = [f"Attachment: {a.filename or '(no name)'} ({a.content_type}, {a.size:,} bytes)" for a in mail.attachments]
    mail.text = "\n".join([*heads, *said, *files, "", *words])[:TEXT_LIMIT]
    return mail


# -- headers ----------------------------------------------------------------------------
def _header(value) -> str | None:
    if value is None:
        return None
    try:
        text = str(email.header.make_header(email.header.decode_header(str(value))))
    except (UnicodeError, LookupError, email.errors.HeaderParseError):
        text = str(value)
    text = " ".join(text.split())
    return text or None


def _id(value) -> str | None:
    text = _header(value)
    return text.strip() if text else None


def _address(value) -> str | None:
    text = _header(value)
    if not text:
        return None
    [(_, address)] = getaddresses([_ADDRESS_TYPE.sub("", text)])[:1] or [("", "")]
    return address.strip().lower() or None


def _recipients(msg: Message) -> list[str]:
    found = getaddresses([_header(v) or "" for name in ("To", "Cc") for v in msg.get_all(name, [])])
    out: list[str] = []
    for _, address in found:
        address = address.strip().lower()
        if address and address not in out:
            out.append(address)
    return out


def _date(value) -> datetime | None:
    text = _header(value)
    if not text:
        return None
    try:
        at = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at


# -- the body ---------------------------------------------------------------------------
def _walk(msg: Message, mail: Mail, words: list[str]) -> None:
    """Signed, encrypted, what it carries (every leaf that is not the message's own text),
    and its own text (into words)."""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "multipart/signed":
            mail.signed = True
        elif ctype in ("application/pkcs7-mime", "application/x-pkcs7-mime"):
            smime = (part.get_param("smime-type") or "").lower()
            if smime == "signed-data":
                mail.signed = True
            else:
                mail.encrypted = True  # enveloped-data, or no smime-type: what Direct sends encrypted
        if part.is_multipart() or ctype.startswith("message/") or ctype.endswith("pkcs7-signature") or (
                ctype == "application/pkcs7-mime"):
            continue
        filename = part.get_filename()
        if filename is None and ctype.startswith("text/") and part.get("Content-Disposition", "").lower().find("attachment") < 0:
            body = part.get_payload(decode=True) or b""
            words.append(_decoded(body, part.get_content_charset()))  # the message's own words
            continue
        payload = part.get_payload(decode=True) or b""
        mail.attachments.append(Attachment(_header(filename), ctype, len(payload)))
        mail.documents += in_attachment(_header(filename), ctype, payload)


def _decoded(body: bytes, charset: str | None) -> str:
    try:
        return body.decode(charset or "utf-8", "replace")
    except LookupError:  # a charset nobody knows
        return body.decode("latin-1")


def _report_part(msg: Message, ctype: str) -> Message | None:
    return next((p for p in msg.walk() if p.get_content_type() == ctype), None)


def _blocks(part: Message) -> list[Message]:
    """A report part's field blocks (message/delivery-status is parsed into them; a
    message/disposition-notification is one embedded message whose headers are its fields)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    if isinstance(payload, str):
        return [email.message_from_string(b) for b in re.split(r"\r?\n\r?\n", payload.strip()) if b.strip()]
    return []


def _mdn(msg: Message, mail: Mail) -> None:
    mail.kind = "mdn"
    part = _report_part(msg, "message/disposition-notification")
    if part is None:
        mail.problems.append("an MDN without its message/disposition-notification part")
        mail.in_reply_to = _id(msg.get("In-Reply-To"))
        return
    fields = Message()
    for block in (part, *_blocks(part)):  # a writer that leaves out the blank line puts the fields among the part's headers
        for name, value in block.items():
            if not name.lower().startswith("content-"):
                fields[name] = value
    mail.reporter = _header(fields.get("Reporting-UA"))
    mail.in_reply_to = _id(fields.get("Original-Message-ID")) or _id(msg.get("In-Reply-To"))
    if mail.in_reply_to is None:
        mail.problems.append("no Original-Message-ID (and no In-Reply-To): which message it answers is not said")
    recipient = _address(fields.get("Final-Recipient"))
    if recipient is None:
        mail.problems.append("no Final-Recipient: which recipient it speaks for is not said")
    disposition, words = None, None
    value = _header(fields.get("Disposition"))
    if value is None:
        mail.problems.append("no Disposition: what happened to the message is not said")
    elif (m := _DISPOSITION.match(value)) is None:
        mail.problems.append(f"a Disposition that cannot be read: {value[:120]}")
    else:
        disposition = m.group("type").lower()
        modifier = m.group("modifier")
        failure = _header(fields.get("Failure")) or _header(fields.get("Error")) or _header(fields.get("Warning"))
        words = "; ".join(w for w in (modifier and f"{disposition}/{modifier.lower()}", failure) if w) or None
        if modifier and modifier.lower() in ("error", "failure", "failed"):
            disposition = "failed"  # processed/error is the MDN form of a failure
    final = any(k.lower() == FINAL_DELIVERY for k in fields.keys()) or msg.get(FINAL_DELIVERY) is not None
    mail.notices.append(Notice(recipient, disposition, final_delivery=final and disposition == "dispatched", words=words))


_DSN_ACTIONS = {"failed": "delivery_failed", "delayed": "delayed", "delivered": "delivered", "relayed": "delivered",
                "expanded": "delivered"}


def _dsn(msg: Message, mail: Mail) -> None:
    mail.kind = "dsn"
    part = _report_part(msg, "message/delivery-status")
    if part is None:
        mail.problems.append("a DSN without its message/delivery-status part")
        return
    blocks = _blocks(part)
    head = blocks[0] if blocks else Message()
    mail.reporter = _header(head.get("Reporting-MTA"))
    mail.in_reply_to = (_id(head.get("X-Original-Message-Id")) or _id(head.get("Original-Message-ID"))
                        or _id(msg.get("In-Reply-To")) or _original_of(msg))
    if mail.in_reply_to is None:
        mail.problems.append("no original message id (X-Original-Message-Id, In-Reply-To or the returned headers)")
    recipients = [b for b in blocks[1:] if b.get("Final-Recipient") or b.get("Action")]
    if not recipients:
        mail.problems.append("no per-recipient fields: which recipient failed is not said")
    for b in recipients:
        recipient = _address(b.get("Final-Recipient")) or _address(b.get("Original-Recipient"))
        if recipient is None:
            mail.problems.append("a recipient's fields without Final-Recipient")
        action = (_header(b.get("Action")) or "").lower()
        status = _header(b.get("Status"))
        if not action:
            mail.problems.append(f"no Action for {recipient or 'a recipient'}: what happened is not said")
        if not status:
            mail.problems.append(f"no Status for {recipient or 'a recipient'}")
        diagnostic = _header(b.get("Diagnostic-Code"))
        words = "; ".join(w for w in (status and f"status {status}", diagnostic and _ADDRESS_TYPE.sub("", diagnostic)) if w)
        mail.notices.append(Notice(recipient, _DSN_ACTIONS.get(action) if action else None, words=words or None))


def _original_of(msg: Message) -> str | None:
    """The Message-ID of the returned message or headers, when a DSN carries them."""
    for ctype in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
        part = _report_part(msg, ctype)
        if part is None:
            continue
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else email.message_from_string(str(payload))
        if isinstance(inner, Message) and (found := _id(inner.get("Message-ID"))):
            return found
    return None
