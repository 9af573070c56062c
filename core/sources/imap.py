"""An IMAP mailbox as a source (a Direct edge account, or the folder a HISP delivers to):
new messages by UID, read-only (nothing is marked, moved or deleted), stored as mail files'
messages are (core.message_rows.mail_row), resumable from the last UID taken.

A message's place in its source is its UID, and the source is named with the folder's
UIDVALIDITY: when the server renumbers the folder (a new UIDVALIDITY), reading starts again
in a new source, and what was stored before stays. Each chunk of messages commits with the
source's offset, so a kill or a lost connection resumes after the last chunk stored. TLS
is verified (an optional CA file); the password comes from the keyring and goes nowhere else.
"""
from __future__ import annotations

import imaplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from core import secrets
from core.ingest import stamp, store_rows, utcnow
from core.labels import connection_problem
from core.message_rows import mail_row
from core.store import audit, mailboxes, sources
from core.store.db import Store
from core.store.pairing import Pairing
from core.vocabulary import AuditAction

CHUNK = 100  # messages fetched and committed at a time
ACTOR = "lanewatch mailbox reader"
PORTS = {"ssl": 993, "starttls": 143, "none": 143}


class MailboxError(Exception):
    """A mailbox that cannot be read now, in words a person can act on."""


def owner(name: str) -> str:
    return f"mailbox:{name}"


@dataclass
class MailboxPoll:
    name: str
    stored: int = 0
    queued: int = 0
    problem: str | None = None


def connect(box: dict, password: str, *, timeout: float = 20.0) -> imaplib.IMAP4:
    """Signed in and the folder selected read-only (raises MailboxError)."""
    where = f"{box['host']}:{box['port']}"
    try:
        context = ssl.create_default_context(cafile=box.get("ca_file") or None)
        if box["security"] == "ssl":
            imap = imaplib.IMAP4_SSL(box["host"], box["port"], ssl_context=context, timeout=timeout)
        else:
            imap = imaplib.IMAP4(box["host"], box["port"], timeout=timeout)
            if box["security"] == "starttls":
                imap.starttls(context)
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
        words = connection_problem(exc) if isinstance(exc, OSError) else str(exc)
        hint = "; give the server's CA certificate with --ca-file" if "not trusted" in words else ""
        raise MailboxError(f"the mailbox server at {where} cannot be reached: {words}{hint}") from None
    try:
        imap.login(box["username"], password)
    except imaplib.IMAP4.error as exc:
        _close(imap)
        raise MailboxError(f"the server at {where} refused the sign-in as {box['username']}: "
                           f"{_said(exc) or 'wrong user name or password'}") from None
    except OSError as exc:
        raise MailboxError(f"the mailbox server at {where} dropped the connection: {connection_problem(exc)}") from None
    status, _ = imap.select(_quoted(box["folder"]), readonly=True)
    if status != "OK":
        _close(imap)
        raise MailboxError(f"there is no folder {box['folder']!r} in {box['username']}'s mailbox at {where}")
    return imap


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _said(exc: BaseException) -> str:
    text = str(exc.args[0] if exc.args else exc)
    return text.removeprefix("b'").removeprefix('b"').rstrip("'\"").strip()


def _close(imap: imaplib.IMAP4) -> None:
    try:
        imap.logout()
    except (OSError, imaplib.IMAP4.error):
        pass


class MailboxReader:
    def __init__(self, store: Store, box: dict, *, now: Callable[[], datetime] = utcnow, chunk: int = CHUNK) -> None:
        self.store, self.box, self.now, self.chunk = store, box, now, chunk

    def run(self) -> MailboxPoll:
        out = MailboxPoll(self.box["name"])
        password = secrets.get(owner(self.box["name"]), "mailbox_password")
        try:
            if password is None:
                raise MailboxError(f"no password is kept for {self.box['name']}: set it with 'lanewatch mailbox set "
                                   f"{self.box['name']} --password-stdin'")
            imap = connect(self.box, password)
            try:
                self._read(imap, out)
            finally:
                _close(imap)
        except MailboxError as exc:
            out.problem = str(exc)
        except (OSError, imaplib.IMAP4.error) as exc:  # the connection went in the middle: what was stored stays
            out.problem = f"the mailbox server dropped the connection while reading: {connection_problem(exc) if isinstance(exc, OSError) else _said(exc)}"
        with self.store.begin() as conn:
            mailboxes.change(conn, self.box["id"], checked_at=self.now(), problem=out.problem)
        return out

    def _read(self, imap: imaplib.IMAP4, out: MailboxPoll) -> None:
        validity = (imap.response("UIDVALIDITY")[1] or [b"0"])[-1].decode()
        name = f"imap://{self.box['username']}@{self.box['host']}:{self.box['port']}/{self.box['folder']};UIDVALIDITY={validity}"
        pairing = Pairing(self.now)
        with self.store.begin() as conn:
            src = sources.named(conn, name, "imap", self.now())
            pairing.load(conn)
        last = int(src["offset"])
        status, found = imap.uid("SEARCH", None, f"UID {last + 1}:*")
        if status != "OK":
            raise MailboxError(f"the server would not list the folder's messages: {found}")
        uids = sorted(u for u in map(int, (found[0] or b"").split()) if u > last)  # "n:*" gives the last one when none is new
        for start in range(0, len(uids), self.chunk):
            part = uids[start:start + self.chunk]
            fetched = self._fetch(imap, part)
            now = self.now()
            rows = [stamp(mail_row(raw, uid), src["id"], "imap", self.box["name"], now) for uid, raw in fetched]
            with self.store.begin() as conn:
                stored = store_rows(conn, rows, pairing, now)
                sources.advance(conn, src["id"], part[-1], now)
                if rows:
                    audit.append(conn, actor=ACTOR, action=AuditAction.READ_MAILBOX, at=now, after={
                        "mailbox": self.box["name"], "messages": len(rows), "uids": [part[0], part[-1]]})
            out.stored += len(rows)
            out.queued += stored.queued

    @staticmethod
    def _fetch(imap: imaplib.IMAP4, uids: list[int]) -> list[tuple[int, bytes]]:
        status, data = imap.uid("FETCH", ",".join(map(str, uids)), "(UID BODY.PEEK[])")
        if status != "OK":
            raise MailboxError(f"the server would not give messages {uids[0]}..{uids[-1]}: {data}")
        out = []
        for item in data:
            if isinstance(item, tuple) and b"UID " in item[0]:
                uid = int(item[0].split(b"UID ", 1)[1].split()[0].rstrip(b")"))
                out.append((uid, item[1]))
        return sorted(out)


def probe(box: dict, password: str, timeout: float = 20.0) -> None:
    """Sign in and select the folder, then leave (raises MailboxError)."""
    _close(connect(box, password, timeout=timeout))



