"""S/MIME in Direct: opening a message encrypted to one of the practice's addresses, and
checking a signature.

Direct signs, then encrypts. Opening uses cryptography's PKCS#7 functions with a private
key the caller brings (core.direct.keys reads them from the keyring). A signature is read
as the CMS SignedData it is (asn1crypto) and checked with cryptography: the digest of the
signed content against the signed attributes' messageDigest, the signer's signature over
those attributes, and the signer certificate's dates and addresses against the message.
(endesive does the same, but brings Pillow, paramiko, pypdf and a PKCS#11 binding with it.)

Total, like core.direct.mail: whatever the bytes, an answer comes back that says in words
what could not be done.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

_HASHES = {"sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256, "sha384": hashes.SHA384,
           "sha512": hashes.SHA512}


@dataclass(frozen=True)
class Key:
    """One of the practice's Direct certificates with its private key (an address, or a
    whole domain for a domain-bound certificate)."""

    address: str
    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey


@dataclass
class Signer:
    """What a signature says and whether it holds."""

    valid: bool
    why: str | None = None  # why it does not hold, in words
    subject: str | None = None
    issuer: str | None = None
    serial: str | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    addresses: list[str] = field(default_factory=list)  # the certificate's e-mail addresses and DNS names

    def facts(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in vars(self).items()}


def recipients(der: bytes) -> list[str]:
    """Whom an enveloped message is encrypted to, as issuer and serial (or key id)."""
    try:
        infos = cms.ContentInfo.load(der)["content"]["recipient_infos"]
        out = []
        for info in infos:
            rid = info.chosen["rid"].chosen if info.name == "ktri" else None
            if isinstance(rid, cms.IssuerAndSerialNumber):
                out.append(f"the certificate issued by {rid['issuer'].human_friendly}, serial {rid['serial_number'].native:x}")
            elif rid is not None:
                out.append(f"the certificate with key id {rid.native.hex()}")
        return out
    except Exception:  # noqa: BLE001 - not readable as an envelope: said by the caller
        return []


def decrypt(der: bytes, keys: list[Key]) -> tuple[bytes | None, str | None]:
    """(the MIME entity inside, None) or (None, why it cannot be opened)."""
    for_whom = recipients(der)
    if not for_whom:
        return None, "its encrypted part is not a readable PKCS#7 envelope"
    chosen = [k for k in keys if f"serial {k.certificate.serial_number:x}" in " ".join(for_whom)]
    if not chosen:
        return None, (f"it is encrypted to {'; '.join(for_whom)}, and no private key for that certificate is "
                      "configured (lanewatch direct-key add)")
    last = "it could not be decrypted"
    for key in chosen:
        try:
            return pkcs7.pkcs7_decrypt_der(der, key.certificate, key.private_key, []), None
        except (ValueError, UnsupportedAlgorithm) as exc:
            last = f"it could not be decrypted with the key of {key.address} ({exc})"
    return None, last


def verify_detached(content: bytes, signature_der: bytes, sender: str | None, at: datetime | None) -> Signer:
    """A multipart/signed message's signature over its first part's exact bytes."""
    return _verify(signature_der, content, sender, at)


def verify_opaque(der: bytes, sender: str | None, at: datetime | None) -> tuple[Signer, bytes | None]:
    """An application/pkcs7-mime signed-data: its signature, and the MIME entity it wraps."""
    try:
        inner = cms.ContentInfo.load(der)["content"]["encap_content_info"]["content"].native
    except Exception:  # noqa: BLE001
        return Signer(False, "its signed part is not a readable PKCS#7 signed-data"), None
    return _verify(der, inner, sender, at), inner


def _verify(der: bytes, content: bytes | None, sender: str | None, at: datetime | None) -> Signer:
    try:
        signed = cms.ContentInfo.load(der)["content"]
        infos = list(signed["signer_infos"])
        certificates = [c.chosen for c in signed["certificates"] or [] if c.name == "certificate"]
    except Exception:  # noqa: BLE001
        return Signer(False, "its signature is not a readable PKCS#7 signed-data")
    if not infos:
        return Signer(False, "its signature has no signer")
    if content is None:
        return Signer(False, "its signature covers no content")
    info = infos[0]
    cert = _signer_certificate(info["sid"], certificates)
    if cert is None:
        return Signer(False, "the signer's certificate is not in the message")
    signer = _describe(cert)
    signer.why = _check(info, cert, content) or _dates(cert, info, at) or _bound(signer, sender)
    signer.valid = signer.why is None
    return signer


def _signer_certificate(sid, certificates) -> x509.Certificate | None:
    for c in certificates:
        if sid.name == "issuer_and_serial_number":
            if c.issuer == sid.chosen["issuer"] and c.serial_number == sid.chosen["serial_number"].native:
                return x509.load_der_x509_certificate(c.dump())
        elif c.key_identifier == sid.chosen.native:
            return x509.load_der_x509_certificate(c.dump())
    return None


def _describe(cert: x509.Certificate) -> Signer:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        addresses = [a.lower() for a in san.get_values_for_type(x509.RFC822Name) + san.get_values_for_type(x509.DNSName)]
    except (x509.ExtensionNotFound, ValueError):
        addresses = []
    addresses += [a.value.lower() for a in cert.subject.get_attributes_for_oid(x509.NameOID.EMAIL_ADDRESS)
                  if isinstance(a.value, str) and a.value.lower() not in addresses]
    return Signer(False, subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(),
                  serial=f"{cert.serial_number:x}", not_before=cert.not_valid_before_utc.replace(tzinfo=None),
                  not_after=cert.not_valid_after_utc.replace(tzinfo=None), addresses=addresses)


def _check(info, cert: x509.Certificate, content: bytes) -> str | None:
    """Why the signature's mathematics do not hold, or None."""
    algorithm = info["digest_algorithm"]["algorithm"].native
    if algorithm not in _HASHES:
        return f"it is signed with a digest Lanewatch does not know ({algorithm})"
    attrs = info["signed_attrs"]
    if attrs.native is not None and len(attrs):
        digest = next((a["values"][0].native for a in attrs if a["type"].native == "message_digest"), None)
        if digest != hashlib.new(algorithm, content).digest():
            return "its content was changed after it was signed (the digest does not match)"
        data = b"\x31" + attrs.dump()[1:]  # the attributes are signed as a SET OF, not as the [0] they are sent as
    else:
        data = content
    chosen = _HASHES[algorithm]()
    key = cert.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            scheme = info["signature_algorithm"].signature_algo
            pad = padding.PSS(padding.MGF1(chosen), padding.PSS.AUTO) if scheme == "rsassa_pss" else padding.PKCS1v15()
            key.verify(info["signature"].native, data, pad, chosen)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(info["signature"].native, data, ec.ECDSA(chosen))
        else:
            return "the signer's key is of a kind Lanewatch does not check"
    except InvalidSignature:
        return "the signature does not match the signer's certificate"
    except (ValueError, UnsupportedAlgorithm) as exc:
        return f"the signature cannot be checked ({exc})"
    return None


def _dates(cert: x509.Certificate, info, at: datetime | None) -> str | None:
    attrs = info["signed_attrs"]
    signed_at = next((a["values"][0].native for a in attrs if a["type"].native == "signing_time"), None) if (
        attrs.native is not None) else None
    when = (signed_at.astimezone(UTC).replace(tzinfo=None) if signed_at else at) or datetime.now(UTC).replace(tzinfo=None)
    if when > cert.not_valid_after_utc.replace(tzinfo=None):
        return f"the signer's certificate had expired ({cert.not_valid_after_utc:%Y-%m-%d}) when it was signed"
    if when < cert.not_valid_before_utc.replace(tzinfo=None):
        return f"the signer's certificate was not yet valid ({cert.not_valid_before_utc:%Y-%m-%d}) when it was signed"
    return None


def _bound(signer: Signer, sender: str | None) -> str | None:
    """Direct binds a certificate to an address or a domain: the sender must be one of them."""
    if not sender or not signer.addresses:
        return None if sender is None else "the signer's certificate names no address or domain"
    domain = sender.rsplit("@", 1)[-1]
    if sender in signer.addresses or domain in signer.addresses:
        return None
    return f"the signer's certificate is for {', '.join(signer.addresses)}, not the sender {sender}"
