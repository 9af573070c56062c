"""Speaking to a Mirth Connect / Open Integration Engine / BridgeLink REST API over httpx2.

One session per client: `POST /api/users/_login` sets the session cookie, which lives in
this object only (never logged, stored or exported); an expired session is renewed once.
Every call carries `X-Requested-With` (the engine refuses calls without it) and asks for
XML. TLS is verified by default, against the engine's own CA file when one is configured.
Calls are paced (`rate` per second, shared by the threads that use the client) and counted
(`requests`). Failures come back as EngineError in words a person can act on; a write whose
request may have reached the engine says so (`maybe_done`), so it is never repeated silently.
"""
from __future__ import annotations

import ssl
import threading
import time
from urllib.parse import quote

import httpx2

from core.engines import xstream
from core.fhir.client import system_tls
from core.labels import connection_problem

SUPPORTED = ((3, 4), (5, 0))  # the REST API came with 3.4; 4.x, OIE 4.5 and BridgeLink 4.5 speak the same
HEADERS = {"X-Requested-With": "Lanewatch", "Accept": "application/xml"}
WAIT_LIMIT_S = 30.0


class EngineError(RuntimeError):
    def __init__(self, text: str, status: int | None = None, *, maybe_done: bool = False) -> None:
        super().__init__(text)
        self.status, self.maybe_done = status, maybe_done


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """The engine's CA file when it has one (a self-signed engine), else the system's trust store."""
    if not ca_file:
        return system_tls()
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise EngineError(f"the CA file {ca_file} cannot be used ({exc})") from None


def parse_version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.strip().split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


