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

from core.direct import smime
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
    decrypted: bool = False  # its envelope was opened with one of the practice's keys
    signer: smime.Signer | None = None  # who signed it, and whether the signature holds
    trouble: list[str] = field(default_factory=list)  # why it could not be opened or its signature does not hold

    def security(self) -> dict | None:
        """What is stored of its S/MIME: opened or not, the signer, what went wrong."""
        if not (self.signed or self.encrypted):
            return None
        return {"decrypted": self.decrypted, "signer": self.signer.facts() if self.signer else None,
                "trouble": self.trouble}

    @property
    def sealed(self) -> bool:
        """Encrypted and not opened: what it is, and what it carries, is not known."""
        return self.encrypted and not self.decrypted

    @property
    def is_notice(self) -> bool:
        return self.kind != "message"


def read(raw: bytes, keys: list[smime.Key] | None = None) -> Mail:
    """A Mail from the bytes of one RFC 5322 message; `keys` open what is encrypted to the practice."""
    raw = raw.removeprefix(b"\xef\xbb\xbf").lstrip(b"\r\n \t")
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    mail = Mail("message", _id(msg.get("Message-ID")), _address(msg.get("From")), _recipients(msg),
                _header(msg.get("Subject")), _date(msg.get("Date")))
    if mail.message_id is None:
        mail.problems.append("no Message-ID: notices cannot be paired to it")
    if mail.sender is None:
        mail.problems.append("no From address")
    options = " ".join(str(v) for v in msg.get_all("Disposition-Notification-Options", [])).lower()
    mail.asks_dispatched = FINAL_DELIVERY in options and "true" in options.split(FINAL_DELIVERY, 1)[1][:40]
    words: list[str] = []
    try:
        content = _walk(msg, raw, mail, words, keys or [])  # a notice is signed and encrypted like any message
        report = (content.get_param("report-type") or "").lower() if content.get_content_type() == "multipart/report" else ""
        if report == "disposition-notification":
            _mdn(content, msg, mail)
        elif report == "delivery-status":
            _dsn(content, msg, mail)
    except Exception as exc:  # noqa: BLE001 - a malformed MIME tree costs its details, never the message
        mail.problems.append(f"its MIME structure could not be read ({type(exc).__name__})")
    heads = [f"{name}: {v}" for name in _SHOWN if (v := _header(msg.get(name)))]
    said = [f"Notice for {n.recipient or '(no Final-Recipient)'}: {n.disposition or '(no disposition)'}"
            + (f" ({n.words})" if n.words else "") for n in mail.notices]
    files = [f"Attachment: {a.filename or '(no name)'} ({a.content_type}, {a.size:,} bytes)" for a in mail.attachments]
    mail.text = "\n".join([*heads, *said, *files, *_secured(mail), "", *words])[:TEXT_LIMIT]
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
def _walk(msg: Message, raw: bytes | None, mail: Mail, words: list[str], keys: list[smime.Key]) -> Message:
    """Signed, encrypted, what it carries (every leaf that is not the message's own text),
    and its own text (into words). `raw` is the exact bytes of `msg` where they are known
    (the message, or an envelope's inside): a detached signature is checked over them.
    Returns the entity that is the message's content, inside its envelope and signature."""
    content = msg
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "multipart/signed":
            mail.signed = True
            _detached(part, raw if part is msg else None, mail)
            if part is content and isinstance(part.get_payload(), list) and part.get_payload():
                content = part.get_payload()[0]
        elif ctype in ("application/pkcs7-mime", "application/x-pkcs7-mime"):
            smime_type = (part.get_param("smime-type") or "").lower()
            der = part.get_payload(decode=True) or b""
            if smime_type == "signed-data":
                mail.signed = True
                mail.signer, inner = smime.verify_opaque(der, mail.sender, mail.sent_at)
                _signed_by(mail)
            else:
                mail.encrypted = True  # enveloped-data, or no smime-type: what Direct sends encrypted
                inner, why = smime.decrypt(der, keys) if keys else (None, _no_keys(der))
                mail.decrypted = mail.decrypted or inner is not None
                if why:
                    mail.trouble.append(f"it cannot be opened: {why}")
            if inner is not None:
                opened = _walk(email.message_from_bytes(inner, policy=email.policy.compat32), inner, mail, words, keys)
                content = opened if part is content else content
            continue
        if part.is_multipart() or ctype.startswith("message/") or ctype.endswith("pkcs7-signature"):
            continue
        filename = part.get_filename()
        if filename is None and ctype.startswith("text/") and part.get("Content-Disposition", "").lower().find("attachment") < 0:
            body = part.get_payload(decode=True) or b""
            words.append(_decoded(body, part.get_content_charset()))  # the message's own words
            continue
        payload = part.get_payload(decode=True) or b""
        mail.attachments.append(Attachment(_header(filename), ctype, len(payload)))
        mail.documents += in_attachment(_header(filename), ctype, payload)
    return content


