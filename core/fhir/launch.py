"""The loopback redirect of a native app's sign-in (RFC 8252, section 7.3): a one-shot HTTP
server on 127.0.0.1 and a port the system chooses, which takes the browser's redirect
with the authorization code and tells the person they can go back to the console."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from core.fhir.auth import AuthError

PAGE = (b"<!doctype html><meta charset=utf-8><title>Lanewatch</title>"
        b"<p style='font:16px sans-serif;margin:3em'>Signed in. You can close this tab and go back to Lanewatch.</p>")


class LoopbackRedirect:
    def __init__(self, timeout_s: float = 300.0) -> None:
        self.timeout_s = timeout_s
        self._answer: str | None = None
        self._done = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if not self.path.startswith("/callback"):
                    self.send_error(404)
                    return
                outer._answer = f"{outer.uri}{self.path[len('/callback'):]}"
                outer._done.set()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(PAGE)

            def log_message(self, *args) -> None:  # the query holds the code: never logged
                pass

        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self._server.server_port}/callback"

    def __enter__(self) -> LoopbackRedirect:
        threading.Thread(target=self._server.serve_forever, daemon=True, name="lanewatch-sign-in").start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self) -> str:
        """The URL the browser was sent back to (code and state in its query)."""
        if not self._done.wait(self.timeout_s):
            raise AuthError(f"no sign-in came back within {self.timeout_s:.0f} s")
        return self._answer
