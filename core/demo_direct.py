"""The demo workspace's Direct lane: today's referrals from the practice to a few
specialists, as its HISP exports them (an mbox), with their MDNs and DSNs: most processed
and dispatched, one receiver that does not trust the practice's certificate, a mailbox that
does not exist, referrals still waiting, and some that timed out.

The builders write mail as a HISP does (CRLF, multipart, a C-CDA attachment); the tests use
them too.
"""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from core.direct.mail import FINAL_DELIVERY

PRACTICE = "referrals@direct.northside-fm.example"
RECEIVERS = ("intake@direct.heartcare-cardiology.example", "frontdesk@direct.eastside-ortho.example",
             "referrals@direct.valley-derm.example", "scheduling@direct.lakeview-gi.example")
NO_SUCH = "newpatients@direct.valley-derm.example"  # the DSN's: that mailbox does not exist
UNTRUSTING = RECEIVERS[3]  # its HISP does not trust the practice's certificate: a failed MDN


def _date(at: datetime) -> str:
    return format_datetime(at.replace(tzinfo=UTC))


PATIENTS = (("Marisol", "Quintero", "19610412", "F"), ("Desmond", "Okafor", "19780903", "M"),
            ("Ingrid", "Halvorsen", "19520127", "F"), ("Tobias", "Wrenfield", "19890615", "M"))
_SECTIONS = (("2.16.840.1.113883.10.20.22.2.5.1", "11450-4", "PROBLEMS", "Essential hypertension | active since 2019"),
             ("2.16.840.1.113883.10.20.22.2.6.1", "48765-2", "ALLERGIES", "Penicillin | hives | moderate"),
             ("2.16.840.1.113883.10.20.22.2.1.1", "10160-0", "MEDICATIONS", "Lisinopril 10 mg | once daily"),
             ("1.3.6.1.4.1.19376.1.5.3.1.3.1", "42349-1", "REASON FOR REFERRAL", "Chest pain on exertion; please evaluate"))


def referral(i: int, at: datetime, *, complete: bool = True) -> bytes:
    """A C-CDA R2.1 Referral Note for an invented patient (one without its reason for referral when not complete)."""
    given, family, birth, sex = PATIENTS[i % len(PATIENTS)]
    sections = "".join(
        f'<component><section><templateId root="{t}" extension="2015-08-01"/><code code="{code}" '
        f'codeSystem="2.16.840.1.113883.6.1"/><title>{title}</title><text><table><tbody><tr><td>'
        + "</td><td>".join(text.split(" | ")) + "</td></tr></tbody></table></text></section></component>"
        for t, code, title, text in _SECTIONS if complete or title != "REASON FOR REFERRAL")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<ClinicalDocument xmlns="urn:hl7-org:v3">'
            '<realmCode code="US"/><typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>'
            '<templateId root="2.16.840.1.113883.10.20.22.1.1" extension="2015-08-01"/>'
            '<templateId root="2.16.840.1.113883.10.20.22.1.14" extension="2015-08-01"/>'
            f'<id root="2.16.840.1.113883.19.5.99999.1" extension="REF{i:05d}"/>'
            '<code code="57133-1" codeSystem="2.16.840.1.113883.6.1" displayName="Referral note"/>'
            f'<title>Referral Note</title><effectiveTime value="{at:%Y%m%d%H%M%S}+0000"/>'
            '<confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/><languageCode code="en-US"/>'
            f'<recordTarget><patientRole><id root="2.16.840.1.113883.19.5.99999.2" extension="RF{40000 + i}"/>'
            f'<patient><name><given>{given}</given><family>{family}</family></name>'
            f'<administrativeGenderCode code="{sex}" codeSystem="2.16.840.1.113883.5.1"/><birthTime value="{birth}"/>'
            '</patient></patientRole></recordTarget>'
            f'<author><time value="{at:%Y%m%d%H%M%S}+0000"/><assignedAuthor><id root="2.16.840.1.113883.4.6" '
            'extension="1234567893"/><assignedPerson><name><given>Alma</given><family>Reyes</family></name>'
            '</assignedPerson></assignedAuthor></author>'
            '<custodian><assignedCustodian><representedCustodianOrganization><id root="2.16.840.1.113883.19.5"/>'
            '<name>Northside Family Medicine</name></representedCustodianOrganization></assignedCustodian></custodian>'
            f'<component><structuredBody>{sections}</structuredBody></component></ClinicalDocument>').encode()


