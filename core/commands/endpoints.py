"""Configuring FHIR endpoints, discovering them and probing them. A configuration change is
audited (secrets are named, never recorded); secrets go to the OS keyring."""
from __future__ import annotations

import webbrowser
from collections.abc import Callable
from urllib.parse import urlsplit

from core import secrets
from core.changes import Changes
from core.commands.context import CommandError, Context
from core.fhir.auth import ALGS, METHODS, AuthError, owner
from core.fhir.bulk import Job
from core.fhir.client import FhirClient
from core.fhir.discovery import discover
from core.fhir.health import Probe, probe_many
from core.signatures import Signature, normalise
from core.store import audit, endpoints, queue, sources
from core.vocabulary import AuditAction, Lane, QueueKind

AUDIENCES = ("patient", "provider", "backend")
SETTINGS = ("base_url", "auth", "client_id", "token_url", "alg", "key_id", "audience", "scopes_requested",
            "scopes_needed", "probe_path", "write_enabled", "contracted_writes")
WRITE_INTERACTIONS = ("create", "update", "patch", "delete")
ENDPOINTS = Changes(endpoints=True, audit=True)
SECRET_FOR = {"bearer": "bearer_token", "backend": "private_key", "client_secret_basic": "client_secret",
              "client_secret_post": "client_secret"}


class ConfigureEndpoint:
    changes = ENDPOINTS

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(self, name: str, *, secret: str | None = None, **settings) -> dict:
        """Add the endpoint called `name`, or change the settings given (None leaves one alone,
        "" clears it); `secret` (the client secret, private key PEM or bearer token, by auth
        method) goes to the keyring."""
        unknown = set(settings) - set(SETTINGS)
        if unknown:
            raise CommandError(f"Unknown endpoint settings: {', '.join(sorted(unknown))}.")
        given = {k: v if isinstance(v, bool) else v or None for k, v in settings.items() if v is not None}
        with self.ctx.store.begin() as conn:
            row = endpoints.find(conn, name)
            before = {k: getattr(row, k) for k in SETTINGS} if row else None
            after = {**(before or {"auth": "none", "audience": "provider", "write_enabled": False}), **given}
            self._check(after, secret)
            if row is None:
                endpoint_id = endpoints.add(conn, {"name": name, **{k: after.get(k) for k in SETTINGS},
                                                   "created_at": self.ctx.now()})
            else:
                endpoint_id = row.id
                endpoints.change(conn, endpoint_id, **given)
            if secret:
                kind = SECRET_FOR[after["auth"]]
                secrets.put(owner({"name": name}), kind, secret)
                after = {**after, "secret": f"{kind} stored in the OS keyring"}
            audit.append(conn, actor=self.ctx.who(conn), action=AuditAction.CONFIGURE_ENDPOINT, at=self.ctx.now(),
                         before=before and {"endpoint": name, **before}, after={"endpoint": name, **after})
        return {"id": endpoint_id, "name": name, **after}

    @staticmethod
    def _check(s: dict, secret: str | None) -> None:
        if not s.get("base_url") or not str(s["base_url"]).startswith(("http://", "https://")):
            raise CommandError("The base URL must start with https:// (or http:// for a test server).")
        for what in ("base_url", "token_url"):
            parts = urlsplit(str(s.get(what) or ""))
            if parts.username or parts.password:  # never stored, listed or audited: nothing of it is kept
                raise CommandError(f"The {what.replace('_', ' ')} holds a user name or password; nothing was saved. Give "
                                   "it without them (https://host/path); a secret goes to the keyring with --secret-stdin.")
        if s["auth"] not in METHODS:
            raise CommandError(f"The auth method is one of: {', '.join(METHODS)}.")
        if s.get("audience") not in AUDIENCES:
            raise CommandError(f"The audience is one of: {', '.join(AUDIENCES)}.")
        if s["auth"] not in ("none", "bearer") and not s.get("client_id"):
            raise CommandError(f"{s['auth']} needs a client ID.")
        if s["auth"] == "backend" and (s.get("alg") or "RS384") not in ALGS:
            raise CommandError(f"Backend services sign with {' or '.join(ALGS)}.")
        if secret and s["auth"] not in SECRET_FOR:
            raise CommandError(f"{s['auth']} keeps no secret.")
        for w in s.get("contracted_writes") or []:
            rtype, _, kind = str(w).partition(".")
            if not rtype[:1].isupper() or not rtype.isalpha() or (kind and kind not in WRITE_INTERACTIONS):
                raise CommandError(f"A contracted write is a resource type (DocumentReference) or a type and one of "
                                   f"{', '.join(WRITE_INTERACTIONS)} (Observation.create); {w!r} is neither.")