class Pace:
    """At most `rate` calls a second across threads (0: no pacing)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next)
            self._next = at + self.interval
        if at > now:
            time.sleep(at - now)


class EngineClient:
    def __init__(self, url: str, user: str, password: str, *, ca_file: str | None = None, rate: float = 10.0,
                 timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.api = self.url + "/api"
        self.user, self._password = user, password
        self.http = httpx2.Client(timeout=timeout, verify=tls_context(ca_file), headers=HEADERS)
        self.pace = Pace(rate)
        self.requests = 0
        self._count = threading.Lock()
        self._signed_in = False
        self._session = threading.Lock()

    def close(self) -> None:
        try:
            if self._signed_in:
                self._call("POST", "/users/_logout", sign_in=False)
        except EngineError:
            pass
        self.http.close()

    def __enter__(self) -> EngineClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the session --------------------------------------------------------------------
    def sign_in(self) -> None:
        with self._session:
            self._sign_in()

    def _sign_in(self) -> None:
        r = self._call("POST", "/users/_login", data={"username": self.user, "password": self._password}, sign_in=False,
                       ok=(200, 401, 403))
        status, words = ("", "")
        if r.content.lstrip().startswith(b"<"):
            status, words = xstream.login_status(r.content)
        if r.status_code in (401, 403) or (status and not status.startswith("SUCCESS")):
            raise EngineError(f"the engine refused the sign-in as {self.user}: wrong user name or password"
                              + (f" ({words})" if words else ""), r.status_code)
        self._signed_in = True

    def version(self) -> str:
        """The engine's version, checked against what Lanewatch can read."""
        text = self.get("/server/version", xml=False).text.strip()
        found = parse_version(text)
        if not found or not (SUPPORTED[0] <= found[:2] < SUPPORTED[1]):
            raise EngineError(f"the engine's version {text!r} is not supported: Lanewatch reads Mirth Connect 3.4 to 4.x, "
                              "Open Integration Engine and BridgeLink")
        return text

    def server_id(self) -> str:
        return self.get("/server/id", xml=False).text.strip()

    # -- reads --------------------------------------------------------------------------
    def channels(self) -> list[xstream.Channel]:
        return xstream.channels(self.get("/channels").content)

    def statuses(self) -> dict[str, xstream.Status]:
        return xstream.statuses(self.get("/channels/statuses").content)

    def statistics(self) -> dict[str, xstream.Statistics]:
        return xstream.statistics(self.get("/channels/statistics").content)

    def max_message_id(self, channel_id: str) -> int:
        value = xstream.scalar(self.get(f"/channels/{quote(channel_id)}/messages/maxMessageId").content)
        return int(value) if value and value.lstrip("-").isdigit() else 0

    def count(self, channel_id: str, low: int, high: int) -> int:
        value = xstream.scalar(self.get(f"/channels/{quote(channel_id)}/messages/count",
                                        params={"minMessageId": low, "maxMessageId": high}).content)
        return int(value) if value and value.isdigit() else 0

    def messages(self, channel_id: str, low: int, high: int, *, limit: int, offset: int = 0) -> list[xstream.EngineMessage]:
        """Messages with ids low..high, with their content; the engine lists them newest first."""
        return xstream.messages(self.messages_body(channel_id, low, high, limit=limit, offset=offset))

    def messages_body(self, channel_id: str, low: int, high: int, *, limit: int, offset: int = 0) -> bytes:
        """The same, as the engine's XML (to be read elsewhere: core.sources.engine_windows)."""
        return self.get(f"/channels/{quote(channel_id)}/messages", params={
            "minMessageId": low, "maxMessageId": high, "includeContent": "true", "limit": limit, "offset": offset}).content

    def message(self, channel_id: str, message_id: int) -> xstream.EngineMessage | None:
        r = self.get(f"/channels/{quote(channel_id)}/messages/{message_id}", ok=(200, 404))
        if r.status_code == 404 or not r.content.strip():
            return None
        return xstream.messages(r.content)[0]

    # -- writes (core.commands.engines gates them) --------------------------------------
    def reprocess(self, channel_id: str, message_id: int, destinations: list[int]) -> None:
        """Reprocess a stored message as it is, to these destinations only (a new message on the engine)."""
        params = [("replace", "false"), ("filterDestinations", "true")] + [("metaDataId", d) for d in destinations]
        self._call("POST", f"/channels/{quote(channel_id)}/messages/{message_id}/_reprocess", params=params, write=True,
                   ok=(200, 204))

    def process(self, channel_id: str, raw: str, destinations: list[int], original_id: int | None) -> int | None:
        """Send new raw content through a channel (a corrected message); the engine's new message id."""
        params = [("destinationMetaDataId", d) for d in destinations]
        if original_id is not None:
            params.append(("originalMessageId", original_id))
        r = self._call("POST", f"/channels/{quote(channel_id)}/messages", params=params, content=raw.encode("utf-8"),
                       headers={"Content-Type": "text/plain; charset=utf-8"}, write=True, ok=(200, 204))
        try:
            value = xstream.scalar(r.content) if r.content.strip() else None
        except xstream.XStreamError:
            return None
        return int(value) if value and value.isdigit() else None

    # -- one call -----------------------------------------------------------------------
    def get(self, path: str, *, params=None, xml: bool = True, ok=(200,)) -> httpx2.Response:
        return self._call("GET", path, params=params, ok=ok, headers=None if xml else {"Accept": "text/plain"})

    def _call(self, method: str, path: str, *, sign_in: bool = True, write: bool = False, ok=(200,), **kw) -> httpx2.Response:
        if sign_in and not self._signed_in:
            self.sign_in()
        for attempt in range(3):
            self.pace.wait()
            with self._count:
                self.requests += 1
            try:
                r = self.http.request(method, self.api + path, **kw)
            except httpx2.TimeoutException as exc:
                raise EngineError(self._unreachable(exc), maybe_done=write and not isinstance(exc, httpx2.ConnectTimeout)) from None
            except httpx2.TransportError as exc:
                raise EngineError(self._unreachable(exc), maybe_done=write and not isinstance(exc, httpx2.ConnectError)) from None
            if r.status_code == 401 and sign_in and attempt == 0:  # the session expired: sign in again, once
                with self._session:
                    self._signed_in = False
                    self._sign_in()
                continue
            if r.status_code in (429, 503) and not write and attempt < 2:
                wait = _retry_after(r)
                if wait is not None and wait <= WAIT_LIMIT_S:
                    time.sleep(wait)
                    continue
            if r.status_code in ok:
                return r
            raise EngineError(self._refused(r, path), r.status_code, maybe_done=write and r.status_code >= 500)
        raise EngineError(self._refused(r, path), r.status_code, maybe_done=write)

    def _unreachable(self, exc: Exception) -> str:
        words = connection_problem(exc)
        if "not trusted" in words:
            words += "; give the engine's CA certificate with --ca-file (an engine's own certificate is self-signed)"
        return f"the engine at {self.url} cannot be reached: {words}"

    def _refused(self, r: httpx2.Response, path: str) -> str:
        body = r.text.strip()
        if r.status_code == 404 and (path.startswith("/server/") or "<html" in body[:200].lower()):
            return (f"the engine's REST API does not answer at {self.api} (HTTP 404): is this a Mirth Connect, Open "
                    "Integration Engine or BridgeLink server (3.4 or newer), with its API reachable on this port?")
        if r.status_code == 400 and "X-Requested-With" in body:
            return "the engine refused the call: it wants the X-Requested-With header (a proxy removed it?)"
        if r.status_code == 401:
            return "the engine no longer accepts this session and refused a new sign-in"
        if r.status_code == 403:
            return f"the engine's user {self.user} is not allowed to do this (HTTP 403): its role lacks the permission"
        first = next((line.strip() for line in body.splitlines() if line.strip() and not line.lstrip().startswith("<")), "")
        return f"the engine answered HTTP {r.status_code}" + (f": {first[:300]}" if first else "")


def _retry_after(r: httpx2.Response) -> float | None:
    value = r.headers.get("Retry-After")
    try:
        return float(value) if value is not None else 1.0
    except ValueError:
        return None
