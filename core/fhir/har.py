"""HAR files (HTTP Archive 1.2: what a browser's developer tools or an app's HTTP log
exports) read as FHIR exchanges.

The archive is walked, not loaded whole: each entry is decoded on its own and keeps where
it lies in the file, so a HAR of 50,000 exchanges costs one entry's tree at a time, and a
damaged entry costs that entry alone (it is said, with where it lies). Bearer tokens are
read for the scopes they grant and dropped; a sign-in's secrets (codes, assertions,
client secrets, the tokens handed out) are never kept.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit

from core.fhir.exchange import Exchange, bearer, json_body, scopes_of, without_secrets

_WS = re.compile(r"[ \t\r\n]*")
_HEAD = re.compile(rb'^\s*\{\s*"log"\s*:\s*\{')
_decoder = json.JSONDecoder()


def is_har(head: bytes) -> bool:
    """Whether a file's first bytes are a HAR archive's (`{"log": {` ...)."""
    return bool(_HEAD.match(head.lstrip(b"\xef\xbb\xbf")))


@dataclass(frozen=True)
class Entry:
    start: int  # byte offset of the entry in the file
    end: int
    exchange: Exchange | None
    problem: str | None = None  # why the entry could not be read


def entries(data: bytes) -> Iterator[Entry]:
    """Every entry of a HAR archive in file order; a problem with the archive itself (not
    JSON, no log.entries) is raised as ValueError with words a person can act on."""
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 at byte {exc.start + bom} (a HAR file is UTF-8 JSON)") from None
    spans, tokens = [], {}
    for s, e, doc in _entry_spans(text):  # a first pass keeps where each entry lies and the tokens handed out
        spans.append((s, e))
        _learn_token(doc, tokens)
    at = bom
    prev = 0
    for s, e in spans:
        doc = _decoder.decode(text[s:e])
        at += len(text[prev:s].encode("utf-8"))
        size = len(text[s:e].encode("utf-8"))
        prev = e
        try:
            yield Entry(at, at + size, exchange(doc, tokens))
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            yield Entry(at, at + size, None, f"a HAR entry that cannot be read ({type(exc).__name__}: {_short(exc)})")
        at += size


def _short(exc: Exception) -> str:
    return str(exc).split("\n")[0][:120]


def _entry_spans(text: str) -> Iterator[tuple[int, int, object]]:
    """(start, end, decoded) of each element of log.entries, by walking the two outer objects."""
    pos = _value_of(text, _expect(text, 0, "{"), "log", "not a HAR archive (no log)")
    pos = _value_of(text, _expect(text, pos, "{"), "entries", "the archive's log has no entries")
    pos = _expect(text, pos, "[")
    while True:
        pos = _WS.match(text, pos).end()
        if text.startswith("]", pos):
            return
        try:
            doc, end = _decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise ValueError(f"the archive breaks off inside an entry: {exc.msg} at character {exc.pos}") from None
        yield pos, end, doc
        pos = _WS.match(text, end).end()
        if text.startswith(",", pos):
            pos += 1


def _value_of(text: str, pos: int, wanted: str, missing: str) -> int:
    """Where the value of key `wanted` starts, in an object whose '{' is behind pos; the
    values of the keys before it are skipped whole."""
    while True:
        pos = _WS.match(text, pos).end()
        if text.startswith(",", pos):
            pos = _WS.match(text, pos + 1).end()
        if text.startswith("}", pos) or pos >= len(text):
            raise ValueError(missing)
        try:
            key, pos = _decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            raise ValueError(f"not a HAR archive (a broken key at character {pos})") from None
        pos = _expect(text, pos, ":")
        if key == wanted:
            return pos
        pos = _skip(text, pos)


def _expect(text: str, pos: int, char: str) -> int:
    pos = _WS.match(text, pos).end()
    if not text.startswith(char, pos):
        raise ValueError(f"not a HAR archive (expected {char!r} at character {pos})")
    return pos + 1


def _skip(text: str, pos: int) -> int:
    try:
        return _decoder.raw_decode(text, _WS.match(text, pos).end())[1]
    except json.JSONDecodeError as exc:
        raise ValueError(f"not a HAR archive ({exc.msg} at character {exc.pos})") from None


# -- one entry ------------------------------------------------------------------------------
def exchange(doc: dict, tokens: dict[str, tuple[str | None, str | None]]) -> Exchange:
    req, resp = doc["request"], doc.get("response") or {}
    headers = [(str(h["name"]), str(h.get("value", ""))) for h in req.get("headers") or []]
    token = bearer(headers)
    scopes, client = scopes_of(token)
    if token and scopes is None:
        scopes, client = tokens.get(_fingerprint(token), (None, None))
    status = int(resp.get("status") or 0)
    error = doc.get("_error") or resp.get("_error")
    ex = Exchange(
        method=str(req["method"]).upper(), url=str(req["url"]), started_at=_when(doc.get("startedDateTime")),
        request_headers=headers, request_body=_request_body(req),
        status=status, status_text=str(resp.get("statusText") or ""),
        response_headers=[(str(h["name"]), str(h.get("value", ""))) for h in resp.get("headers") or []],
        response_body=_content(resp.get("content") or {}),
        duration_ms=float(doc["time"]) if isinstance(doc.get("time"), (int, float)) and doc["time"] >= 0 else None,
        scopes=scopes, app=client or _origin(headers),
        problem=str(error) if status == 0 and error else None)
    without_secrets(ex, client)
    return ex


def _request_body(req: dict) -> bytes:
    post = req.get("postData") or {}
    if post.get("text") is not None:
        return str(post["text"]).encode("utf-8")
    if post.get("params"):
        return urlencode([(p.get("name", ""), p.get("value", "")) for p in post["params"]]).encode()
    return b""


def _content(content: dict) -> bytes:
    text = content.get("text")
    if text is None:
        return b""
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(text, validate=False)
        except (binascii.Error, ValueError):
            return str(text).encode("utf-8")
    return str(text).encode("utf-8")


def _when(value) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def _origin(headers: list[tuple[str, str]]) -> str | None:
    for name in ("origin", "referer"):
        value = next((v for k, v in headers if k.lower() == name), None)
        if value and urlsplit(value).hostname:
            return urlsplit(value).hostname
    return None


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _learn_token(doc, found: dict[str, tuple[str | None, str | None]]) -> None:
    """An opaque token handed out by a token response in this archive, by fingerprint: the
    scopes it was granted and the client it went to (only the fingerprint is kept)."""
    try:
        body = json_body(_content((doc.get("response") or {}).get("content") or {}))
        if body and isinstance(body.get("access_token"), str):
            form = dict(parse_qsl(str(((doc.get("request") or {}).get("postData") or {}).get("text") or "")))
            found[_fingerprint(body["access_token"])] = (str(body["scope"]) if body.get("scope") else None,
                                                         form.get("client_id"))
    except (AttributeError, TypeError, ValueError):
        return
