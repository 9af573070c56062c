"""Requests to a FHIR endpoint over httpx2, with its token: a 401 renews the token once, a
429 or 503 waits as Retry-After asks (within a limit), and every failure comes back as
words a person can act on (FhirError), never as a traceback."""
from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from functools import cache

import httpx2

from core.fhir.auth import AuthError, TokenSource
from core.fhir.outcome import describe, retry_after_s
from core.labels import connection_problem

FHIR_JSON = "application/fhir+json"
WAIT_LIMIT_S = 30.0  # longer waits than this are reported, not slept through
RETRIES = 3


@cache
def system_tls() -> ssl.SSLContext:
    """The system's trust store, loaded once: loading it costs ~20 ms of CPU under the GIL
    per client, which 20 probes at once turned into a visible stall of the window."""
    return httpx2.create_ssl_context()


class FhirError(RuntimeError):
    def __init__(self, text: str, status: int | None = None) -> None:
        super().__init__(text)
        self.status = status


class FhirClient:
    def __init__(self, endpoint: dict, *, timeout: float = 15.0, verify: ssl.SSLContext | None = None,
                 authorize: Callable[[str], object] | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.endpoint = endpoint
        self.base = endpoint["base_url"].rstrip("/") + "/"
        verify = verify or system_tls()  # verified by default, always (DESIGN.md, safety rules)
        self.http = httpx2.Client(timeout=timeout, verify=verify, headers={"Accept": FHIR_JSON},
                                  follow_redirects=True)
        token_url = endpoint.get("token_url") or (endpoint.get("smart_config") or {}).get("token_endpoint")
        self.tokens = TokenSource(endpoint, token_url, http_options={"timeout": timeout, "verify": verify},
                                  authorize=authorize)
        self.sleep = sleep

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> FhirClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base + path.lstrip("/")

    def get(self, path: str, *, params: dict | None = None, anonymous: bool = False,
            headers: dict | None = None) -> httpx2.Response:
        """GET with the endpoint's token (none when `anonymous`); returns any final answer,
        success or not; raises FhirError when there is none (no connection, no token)."""
        renewed = False
        for attempt in range(RETRIES + 1):
            sent = dict(headers or {})
            if not anonymous:
                try:
                    token = self.tokens.current()
                except AuthError as exc:
                    raise FhirError(f"no access token: {exc}") from None
                if token is not None:
                    sent["Authorization"] = f"Bearer {token.access_token}"
            try:
                response = self.http.get(self.url(path), params=params, headers=sent)
            except httpx2.TimeoutException:
                raise FhirError(f"no answer from {self.base} within {self.http.timeout.read:.0f} s") from None
            except httpx2.HTTPError as exc:
                raise FhirError(f"could not reach {self.base}: {connection_problem(exc)}") from None
            if response.status_code == 401 and not anonymous and not renewed and self.tokens.method != "none":
                self.tokens.expire()
                renewed = True
                continue
            wait = retry_after_s(response) if response.status_code in (429, 503) else None
            if wait is not None and wait <= WAIT_LIMIT_S and attempt < RETRIES:
                self.sleep(wait)
                continue
            return response
        return response

    def json(self, path: str, **kw) -> dict:
        """GET a JSON document; a failure raises FhirError with the answer in words."""
        response = self.get(path, **kw)
        if not response.is_success:
            raise FhirError(describe(response), response.status_code)
        try:
            doc = response.json()
        except ValueError:
            raise FhirError(f"{path}: the answer is not JSON ({response.headers.get('Content-Type', 'no type')})") from None
        if not isinstance(doc, dict):
            raise FhirError(f"{path}: the answer is JSON but not an object")
        return doc
