"""The recording tap: a reverse proxy on loopback for testing an app against an EHR's
sandbox. The app is pointed at the tap instead of the endpoint's base URL; each request
goes on to the endpoint over verified TLS, its answer comes back unchanged, and the
exchange is recorded as the FHIR lane records a HAR file's (core.store.fhir: judged,
failed and flagged writes queued).

What is recorded never holds a credential: Authorization and cookies are forwarded but
stored as "[not stored]", a bearer token is read for its scopes and dropped, a sign-in's
secrets are replaced (core.fhir.exchange.without_secrets).

The app's answer never waits for the store: exchanges go to a writer thread that stores
them in small transactions. A store that cannot be written keeps them in memory and tries
again; what is still unstored when the tap stops is written to a HAR file beside the store,
which `lanewatch ingest` reads once the store is back, so nothing recorded is lost.
"""
from __future__ import annotations

import base64
import json
import queue as queues
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx2

from core.demo_har import jwt
from core.fhir.client import system_tls
from core.fhir.exchange import SECRET_HEADERS, Exchange, bearer, scopes_of, without_secrets
from core.ingest import stamp, store_rows
from core.labels import connection_problem, plural
from core.message_rows import exchange_row
from core.store import sources
from core.store.db import Store, StoreError, describe_store_error
from core.store.pairing import Pairing

LOOPBACK = frozenset(("127.0.0.1", "::1", "localhost"))
HOP_BY_HOP = frozenset(("connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                        "trailers", "transfer-encoding", "upgrade", "host", "content-length", "content-encoding",
                        "accept-encoding"))
TRANSPORT = "fhir-tap"
BATCH = 500
RETRY_S = 1.0
GATHER_S = 0.2


class TapError(ValueError):
    """The tap cannot start as asked (not loopback, an upstream that is not TLS): in words."""


@dataclass
class TapStats:
    exchanges: int = 0
    writes: int = 0
    unanswered: int = 0  # the endpoint gave no answer (the app got a 502 or 504)
    stored: int = 0
    problems: list[str] = field(default_factory=list)


def source_name(endpoint: str) -> str:
    return f"{TRANSPORT}:{endpoint}"