def message(mid: str, sender: str, to: list[str], at: datetime, *, dispatched: bool = False,
            subject: str = "Referral", document: bytes | None = None) -> bytes:
    """A Direct message carrying a C-CDA referral note."""
    import base64

    document = document or referral(0, at)
    options = f"Disposition-Notification-Options: {FINAL_DELIVERY.upper()}=optional,true\r\n" if dispatched else ""
    return (f"From: {sender}\r\nTo: {', '.join(to)}\r\nSubject: {subject}\r\nDate: {_date(at)}\r\nMessage-ID: <{mid}>\r\n"
            f"MIME-Version: 1.0\r\n{options}Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
            "Content-Type: text/plain\r\n\r\nPlease see the attached referral.\r\n--b1\r\n"
            "Content-Type: application/xml; name=\"referral.xml\"\r\nContent-Transfer-Encoding: base64\r\n"
            "Content-Disposition: attachment; filename=\"referral.xml\"\r\n\r\n"
            f"{base64.encodebytes(document).decode().replace(chr(10), chr(13) + chr(10))}--b1--\r\n").encode()


def mdn(mid: str, original: str, recipient: str, sender_of_original: str, at: datetime, disposition: str = "processed",
        *, final: bool = False, failure: str | None = None) -> bytes:
    """An MDN from a recipient's HISP (RFC 8098, as the Direct delivery notification guide has it)."""
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
    """A DSN (RFC 3464) from the sending HISP: a recipient it could not deliver to."""
    return (f"From: postmaster@hisp.example\r\nTo: {sender_of_original}\r\nSubject: Delivery Status Notification (Failure)"
            f"\r\nDate: {_date(at)}\r\nMessage-ID: <{mid}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; "
            "report-type=delivery-status; boundary=\"d1\"\r\n\r\n--d1\r\nContent-Type: text/plain\r\n\r\n"
            "Delivery failed.\r\n--d1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; hisp.example\r\n"
            f"X-Original-Message-Id: <{original}>\r\n\r\nFinal-Recipient: rfc822;{recipient}\r\nAction: failed\r\n"
            f"Status: 5.1.1\r\nDiagnostic-Code: {diagnostic}\r\n\r\n--d1--\r\n").encode()


def referral_order(i: int, at: datetime) -> bytes:
    """The EHR's REF^I12 that asks for referral i (its patient is the referral note's), and the HIE's ACK."""
    given, family, birth, sex = PATIENTS[i % len(PATIENTS)]
    ts, cid = f"{at:%Y%m%d%H%M%S}", f"REFO{i:05d}"
    return (f"MSH|^~\\&|ECW|NFM|HIE|HIE|{ts}||REF^I12^REF_I12|{cid}|P|2.5.1\r"
            f"RF1|A|R|SPE^Specialty referral|||R{i:05d}|{ts}\r"
            f"PRD|RP|REYES^ALMA|||||1234567890^^^NPI\r"
            f"PID|1||RF{40000 + i}^^^NFM^MR||{family.upper()}^{given.upper()}||{birth}|{sex}\r\n"
            f"MSH|^~\\&|HIE|HIE|ECW|NFM|{ts}||ACK^I12^ACK|A{cid}|P|2.5.1\rMSA|AA|{cid}\r\n").encode()


def mbox(mails: list[tuple[datetime, bytes]]) -> bytes:
    """Mails as an mbox (each after a `From ` line, in the order given)."""
    return b"".join(b"From hisp@example " + at.strftime("%a %b %d %H:%M:%S %Y").encode() + b"\n"
                    + m.replace(b"\r\n", b"\n") + b"\n" for at, m in mails)


