"""Configuring IMAP mailboxes and reading them. Adding one signs in and opens its folder
first, so a wrong password, an untrusted certificate or a missing folder is said before
anything is saved. The password goes to the keyring; a change is audited (the password
named, never recorded)."""
from __future__ import annotations

from core import secrets
from core.changes import Changes
from core.commands.context import CommandError, Context
from core.sources.imap import PORTS, MailboxError, MailboxPoll, MailboxReader, owner, probe
from core.store import audit, direct, mailboxes
from core.vocabulary import AuditAction

MAILBOXES = Changes(audit=True)
READ = Changes(messages=True, queue=True, interfaces=True, audit=True)
SECRET = "mailbox_password"
SUBMISSION_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


class ConfigureMailbox:
    changes = MAILBOXES

    def __init__(self, ctx: Context, *, timeout: float = 20.0) -> None:
        self.ctx, self.timeout = ctx, timeout

    def run(self, name: str, *, password: str | None = None, check: bool = True, **settings) -> dict:
        """Add the mailbox called `name`, or change what is given (None leaves a setting alone)."""
        given = {k: (v or None) if k in ("ca_file", "smtp_host") else v for k, v in settings.items() if v is not None}
        if set(given) - set(mailboxes.SETTINGS):
            raise CommandError(f"Unknown mailbox settings: {', '.join(sorted(set(given) - set(mailboxes.SETTINGS)))}.")
        with self.ctx.store.read() as conn:
            row = mailboxes.find(conn, name)
        before = {k: getattr(row, k) for k in mailboxes.SETTINGS} if row else None
        after = {**(before or {"security": "ssl", "folder": "INBOX", "ca_file": None, "smtp_host": None, "smtp_port": None,
                               "smtp_security": None, "writes_enabled": False}), **given}
        after["port"] = after.get("port") or PORTS.get(after["security"], 993)
        if after.get("smtp_host"):
            after["smtp_security"] = after.get("smtp_security") or "starttls"
            after["smtp_port"] = after.get("smtp_port") or SUBMISSION_PORTS.get(after["smtp_security"], 587)
        self._check(name, after, row is None, password)
        if check:
            try:
                probe(after, password or secrets.get(owner(name), SECRET) or "", self.timeout)
            except MailboxError as exc:
                raise CommandError(f"Nothing was saved: {exc}.") from None
        with self.ctx.store.begin() as conn:
            values = {k: after[k] for k in mailboxes.SETTINGS}
            if row is None:
                box_id = mailboxes.add(conn, {"name": name, **values, "created_at": self.ctx.now()})
            else:
                box_id = row.id
                mailboxes.change(conn, box_id, **values)
            shown = dict(after)
            if password:
                secrets.put(owner(name), SECRET, password)
                shown["password"] = "stored in the OS keyring"
            audit.append(conn, actor=self.ctx.who(conn), action=AuditAction.CONFIGURE_MAILBOX, at=self.ctx.now(),
                         before=before and {"mailbox": name, **before}, after={"mailbox": name, **shown})
        return {"id": box_id, "name": name, **after}

    @staticmethod
    def _check(name: str, s: dict, new: bool, password: str | None) -> None:
        if not name.strip() or len(name) > 200:
            raise CommandError("Give the mailbox a short name (what the console and the queue will call it).")
        if not s.get("host") or "/" in str(s["host"]) or "@" in str(s["host"]):
            raise CommandError("The mailbox's server is a host name (imap.hisp.example), without a scheme or a user.")
        if s["security"] not in PORTS:
            raise CommandError("The connection is one of: ssl (993), starttls (143), none (a test server on this machine).")
        if not 1 <= int(s["port"]) <= 65535:
            raise CommandError("The port is between 1 and 65535.")
        if not s.get("username"):
            raise CommandError("Name the mailbox's user with --user.")
        if s.get("smtp_security") and s["smtp_security"] not in SUBMISSION_PORTS:
            raise CommandError("The SMTP connection is one of: starttls (587), ssl (465), none (a test server on this machine).")
        if s.get("writes_enabled") and not s.get("smtp_host"):
            raise CommandError("Writes can be enabled only for a mailbox with an SMTP submission server (--smtp-host).")
        if new and not password:
            raise CommandError("Give the mailbox password on standard input (--password-stdin); it is kept in the OS keyring.")


class RemoveMailbox:
    """The mailbox's settings and password go; what was read from it stays, as every message does."""

    changes = MAILBOXES

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(self, name: str) -> None:
        with self.ctx.store.begin() as conn:
            row = mailboxes.find(conn, name)
            if row is None:
                raise CommandError(f"There is no mailbox called {name!r}.")
            mailboxes.remove(conn, row.id)
            audit.append(conn, actor=self.ctx.who(conn), action=AuditAction.REMOVE_MAILBOX, at=self.ctx.now(),
                         before={"mailbox": row.name, **{k: getattr(row, k) for k in mailboxes.SETTINGS}})
        secrets.delete(owner(name), SECRET)


class ReadMailboxes:
    """Read what is new in the mailboxes (all, or those named)."""

    changes = READ

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(self, names: list[str] | None = None) -> list[MailboxPoll]:
        chosen = []
        for n in names or []:
            box = mailboxes.get(self.ctx.store, n)
            if box is None:
                raise CommandError(f"There is no mailbox called {n!r} (see `lanewatch mailbox list`).")
            chosen.append(box)
        results = [MailboxReader(self.ctx.store, box, now=self.ctx.now).run()
                   for box in (chosen or mailboxes.every(self.ctx.store))]
        with self.ctx.store.begin() as conn:  # deliveries whose notice is now overdue
            direct.sweep(conn, self.ctx.now())
        return results
