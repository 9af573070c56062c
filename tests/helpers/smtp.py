"""A HISP's SMTP submission server on loopback (aiosmtpd, on its own thread): STARTTLS with
a certificate of its own, sign-in required, and ways to misbehave on purpose (a refused
recipient, a final reply that never comes)."""
from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.helpers.net import free_port

USER, PASSWORD = "referrals@direct.ourclinic.example", "hisp-secret-7"


@dataclass
class Hisp:
    refuse: set[str] = field(default_factory=set)  # recipients answered 550
    silent_for: float = 0.0  # seconds to wait before the final reply to DATA
    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)  # (MAIL FROM, RCPT TO, bytes)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        if self.silent_for:
            await asyncio.sleep(self.silent_for)
        return "250 2.0.0 Ok: queued as 4F2A1"


def _certificate(folder):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (folder / "hisp.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "hisp.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
    return folder / "hisp.pem", folder / "hisp.key"


def _authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login.decode(), auth_data.password.decode()) == (USER, PASSWORD)
    return AuthResult(success=ok, handled=False)


class SmtpServer:
    """Started with `start()`; `port`, `ca_file` and `hisp` for the test; `stop()` after."""

    def __init__(self, folder) -> None:
        cert, key = _certificate(folder)
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(cert, key)
        self.ca_file, self.port, self.hisp = str(cert), free_port(), Hisp()
        self.controller = Controller(self.hisp, hostname="localhost", port=self.port, tls_context=tls,
                                     require_starttls=True, authenticator=_authenticate, auth_require_tls=True,
                                     server_hostname="localhost", ready_timeout=10)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