def write(folder: Path, *, now: datetime | None = None, count: int = 40, seed: int = 5) -> Path:
    """Today's referrals and their notices, as the HISP's export; returns the file."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    rng = random.Random(seed)
    mails: list[tuple[datetime, bytes]] = []
    orders: list[bytes] = []  # the REF^I12 each referral was sent for, five minutes before
    ours = certificate(PRACTICE, start=now - timedelta(days=200))  # the practice signs; its key is not configured here
    for i in range(count):
        sent = now - timedelta(minutes=(count - i) * 9 + rng.randrange(5))
        mid = f"ref{i:04d}.{seed}@northside-fm.example"
        to = [rng.choice(RECEIVERS)] + ([NO_SUCH] if i % 13 == 5 else [])
        orders.append(referral_order(i, sent - timedelta(minutes=5)))
        asks = i % 3 == 0
        mails.append((sent, sign(message(mid, PRACTICE, to, sent, dispatched=asks, subject=f"Referral {i + 1}",
                                         document=referral(i, sent, complete=i % 17 != 9)), *ours)))
        for n, r in enumerate(to):
            at = sent + timedelta(minutes=1 + rng.randrange(4))
            if r == NO_SUCH:
                mails.append((at, dsn(f"dsn{i}.{n}@hisp.example", mid, r, PRACTICE, at,
                                      f"smtp; 550 5.1.1 <{r}>: Recipient address rejected: User unknown ({rng.randrange(10**6)})")))
            elif r == UNTRUSTING and i % 4 == 1:
                mails.append((at, mdn(f"mdn{i}.{n}@{r.split('@')[1]}", mid, r, PRACTICE, at, "failed",
                                      failure="the sender's certificate is not trusted by the receiving HISP")))
            elif i == count // 2:  # its HISP encrypts notices to the practice's certificate: sealed without its key
                mails.append((at, seal(mdn(f"mdn{i}.{n}@{r.split('@')[1]}", mid, r, PRACTICE, at), ours[0])))
            elif at > now - timedelta(minutes=6) or i % 11 == 7:
                continue  # still waiting (or, long enough, timed out)
            else:
                mails.append((at, mdn(f"mdn{i}.{n}@{r.split('@')[1]}", mid, r, PRACTICE, at)))
                if asks and i % 6 != 3:
                    later = at + timedelta(minutes=2)
                    if later <= now:
                        mails.append((later, mdn(f"dsp{i}.{n}@{r.split('@')[1]}", mid, r, PRACTICE, later, "dispatched",
                                                 final=True)))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"ecw-referral-orders-{now:%Y%m%d}.hl7").write_bytes(b"".join(orders))
    path = folder / f"hisp-export-{now:%Y%m%d}.mbox"
    path.write_bytes(mbox(sorted(mails, key=lambda m: m[0])))
    return path


# -- S/MIME, as Direct sends it: signed by the sender, then encrypted to the recipient ------
def certificate(address: str, *, days: int = 365, start: datetime | None = None):
    """A Direct certificate for an address (or a domain) and its RSA key, self-issued."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, address.rpartition("@")[2]),
                      x509.NameAttribute(NameOID.COMMON_NAME, address)])
    start = start or datetime.now(UTC).replace(tzinfo=None) - timedelta(days=30)
    alt = x509.RFC822Name(address) if "@" in address else x509.DNSName(address)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([alt]), critical=False).sign(key, hashes.SHA256()))
    return cert, key


def _split(mail: bytes) -> tuple[bytes, bytes]:
    """(the message's own headers, its body as a MIME entity with its Content- headers)."""
    head, _, body = mail.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    content = [h for h in lines if h.lower().startswith(b"content-")]
    own = [h for h in lines if not h.lower().startswith((b"content-", b"mime-version"))]
    return b"\r\n".join(own) + b"\r\n", b"\r\n".join(content) + b"\r\n\r\n" + body


def sign(mail: bytes, cert, key) -> bytes:
    """The message with its body signed (multipart/signed, a detached signature)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    own, entity = _split(mail)
    signed = (pkcs7.PKCS7SignatureBuilder().set_data(entity).add_signer(cert, key, hashes.SHA256())
              .sign(serialization.Encoding.SMIME, [pkcs7.PKCS7Options.DetachedSignature]))
    return own + signed.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def seal(mail: bytes, cert) -> bytes:
    """The message with its body encrypted to `cert` (application/pkcs7-mime, enveloped-data)."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    own, entity = _split(mail)
    if entity.lower().startswith(b"mime-version"):
        entity = entity.split(b"\r\n", 1)[1]
    der = pkcs7.PKCS7EnvelopeBuilder().set_data(entity).add_recipient(cert).encrypt(serialization.Encoding.DER, [])
    return (own + b"MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; "
            b"name=\"smime.p7m\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; "
            b"filename=\"smime.p7m\"\r\n\r\n" + base64.encodebytes(der).replace(b"\n", b"\r\n"))
