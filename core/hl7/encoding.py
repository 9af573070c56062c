"""Character sets (MSH-18) and HL7 escape sequences.

Originals are stored as bytes; text is made only for display, search and keys. Decoding
honours MSH-18, falls back to UTF-8, then Windows-1252, then Latin-1, which maps every
byte to one character, so no byte is ever lost.
"""
from __future__ import annotations

import codecs

# HL7 table 0211, spelled as senders really spell it (upper-cased, spaces squeezed).
_CHARSETS = {
    "ASCII": "ascii",
    "UNICODE": "utf-8",
    "UNICODE UTF-8": "utf-8",
    "UTF-8": "utf-8",
    "UTF8": "utf-8",
    "UNICODE UTF-16": "utf-16",
    "UNICODE UTF-32": "utf-32",
    "ISO IR6": "ascii",
    "ISO IR100": "latin-1",
    "ISO IR14": "shift_jis",
    "ISO IR87": "iso2022_jp",
    "ISO IR159": "iso2022_jp_2",
    "GB 18030-2000": "gb18030",
    "KS X 1001": "euc_kr",
    "CNS 11643-1992": "big5",
    "BIG-5": "big5",
    "WINDOWS-1252": "cp1252",
}
for _n in range(1, 16):
    _CHARSETS[f"8859/{_n}"] = f"iso8859_{_n}" if _n != 12 else "latin-1"
    _CHARSETS[f"ISO-8859-{_n}"] = _CHARSETS[f"8859/{_n}"]

FALLBACKS = ("utf-8", "cp1252", "latin-1")


def codec_for(charset: str | None) -> str | None:
    """The Python codec for an MSH-18 value, or None when unknown or absent."""
    if not charset:
        return None
    name = " ".join(charset.upper().split())
    codec = _CHARSETS.get(name)
    if codec is None:
        try:
            info = codecs.lookup(name)
        except LookupError:
            return None
        # base64, hex, zlib, rot13...: codecs of bytes to bytes or text to text, not a character set
        codec = info.name if getattr(info, "_is_text_encoding", True) else None
    return codec


def with_cr_terminators(raw: bytes, charset: str | None = None) -> bytes:
    """The message with every segment ending in CR, as MLLP receivers expect: a log's CRLF
    or LF endings are the logger's, not the sender's. Every other byte is kept."""
    codec = codec_for(charset) or ""
    if codec.startswith(("utf-16", "utf-32", "utf_16", "utf_32")):  # a CR is not one byte there
        text, used = decode(raw, charset)
        return text.replace("\r\n", "\r").replace("\n", "\r").encode(used)
    return raw.replace(b"\r\n", b"\r").replace(b"\n", b"\r")


def decode(raw: bytes, charset: str | None = None) -> tuple[str, str]:
    """(text, codec used). The declared charset first, then the fallbacks; never fails."""
    declared = codec_for(charset)
    for codec in ((declared,) if declared else ()) + FALLBACKS:
        try:
            return raw.decode(codec), codec
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def unescape(value: str, field: str, comp: str, rep: str, esc: str, sub: str) -> str:
    r"""Replace \F\ \S\ \T\ \R\ \E\ and \Xhh..\ in a value; other escapes are kept as written."""
    if not esc or esc not in value:
        return value
    simple = {"F": field, "S": comp, "R": rep, "T": sub, "E": esc}
    parts = value.split(esc)
    out = [parts[0]]
    # parts alternate: text, escape body, text, ...; an unmatched trailing escape is text
    for i in range(1, len(parts), 2):
        if i + 1 >= len(parts):
            out.append(esc + parts[i])
            break
        out.append(simple.get(parts[i]) or _hex(parts[i]) or esc + parts[i] + esc)
        out.append(parts[i + 1])
    return "".join(out)


def _hex(body: str) -> str | None:
    if body.startswith("X") and len(body) > 1 and len(body) % 2 == 1:
        try:
            return bytes.fromhex(body[1:]).decode("latin-1")
        except ValueError:
            return None
    return None
