"""A FHIR server and its authorization server on loopback: the demo workspace's endpoints,
and the real server the tests and benchmarks talk to. Never listens beyond 127.0.0.1.

Real HTTP (http.server, threaded). The token endpoint checks a SMART backend-services
client assertion with joserfc (authlib's JOSE library): signature against the client's
registered public key, iss = sub = client ID, aud = the token URL, a lifetime of at most
five minutes, and a jti never seen before. It also takes client secrets (basic or post),
authorization codes with PKCE (S256) and refresh tokens. FHIR reads need a live token.

`fail` queues answers for the next FHIR requests (a 429 with Retry-After, a 503, a 500
with an OperationOutcome; status 0 resets the connection). Creates (POST Type) and updates
(PUT Type/id) are taken and answered with the resource, its Location and ETag; `delay_s` makes every answer slow; `token_lifetime_s` short
tokens; `grant` narrows what is granted.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import import_key


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # http.server's backlog of 5 refuses a burst of probes
    daemon_threads = True


class LoopbackFhirServer:
    def __init__(self, *, capability: dict | None = None, smart: dict | None = None, client_id: str = "lanewatch",
                 public_key_pem: str | None = None, key_type: str = "RSA", client_secret: str | None = None,
                 token_lifetime_s: int = 300, grant: str | None = None, tls: tuple[str, str] | None = None) -> None:
        """`tls` (certificate and key PEM files) serves HTTPS instead of HTTP."""
        self.capability = capability or {"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1",
                                         "software": {"name": "Loopback FHIR", "version": "1.0"},
                                         "rest": [{"mode": "server", "resource": [
                                             {"type": "Patient", "interaction": [{"code": "read"}, {"code": "search-type"}],
                                              "searchParam": [{"name": "identifier"}, {"name": "name"}]},
                                             {"type": "Observation", "interaction": [{"code": "read"}, {"code": "search-type"}],
                                              "searchParam": [{"name": "category"}, {"name": "patient"}]}]}]}
        self.client_id, self.client_secret, self.token_lifetime_s, self.grant = client_id, client_secret, token_lifetime_s, grant
        self.key = import_key(public_key_pem, key_type) if public_key_pem else None
        self.fail: list[tuple[int, dict, dict | None]] = []
        self.export_polls = 2  # how many times a job answers 202 before its manifest
        self.files: dict[str, str] = {}  # name → ndjson, served at /fhir/_files/NAME
        self.manifest_extra: dict = {}
        self.delay_s = 0.0
        self.refusal: str | None = None  # every token request refused with this description
        self.echo = False  # a careless token server: its refusal repeats the request, credentials and all
        self.tokens: dict[str, float] = {}  # access token → expiry
        self.refresh: dict[str, str] = {}  # refresh token → scope
        self.codes: dict[str, dict] = {}
        self.seen_jti: set[str] = set()
        self.requests: list[tuple[str, str]] = []  # (method, path)
        self.written: list[tuple[str, dict]] = []  # (POST or PUT, the resource) of each write taken
        self.token_requests = 0
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        if tls:
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.origin = f"{'https' if tls else 'http'}://127.0.0.1:{self.server.server_port}"
        self.base_url = f"{self.origin}/fhir"
        self.token_url = f"{self.origin}/token"
        self.smart = smart or {"token_endpoint": self.token_url, "authorization_endpoint": f"{self.origin}/authorize",
                               "capabilities": ["launch-standalone", "client-confidential-asymmetric", "permission-v2",
                                                "permission-v1"],
                               "scopes_supported": ["system/Patient.rs", "system/Observation.rs", "patient/Observation.rs",
                                                    "launch/patient", "offline_access"],
                               "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
                               "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
                               "code_challenge_methods_supported": ["S256"]}
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LoopbackFhirServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- token endpoint -----------------------------------------------------------------
    def _issue(self, scope: str, refresh: bool = False) -> dict:
        token = secrets.token_urlsafe(16)
        granted = self.grant if self.grant is not None else scope
        with self.lock:
            self.tokens[token] = time.time() + self.token_lifetime_s
            self.token_requests += 1
        out = {"access_token": token, "token_type": "bearer", "expires_in": self.token_lifetime_s, "scope": granted}
        if refresh:
            r = secrets.token_urlsafe(16)
            self.refresh[r] = granted
            out["refresh_token"] = r
        return out

    def _token(self, form: dict, headers) -> tuple[int, dict]:
        grant = form.get("grant_type")
        if self.refusal:
            return 400, {"error": "invalid_client", "error_description": self.refusal}
        if grant == "client_credentials" and form.get("client_assertion"):
            why = self._check_assertion(form)
            return (400, {"error": "invalid_client", "error_description": why}) if why else (200, self._issue(form.get("scope", "")))
        if grant == "client_credentials":
            cid, secret = form.get("client_id"), form.get("client_secret")
            auth = headers.get("Authorization", "")
            if auth.startswith("Basic "):
                cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            if cid != self.client_id or secret != self.client_secret:
                echoed = f"bad credentials in {form} with {auth}" if self.echo else None
                return 401, {"error": "invalid_client", **({"error_description": echoed} if echoed else {})}
            return 200, self._issue(form.get("scope", ""))
        if grant == "authorization_code":
            code = self.codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if not code or code["challenge"] != challenge or code["redirect_uri"] != form.get("redirect_uri"):
                return 400, {"error": "invalid_grant"}
            return 200, self._issue(code["scope"], refresh=True)
        if grant == "refresh_token":
            scope = self.refresh.pop(form.get("refresh_token", ""), None)
            return (400, {"error": "invalid_grant"}) if scope is None else (200, self._issue(scope, refresh=True))
        return 400, {"error": "unsupported_grant_type"}

    def _check_assertion(self, form: dict) -> str | None:
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return "wrong client_assertion_type"
        try:
            token = jwt.decode(form["client_assertion"], self.key, algorithms=["RS384", "ES384"])
            jwt.JWTClaimsRegistry(iss={"essential": True, "value": self.client_id},
                                  sub={"essential": True, "value": self.client_id},
                                  aud={"essential": True, "value": self.token_url},
                                  exp={"essential": True}, jti={"essential": True}).validate(token.claims)
        except (JoseError, ValueError) as exc:
            return f"assertion refused: {type(exc).__name__}"
        if token.claims["exp"] - time.time() > 300:
            return "assertion lives longer than five minutes"
        if token.claims["jti"] in self.seen_jti:
            return "assertion replayed (jti seen before)"
        self.seen_jti.add(token.claims["jti"])
        return None

    # -- HTTP ---------------------------------------------------------------------------
    def _handler(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, body: dict | None, headers: dict | None = None,
                      kind: str = "application/fhir+json") -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests.append((self.command, self.path))
                if self.path == "/token":
                    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                    status, answer = outer._token(form, self.headers)
                    return self._send(status, answer, kind="application/json")
                if not self.path.startswith("/fhir/"):
                    return self._send(404, None)
                if outer.delay_s:
                    time.sleep(outer.delay_s)
                if outer.fail:
                    status, headers, answer = outer.fail.pop(0)
                    return self._reset() if status == 0 else self._send(status, answer, headers)
                if outer.tokens.get(self.headers.get("Authorization", "").removeprefix("Bearer "), 0) < time.time():
                    return self._send(401, None, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
                self._write(body)

            do_PUT = do_POST  # noqa: N815

            def _write(self, body: bytes) -> None:
                """A create (POST Type) or an update (PUT Type/id): the resource as stored, with its version."""
                try:
                    resource = json.loads(body)
                except ValueError:
                    return self._send(400, {"resourceType": "OperationOutcome", "issue": [
                        {"severity": "error", "code": "structure", "diagnostics": "the body is not JSON"}]})
                segs = urlsplit(self.path).path[len("/fhir/"):].split("/")
                with outer.lock:
                    outer.written.append((self.command, resource))
                    rid = segs[1] if self.command == "PUT" and len(segs) > 1 else str(len(outer.written))
                version = str(sum(1 for m, r in outer.written if r.get("id") == rid) + 1) if self.command == "PUT" else "1"
                stored = {**resource, "id": rid, "meta": {"versionId": version}}
                self._send(201 if self.command == "POST" else 200, stored,
                           {"Location": f"{outer.base_url}/{segs[0]}/{rid}/_history/{version}", "ETag": f'W/"{version}"'})

            def _reset(self) -> None:
                """No answer: the connection is reset (RST), as a server that falls over does."""
                import socket
                import struct

                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()

            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                outer.requests.append(("GET", self.path))
                if outer.delay_s:
                    time.sleep(outer.delay_s)
                if url.path == "/authorize":
                    q = {k: v[0] for k, v in parse_qs(url.query).items()}
                    code = secrets.token_urlsafe(8)
                    outer.codes[code] = {"challenge": q.get("code_challenge"), "redirect_uri": q.get("redirect_uri"),
                                         "scope": q.get("scope", "")}
                    self.send_response(302)
                    self.send_header("Location", f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q.get('state', '')})}")
                    self.end_headers()
                    return
                if not url.path.startswith("/fhir/"):
                    return self._send(404, None)
                path = url.path[len("/fhir/"):]
                if path == ".well-known/smart-configuration":
                    return self._send(200, outer.smart, kind="application/json")
                if outer.fail:
                    status, headers, body = outer.fail.pop(0)
                    return self._reset() if status == 0 else self._send(status, body, headers)
                if path == "metadata":
                    return self._send(200, outer.capability)
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if outer.tokens.get(token, 0) < time.time():
                    return self._send(401, None, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
                if path.endswith("$export"):
                    if self.headers.get("Prefer") != "respond-async":
                        return self._send(400, {"resourceType": "OperationOutcome", "issue": [
                            {"severity": "error", "code": "invalid", "diagnostics": "Prefer: respond-async is required"}]})
                    return self._send(202, None, {"Content-Location": f"{outer.base_url}/_jobs/1"})
                if path == "_jobs/1":
                    if outer.export_polls:
                        outer.export_polls -= 1
                        return self._send(202, None, {"X-Progress": f"{2 - outer.export_polls} of 3 types", "Retry-After": "1"})
                    return self._send(200, {"transactionTime": "2026-11-24T10:00:00Z", "request": f"{outer.base_url}/$export",
                                            "requiresAccessToken": "true", **outer.manifest_extra,
                                            "output": [{"type": n.split(".")[0], "url": f"{outer.base_url}/_files/{n}"}
                                                       for n in outer.files if not n.startswith("error")],
                                            "error": [{"type": "OperationOutcome", "url": f"{outer.base_url}/_files/{n}"}
                                                      for n in outer.files if n.startswith("error")]})
                if path.startswith("_files/") and path[7:] in outer.files:
                    data = outer.files[path[7:]].encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/fhir+ndjson")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if path.startswith("Patient"):
                    return self._send(200, {"resourceType": "Bundle", "type": "searchset", "total": 1, "entry": []})
                return self._send(404, {"resourceType": "OperationOutcome", "issue": [
                    {"severity": "error", "code": "not-found", "diagnostics": f"{path} is not here"}]})

        return Handler


def key_pair(kind: str = "RSA") -> tuple[str, str]:
    """(private PEM, public PEM), RSA 2048 for RS384 or P-384 for ES384."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key = rsa.generate_private_key(65537, 2048) if kind == "RSA" else ec.generate_private_key(ec.SECP384R1())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public