def _no_keys(der: bytes) -> str:
    whom = smime.recipients(der)
    return (f"it is encrypted to {'; '.join(whom)}, and no private key is configured (lanewatch direct-key add)"
            if whom else "its encrypted part is not a readable PKCS#7 envelope")


def _detached(part: Message, raw: bytes | None, mail: Mail) -> None:
    """Check a multipart/signed's signature over its first part, as it was sent."""
    payload = part.get_payload()
    signature = next((p for p in payload if isinstance(p, Message) and p.get_content_type().endswith("pkcs7-signature")),
                     None) if isinstance(payload, list) else None
    content = _first_part(raw if raw is not None else part.as_bytes(), part.get_boundary())
    if signature is None or content is None:
        mail.signer = smime.Signer(False, "its signed parts cannot be found (no signature, or a broken boundary)")
    else:
        mail.signer = smime.verify_detached(content, signature.get_payload(decode=True) or b"", mail.sender, mail.sent_at)
    _signed_by(mail)


def _signed_by(mail: Mail) -> None:
    if mail.signer is not None and not mail.signer.valid:
        mail.trouble.append(f"its signature does not hold: {mail.signer.why}")


def _first_part(raw: bytes, boundary: str | None) -> bytes | None:
    """The first body part of a multipart entity, exactly as signed (canonical CRLF lines)."""
    if not boundary:
        return None
    text = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    body = text.find(b"\r\n\r\n")
    delimiter = b"--" + boundary.encode("ascii", "replace")
    start = text.find(delimiter, body)
    if body < 0 or start < 0:
        return None
    start = text.find(b"\r\n", start) + 2
    end = text.find(b"\r\n" + delimiter, start)
    return text[start:end] if start >= 2 and end > start else None


def _secured(mail: Mail) -> list[str]:
    lines = []
    if mail.encrypted:
        lines.append("Encrypted: " + ("opened with the practice's key" if mail.decrypted else "not opened"))
    if mail.signer is not None:
        s = mail.signer
        state = "valid" if s.valid else f"NOT VALID ({s.why})"
        who = f"; signer {s.subject}, issued by {s.issuer}, expires {s.not_after:%Y-%m-%d}" if s.subject else ""
        lines.append(f"Signature: {state}{who}")
    return lines


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


def _mdn(msg: Message, outer: Message, mail: Mail) -> None:
    mail.kind = "mdn"
    part = _report_part(msg, "message/disposition-notification")
    if part is None:
        mail.problems.append("an MDN without its message/disposition-notification part")
        mail.in_reply_to = _id(outer.get("In-Reply-To"))
        return
    fields = Message()
    for block in (part, *_blocks(part)):  # a writer that leaves out the blank line puts the fields among the part's headers
        for name, value in block.items():
            if not name.lower().startswith("content-"):
                fields[name] = value
    mail.reporter = _header(fields.get("Reporting-UA"))
    mail.in_reply_to = _id(fields.get("Original-Message-ID")) or _id(outer.get("In-Reply-To"))
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
    final = any(k.lower() == FINAL_DELIVERY for k in fields.keys()) or outer.get(FINAL_DELIVERY) is not None
    mail.notices.append(Notice(recipient, disposition, final_delivery=final and disposition == "dispatched", words=words))


_DSN_ACTIONS = {"failed": "delivery_failed", "delayed": "delayed", "delivered": "delivered", "relayed": "delivered",
                "expanded": "delivered"}


def _dsn(msg: Message, outer: Message, mail: Mail) -> None:
    mail.kind = "dsn"
    part = _report_part(msg, "message/delivery-status")
    if part is None:
        mail.problems.append("a DSN without its message/delivery-status part")
        return
    blocks = _blocks(part)
    head = blocks[0] if blocks else Message()
    mail.reporter = _header(head.get("Reporting-MTA"))
    mail.in_reply_to = (_id(head.get("X-Original-Message-Id")) or _id(head.get("Original-Message-ID"))
                        or _id(outer.get("In-Reply-To")) or _original_of(msg))
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
