"""The practice's Direct certificates and private keys: the certificate (public) in the
store, the private key in the OS keyring, named by the address it belongs to. Read once
per batch that holds a message still sealed."""
from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from sqlalchemy import delete, insert, select

from core import secrets
from core.direct.smime import Key
from core.store.db import Tx
from core.store.models import DirectKey

K = DirectKey.__table__
SECRET = "private_key"


class KeyFileError(ValueError):
    """A key file that cannot be used; the message says why."""


def owner(address: str) -> str:
    return f"direct:{address}"


def read_files(*, p12: bytes | None = None, password: str | None = None, cert: bytes | None = None,
               key: bytes | None = None) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A certificate and its private key from a PKCS#12 file, or from PEM (or DER) files."""
    try:
        if p12 is not None:
            private, certificate, _ = pkcs12.load_key_and_certificates(p12, password.encode() if password else None)
        else:
            certificate = (x509.load_pem_x509_certificate(cert) if b"-----BEGIN" in cert
                           else x509.load_der_x509_certificate(cert))
            private = (serialization.load_pem_private_key(key, password.encode() if password else None)
                       if b"-----BEGIN" in key else serialization.load_der_private_key(key, password.encode() if password else None))
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"the files cannot be read as a certificate and its key ({exc})") from None
    if certificate is None or private is None:
        raise KeyFileError("the file holds no certificate with its private key")
    if not isinstance(private, rsa.RSAPrivateKey):
        raise KeyFileError("Direct encrypts to RSA keys; this key is not one")
    if private.public_key().public_numbers() != certificate.public_key().public_numbers():
        raise KeyFileError("the private key does not belong to the certificate")
    return certificate, private


def add(conn: Tx, address: str, certificate: x509.Certificate, private: rsa.RSAPrivateKey, now: datetime) -> dict:
    row = {"address": address, "subject": certificate.subject.rfc4514_string(),
           "issuer": certificate.issuer.rfc4514_string(), "serial": f"{certificate.serial_number:x}",
           "not_after": certificate.not_valid_after_utc.replace(tzinfo=None),
           "certificate": certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"), "created_at": now}
    conn.execute(delete(K).where(K.c.address == address))
    conn.execute(insert(K), row)
    secrets.put(owner(address), SECRET, private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode("ascii"))
    return {k: v for k, v in row.items() if k != "certificate"}


def remove(conn: Tx, address: str) -> dict | None:
    row = conn.execute(select(K.c.address, K.c.subject, K.c.serial).where(K.c.address == address)).first()
    if row is not None:
        conn.execute(delete(K).where(K.c.address == address))
        secrets.delete(owner(address), SECRET)
    return row._asdict() if row else None


def every(conn: Tx) -> list[dict]:
    return [r._asdict() for r in conn.execute(select(K.c.address, K.c.subject, K.c.issuer, K.c.serial, K.c.not_after,
                                                     K.c.created_at).order_by(K.c.address))]


def load(conn: Tx) -> list[Key]:
    """Every certificate whose private key the keyring still holds."""
    out = []
    for r in conn.execute(select(K.c.address, K.c.certificate)):
        try:
            pem = secrets.get(owner(r.address), SECRET)
        except secrets.SecretStoreError:  # no keyring on this machine: the message stays sealed, and says so
            return []
        if pem:
            out.append(Key(r.address, x509.load_pem_x509_certificate(r.certificate.encode()),
                           serialization.load_pem_private_key(pem.encode(), None)))
    return out