class RemoveEndpoint:
    """Take an endpoint away: its row, its probe history and its secrets in the keyring. What
    it was (without any secret) stays in the audit trail."""

    changes = ENDPOINTS

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(self, name: str) -> None:
        with self.ctx.store.begin() as conn:
            row = endpoints.find(conn, name)
            if row is None:
                raise CommandError(f"There is no endpoint called {name!r}.")
            endpoints.remove(conn, row.id)
            audit.append(conn, actor=self.ctx.who(conn), action=AuditAction.REMOVE_ENDPOINT, at=self.ctx.now(),
                         before={"endpoint": name, **{k: getattr(row, k) for k in SETTINGS}})
        for kind in set(SECRET_FOR.values()) | {"refresh_token"}:
            secrets.delete(owner({"name": name}), kind)


class Discover:
    changes = Changes(endpoints=True)

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(self, name: str) -> dict:
        endpoint = _endpoint(self.ctx, name)
        with FhirClient(endpoint) as client:
            found = discover(client)
        endpoints.save_discovery(self.ctx.store, endpoint["id"], found, self.ctx.now())
        return endpoints.get(self.ctx.store, endpoint["id"])


class SignIn:
    """SMART standalone launch: a person signs in in the system browser; the refresh token
    goes to the keyring (probes renew with it) and what was granted is recorded."""

    changes = ENDPOINTS

    def __init__(self, ctx: Context, authorize: Callable[[str], object] = webbrowser.open) -> None:
        self.ctx, self.authorize = ctx, authorize

    def run(self, name: str) -> str:
        """The scopes granted ("" when the server did not say)."""
        endpoint = _endpoint(self.ctx, name)
        if endpoint["auth"] != "standalone":
            raise CommandError(f"{name} does not use standalone launch (its auth is {endpoint['auth']}).")
        secrets.delete(owner(endpoint), "refresh_token")  # a fresh sign-in, not a renewal
        with FhirClient(endpoint, authorize=self.authorize) as client:
            try:
                token = client.tokens.current()
            except AuthError as exc:
                raise CommandError(f"Sign-in failed: {exc}") from None
        with self.ctx.store.begin() as conn:
            endpoints.change(conn, endpoint["id"], scopes_granted=token.scope)
            audit.append(conn, actor=self.ctx.who(conn), action=AuditAction.SIGN_IN_ENDPOINT, at=self.ctx.now(),
                         after={"endpoint": name, "granted": token.scope})
        return token.scope or ""


class ProbeEndpoints:
    changes = Changes(endpoints=True)

    def __init__(self, ctx: Context, timeout: float = 15.0) -> None:
        self.ctx, self.timeout = ctx, timeout

    def run(self, names: list[str] | None = None) -> list[tuple[dict, Probe]]:
        """Probe the named endpoints (all when none is named) at once; each result is stored."""
        chosen = [_endpoint(self.ctx, n) for n in names] if names else endpoints.every(self.ctx.store)
        results = probe_many(chosen, timeout=self.timeout)
        for endpoint, result in zip(chosen, results):
            endpoints.record_probe(self.ctx.store, endpoint["id"], result, self.ctx.now())
        return list(zip(chosen, results))


def _endpoint(ctx: Context, name: str) -> dict:
    endpoint = endpoints.get(ctx.store, name)
    if endpoint is None:
        raise CommandError(f"No endpoint called {name!r}: add it with 'lanewatch endpoint add'.")
    return endpoint


def queue_bulk_errors(ctx: Context, endpoint: str, job: Job) -> int:
    """Each OperationOutcome of a bulk export's error files (or its failure) becomes a queue item."""
    texts = job.errors + ([job.problem] if job.state == "failed" and job.problem else [])
    now = ctx.now()
    with ctx.store.begin() as conn:
        src = sources.named(conn, f"FHIR bulk export {endpoint}: {job.status_url}", "fhir", now)
        return queue.add(conn, [queue.new(QueueKind.FHIR_BULK_ERROR, f"Bulk export from {endpoint}: {text}",
                                          Signature(QueueKind.FHIR_BULK_ERROR, endpoint, normalise(text)),
                                          message_id=None, source_id=src["id"], now=now, lane=Lane.BULK) for text in texts])