class FhirTap:
    def __init__(self, store: Store, endpoint: dict, *, host: str = "127.0.0.1", port: int = 0,
                 verify: ssl.SSLContext | None = None, timeout: float = 30.0, app: str | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC).replace(tzinfo=None)) -> None:
        if host not in LOOPBACK:
            raise TapError(f"the tap listens on loopback only (127.0.0.1 or ::1), not {host}: it is for testing an "
                           "app on this workstation against the endpoint's sandbox")
        self.upstream = endpoint["base_url"].rstrip("/")
        parts = urlsplit(self.upstream)
        if parts.scheme != "https" and parts.hostname not in LOOPBACK:
            raise TapError(f"{endpoint['name']}'s base URL is not https ({self.upstream}): the tap forwards over "
                           "verified TLS only")
        self.store, self.endpoint, self.app, self.now = store, endpoint, app, now
        self.stats = TapStats()
        self.http = httpx2.Client(timeout=timeout, verify=verify or system_tls(), follow_redirects=False)
        self._waiting: queues.Queue[Exchange | None] = queues.Queue()
        self._unstored: list[Exchange] = []
        self._lock = threading.Lock()
        self.server = _Server((host, port), _handler(self))
        self.address = f"http://{host if ':' not in host else f'[{host}]'}:{self.server.server_port}"
        self._threads = [threading.Thread(target=self.server.serve_forever, name="fhir-tap", daemon=True),
                         threading.Thread(target=self._write, name="fhir-tap-writer", daemon=True)]

    def start(self) -> str:
        """Start answering; returns the address the app is to use as its FHIR base URL."""
        for t in self._threads:
            t.start()
        return self.address

    def close(self, spill: Path | None = None) -> Path | None:
        """Stop taking requests, store what was recorded; what cannot be stored is written to
        a HAR file in `spill` (returned), to be ingested later."""
        self.server.shutdown()
        self.server.server_close()
        self._waiting.put(None)
        self._threads[1].join()
        self.http.close()
        if not self._unstored:
            return None
        if spill is None:
            raise StoreError(f"{plural(len(self._unstored), 'recorded exchange')} could not be stored")
        return spill_har(self._unstored, spill, self.endpoint["name"])

    # -- the proxy ------------------------------------------------------------------------
    def forward(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes, peer: str
                ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        """Send a request on to the endpoint; returns the answer for the app, and records the exchange."""
        url = self.upstream + path
        sent = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]
        started, t0 = datetime.now(UTC), time.perf_counter()
        ex = Exchange(method=method, url=url, started_at=started, request_headers=headers, request_body=body)
        try:
            response = self.http.request(method, url, headers=sent, content=body)
            content = response.content
        except httpx2.TimeoutException:
            ex.problem = f"no answer from {self.upstream} within {self.http.timeout.read:.0f} s"
            status, reason, answer = 504, "Gateway Timeout", _outcome("timeout", ex.problem)
        except httpx2.HTTPError as exc:
            ex.problem = f"could not reach {self.upstream}: {connection_problem(exc)}"
            status, reason, answer = 502, "Bad Gateway", _outcome("transient", ex.problem)
        else:
            ex.status, ex.status_text = response.status_code, response.reason_phrase
            ex.response_headers, ex.response_body = list(response.headers.multi_items()), content
            back = [(k, v) for k, v in ex.response_headers if k.lower() not in HOP_BY_HOP]
            ex.duration_ms = (time.perf_counter() - t0) * 1000
            self._record(ex, peer)
            return response.status_code, response.reason_phrase, back, content
        ex.duration_ms = (time.perf_counter() - t0) * 1000
        self._record(ex, peer)
        return status, reason, [("Content-Type", "application/fhir+json")], answer

    def _record(self, ex: Exchange, peer: str) -> None:
        ex.scopes, client = scopes_of(bearer(ex.request_headers))
        ex.app = client or self.app or f"app at {peer}"
        without_secrets(ex, client)
        with self._lock:
            self.stats.exchanges += 1
            self.stats.writes += ex.method in ("POST", "PUT", "PATCH", "DELETE")
            self.stats.unanswered += not ex.status
        self._waiting.put(ex)

    # -- the writer -----------------------------------------------------------------------
    def _write(self) -> None:
        stopping = False
        while not (stopping and not self._unstored):
            try:
                first = self._waiting.get(timeout=RETRY_S if self._unstored else None)
            except queues.Empty:
                first = ...
            if first is not None:
                time.sleep(GATHER_S)  # a store transaction each GATHER_S, not one a call: the app's calls go first
            batch = self._unstored
            for ex in _drained(first, self._waiting):
                if ex is None:
                    stopping = True
                else:
                    batch.append(ex)
            self._unstored = []
            for at in range(0, len(batch), BATCH):
                part = batch[at:at + BATCH]
                try:
                    self._store(part)
                except Exception as exc:  # noqa: BLE001 - a store that fails keeps what was recorded, and says why
                    self._unstored = batch[at:]
                    said = describe_store_error(exc, self.store.engine.url.render_as_string(hide_password=True))
                    self._problem(f"{said} {plural(len(self._unstored), 'recorded exchange')} kept, to be stored "
                                  "once it can be")
                    break
            if stopping and self._unstored:
                return  # close() writes them to a file

    def _store(self, exchanges: list[Exchange]) -> None:
        now = self.now()
        with self.store.begin() as conn:
            src = sources.named(conn, source_name(self.endpoint["name"]), TRANSPORT, now)
            at, rows = src["offset"], []
            for ex in exchanges:
                row = exchange_row(ex, at)
                at += row["size"]
                rows.append(stamp(row, src["id"], TRANSPORT, ex.app, now))
            store_rows(conn, rows, Pairing(self.now), now)
            sources.advance(conn, src["id"], at, now, size=at)
        with self._lock:
            self.stats.stored += len(exchanges)

    def _problem(self, text: str) -> None:
        with self._lock:
            if not self.stats.problems or self.stats.problems[-1] != text:
                self.stats.problems.append(text)


