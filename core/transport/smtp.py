"""SMTP submission of one message to a HISP (RFC 6409), each phase judged on its own so
a resend knows whether its message left this machine:

- anything that fails before the server answers DATA with 354 (connecting, TLS, signing
  in, a refused sender or recipient) means nothing was delivered: `failed` or `rejected`;
- once the message's bytes are on their way, only the server's final reply says: 250 is
  `accepted`, 5xx `rejected`, 4xx `error` (try later); no reply is `unknown`.
The server is verified over TLS (STARTTLS or implicit TLS); `none` is for a test server on
this machine only.
"""
from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass

_EOL = re.compile(rb"\r\n|\r(?!\n)|\n")
_DOT = re.compile(rb"(?m)^\.")


@dataclass(frozen=True)
class Submission:
    host: str
    port: int
    security: str  # starttls, ssl, none
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None


def wire(raw: bytes) -> bytes:
    """A message as SMTP carries it: CRLF line ends, ending with one."""
    out = _EOL.sub(b"\r\n", raw)
    return out if out.endswith(b"\r\n") else out + b"\r\n"


def submit(to: Submission, sender: str, recipients: list[str], raw: bytes, timeout: float = 30.0) -> tuple[str, str]:
    """(state, words) of handing `raw` (already `wire`) to the server for `recipients`."""
    try:
        context = ssl.create_default_context(cafile=to.ca_file) if to.security != "none" else None
        if to.security == "ssl":
            client = smtplib.SMTP_SSL(to.host, to.port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(to.host, to.port, timeout=timeout)
    except (OSError, smtplib.SMTPException) as exc:
        return "failed", f"the HISP's server cannot be reached ({_words(exc)}); the message did not leave this machine"
    try:
        return _session(client, context, to, sender, recipients, raw)
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


def _session(client: smtplib.SMTP, context, to: Submission, sender: str, recipients: list[str],
             raw: bytes) -> tuple[str, str]:
    try:
        client.ehlo()
        if to.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if to.username and to.password:
            client.login(to.username, to.password)
        code, words = client.mail(sender)
        if code != 250:
            return _refused(code, f"the sender {sender}", words)
        for r in recipients:
            code, words = client.rcpt(r)
            if code not in (250, 251):
                client.rset()
                return _refused(code, f"the recipient {r}", words)
        code, words = client.docmd("DATA")
        if code != 354:
            return _refused(code, "the message (DATA)", words)
    except smtplib.SMTPAuthenticationError as exc:
        return "failed", f"the HISP refused the mailbox's user and password ({_words(exc)}); nothing was sent"
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        return "failed", f"the session with the HISP failed before the message went ({_words(exc)}); nothing was sent"
    try:
        client.send(_DOT.sub(b"..", raw) + b".\r\n")
        code, words = client.getreply()
    except (OSError, smtplib.SMTPException) as exc:
        return "unknown", (f"the connection ended while the message was being handed over ({_words(exc)}): whether the "
                           "HISP has it is unknown")
    said = words.decode("utf-8", "replace")
    if code == 250:
        return "accepted", f"the HISP accepted it ({code} {said})"
    return ("rejected" if code >= 500 else "error"), f"the HISP answered {code} {said}"


def _refused(code: int, what: str, words: bytes) -> tuple[str, str]:
    state = "rejected" if code >= 500 else "failed"
    return state, f"the HISP refused {what}: {code} {words.decode('utf-8', 'replace')}; nothing was sent"


def _words(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {exc.smtp_error.decode('utf-8', 'replace') if isinstance(exc.smtp_error, bytes) else exc.smtp_error}"
    return str(exc) or type(exc).__name__
