"""Configuring interface engines and polling them. Adding one signs in first, so a wrong
password, an untrusted certificate, an API that does not answer or an engine version
Lanewatch cannot read is said before anything is saved. The password goes to the keyring;
a change is audited (the password named, never recorded)."""
from __future__ import annotations

import threading
from urllib.parse import urlsplit

from core import secrets
from core.changes import Changes
from core.commands.context import CommandError, Context
from core.engines.client import EngineClient, EngineError
from core.sources.engine import EnginePoll, Poller, open_client, owner
from core.store import audit, engines
from core.vocabulary import AuditAction

ENGINES = Changes(interfaces=True, audit=True)
POLLED = Changes(messages=True, queue=True, interfaces=True, audit=True)
LIMITS = {"rate": (0.0, 100.0), "concurrency": (1, 8), "page_size": (1, 1000)}


class ConfigureEngine:
    changes = ENGINES

    def __init__(self, ctx: Context, *, timeout: float = 20.0) -> None:
        self.ctx, self.timeout = ctx, timeout

    def run(self, name: str, *, password: str | None = None, check: bool = True, **settings) -> dict:
        """Add the engine called `name`, or change what is given (None leaves a setting alone;
        "" clears the CA file). The connection is tried with the settings before they are kept."""
        unknown = set(settings) - set(engines.SETTINGS)
        if unknown:
            raise CommandError(f"Unknown engine settings: {', '.join(sorted(unknown))}.")
        given = {k: (v or None) if k == "ca_file" else v for k, v in settings.items() if v is not None}
        with self.ctx.store.read() as conn:
            row = engines.find(conn, name)
        before = {k: getattr(row, k) for k in engines.SETTINGS} if row else None
        after = {**(before or {"write_enabled": False, "rate": 10.0, "concurrency": 2, "page_size": 50, "ca_file": None}),
                 **given}
        self._check(name, after, row is None, password)
        found = {}
        if check and (row is None or password or {"url", "username", "ca_file"} & set(given)):
            found = self._try(name, after, password or secrets.get(owner({"name": name}), "engine_password"))
        with self.ctx.store.begin() as conn:
            values = {**{k: after[k] for k in engines.SETTINGS}, **found}
            if row is None:
                engine_id = engines.add(conn, {"name": name, **values, "created_at": self.ctx.now()})
            else:
                engine_id = row.id
                engines.change(conn, engine_id, **values)
            shown = dict(after)
            if password:
                secrets.put(owner({"name": name}), "engine_password", password)
                shown["password"] = "stored in the OS keyring"
            audit.append(conn, actor=self.ctx.who(conn), action=AuditAction.CONFIGURE_ENGINE, at=self.ctx.now(),
                         before=before and {"engine": name, **before},
                         after={"engine": name, **shown, **{k: v for k, v in found.items() if k in ("version", "server_id")}})
        return {"id": engine_id, "name": name, **after, **found}

    @staticmethod
    def _check(name: str, s: dict, new: bool, password: str | None) -> None:
        if not name.strip() or len(name) > 200:
            raise CommandError("Give the engine a short name (what the console and the queue will call it).")
        url = str(s.get("url") or "")
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise CommandError("The engine's URL is https://HOST:PORT (8443 is Mirth's default), or http:// for a test engine.")
        if parts.username or parts.password:
            raise CommandError("The URL holds a user name or password; nothing was saved. Give it without them; the "
                               "password goes to the keyring with --password-stdin.")
        if not s.get("username"):
            raise CommandError("Name the engine's API user with --user.")
        if new and not password:
            raise CommandError("Give the API user's password on standard input (--password-stdin); it is kept in the OS keyring.")
        for key, (low, high) in LIMITS.items():
            if not low <= float(s[key]) <= high:
                raise CommandError(f"{key.replace('_', ' ')} is between {low:g} and {high:g}.")

    def _try(self, name: str, s: dict, password: str | None) -> dict:
        if not password:
            raise CommandError(f"No password is kept for {name}: give it with --password-stdin.")
        try:
            with EngineClient(s["url"], s["username"], password, ca_file=s.get("ca_file"), rate=0,
                              timeout=self.timeout) as client:
                client.sign_in()
                version = client.version()
                server_id = client.server_id()
        except EngineError as exc:
            words = str(exc)
            raise CommandError(f"Nothing was saved: {words}" + ("" if words.endswith(("?", ".")) else ".")) from None
        return {"version": version, "server_id": server_id, "checked_at": self.ctx.now(), "problem": None}


class RemoveEngine:
    """The engine's settings, channels' rows and password go; what was read from it stays in
    the store as every message does, and what it was stays in the audit trail."""

    changes = ENGINES

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(self, name: str) -> None:
        with self.ctx.store.begin() as conn:
            row = engines.find(conn, name)
            if row is None:
                raise CommandError(f"There is no engine called {name!r}.")
            engines.remove(conn, row.id)
            audit.append(conn, actor=self.ctx.who(conn), action=AuditAction.REMOVE_ENGINE, at=self.ctx.now(),
                         before={"engine": row.name, **{k: getattr(row, k) for k in engines.SETTINGS}})
        secrets.delete(owner({"name": name}), "engine_password")


class PollEngines:
    """Read what is new on the engines (all, or those named): channel states and counts, then messages."""

    changes = POLLED

    def __init__(self, ctx: Context, *, stop: threading.Event | None = None, max_windows: int | None = None) -> None:
        self.ctx, self.stop, self.max_windows = ctx, stop, max_windows

    def run(self, names: list[str] | None = None) -> list[EnginePoll]:
        chosen = [engine(self.ctx, n) for n in names] if names else engines.every(self.ctx.store)
        results = []
        for e in chosen:
            try:
                client = open_client(e)
            except EngineError as exc:
                results.append(EnginePoll(e["name"], problem=str(exc)))
                continue
            with client:
                results.append(Poller(self.ctx.store, e, client, now=self.ctx.now, stop=self.stop,
                                      max_windows=self.max_windows).run())
        return results


def engine(ctx: Context, name: str) -> dict:
    found = engines.get(ctx.store, name)
    if found is None:
        raise CommandError(f"No engine called {name!r}: add it with 'lanewatch engine add NAME URL --user USER --password-stdin'.")
    return found
