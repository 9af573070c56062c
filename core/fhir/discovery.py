"""Discovery: what an endpoint is and offers, fetched with httpx2. The CapabilityStatement
(or DSTU2 Conformance) from /metadata, the SMART configuration from
/.well-known/smart-configuration (else the CapabilityStatement's oauth-uris), the server's
software and version, and its TLS certificate's expiry (read even when it is not trusted,
so an expired or self-signed certificate is shown rather than hidden behind an error)."""
from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from cryptography import x509

from core.fhir.capability import read_capability
from core.fhir.client import FhirClient, FhirError


@dataclass
class Discovery:
    capability: dict | None = None
    smart_config: dict | None = None
    fhir_version: str | None = None
    software: str | None = None
    cert_expires_at: datetime | None = None
    problems: list[str] = field(default_factory=list)


def discover(client: FhirClient) -> Discovery:
    found = Discovery()
    try:
        found.capability = client.json("metadata", anonymous=True)
    except FhirError as exc:
        found.problems.append(f"metadata: {exc}")
    if found.capability:
        cap = read_capability(found.capability)
        found.fhir_version = cap.fhir_version
        found.software = " ".join(filter(None, [cap.software, cap.software_version])) or None
        found.problems += [f"metadata: {n}" for n in cap.notes]
    try:
        found.smart_config = client.json(".well-known/smart-configuration", anonymous=True,
                                         headers={"Accept": "application/json"})
    except FhirError as exc:
        uris = read_capability(found.capability).oauth_uris if found.capability else {}
        if uris:
            found.smart_config = {"token_endpoint": uris.get("token"), "authorization_endpoint": uris.get("authorize"),
                                  "_from": "CapabilityStatement oauth-uris"}
        elif client.endpoint.get("auth") not in (None, "none", "bearer"):
            found.problems.append(f"smart-configuration: {exc}")
    found.cert_expires_at, problem = certificate_expiry(client.base)
    if problem:
        found.problems.append(problem)
    return found


def certificate_expiry(url: str, timeout: float = 10.0) -> tuple[datetime | None, str | None]:
    """(when the server's TLS certificate expires, a problem) for an https URL; (None, None) for http."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return None, None
    host, port = parts.hostname, parts.port or 443
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # to read it, trusted or not
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw, ctx.wrap_socket(raw, server_hostname=host) as tls:
            der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as exc:
        return None, f"certificate: could not read it ({type(exc).__name__})"
    expires = x509.load_der_x509_certificate(der).not_valid_after_utc.replace(tzinfo=None)
    if expires < datetime.now(UTC).replace(tzinfo=None):  # the store keeps naive UTC
        return expires, f"certificate: expired on {expires:%Y-%m-%d}"
    return expires, None