def _drained(first, waiting: queues.Queue):
    if first is not ...:
        yield first
    while True:
        try:
            yield waiting.get_nowait()
        except queues.Empty:
            return


def _outcome(code: str, text: str) -> bytes:
    return json.dumps({"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": code, "diagnostics": f"Lanewatch's recording tap: {text}"}]}).encode()


def spill_har(exchanges: list[Exchange], folder: Path, endpoint: str) -> Path:
    """Exchanges as a HAR file for `lanewatch ingest` to store later, bodies as they came.
    Credentials stay out: the bearer token becomes an unsigned one that says only the scopes
    and the app, which is what the HAR reader takes from a token."""
    def headers(pairs: list[tuple[str, str]]) -> list[dict]:
        return [{"name": k, "value": v} for k, v in pairs if k.lower() not in SECRET_HEADERS]

    entries = []
    for ex in exchanges:
        said = jwt({"scope": ex.scopes, "client_id": ex.app} if ex.scopes else {"client_id": ex.app})
        request = {"method": ex.method, "url": ex.url, "httpVersion": "HTTP/1.1",
                   "headers": headers(ex.request_headers) + [{"name": "Authorization", "value": f"Bearer {said}"}]}
        if ex.request_body:
            request["postData"] = {"mimeType": ex.header("Content-Type", False) or "",
                                   "text": ex.request_body.decode("utf-8", "replace")}
        response = {"status": ex.status, "statusText": ex.status_text, "httpVersion": "HTTP/1.1",
                    "headers": headers(ex.response_headers),
                    "content": {"size": len(ex.response_body), "mimeType": ex.header("Content-Type") or "",
                                "encoding": "base64", "text": base64.b64encode(ex.response_body).decode()}}
        entries.append({"startedDateTime": (ex.started_at or datetime.now(UTC)).isoformat(),
                        "time": ex.duration_ms or 0, "request": request, "response": response,
                        **({"_error": ex.problem} if ex.problem else {})})
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"fhir-tap-{endpoint}-{datetime.now(UTC):%Y%m%dT%H%M%S}-unstored.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "Lanewatch recording tap"},
                                        "entries": entries}}), encoding="utf-8")
    return path


class _Server(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True


def _handler(tap: FhirTap):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: an app's calls reuse one connection, as with the EHR
        disable_nagle_algorithm = True  # an answer is written at once; Nagle would hold it for the app's delayed ACK

        def log_message(self, *args) -> None:  # requests carry PHI in their paths; nothing goes to stderr
            pass

        def _proxy(self) -> None:
            try:
                body = self._body()
            except ValueError as exc:
                return self._answer(400, "Bad Request", [("Content-Type", "application/fhir+json")],
                                    _outcome("structure", str(exc)))
            status, reason, headers, content = tap.forward(self.command, self.path, list(self.headers.items()), body,
                                                            self.client_address[0])
            self._answer(status, reason, headers, content)

        def _body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                out = bytearray()
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    out += self.rfile.read(size)
                    self.rfile.readline()
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(out)
            length = self.headers.get("Content-Length")
            if length is not None and not length.isdigit():
                raise ValueError(f"a Content-Length that is not a number ({length[:20]})")
            return self.rfile.read(int(length)) if length else b""

        def _answer(self, status: int, reason: str, headers: list[tuple[str, str]], content: bytes) -> None:
            self.send_response_only(status, reason)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(content)))
            self._headers_buffer.append(b"\r\n" + (content if self.command != "HEAD" else b""))
            self.flush_headers()  # the head and the body in one write

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _proxy  # noqa: N815

    return Handler
