"""Mail in files, as a HISP or a mail archive exports it: one message a file (`.eml`, `.txt`)
or many (mbox, each after a `From ` line). Framed like HL7 logs (core.message_rows reads
them into parts): each message's place is its first byte, so a folder tailed and read again
resumes where it stopped, with nothing read twice.
"""
from __future__ import annotations

import re

_HEADER = re.compile(rb"[A-Za-z][A-Za-z0-9-]*:[ \t]*\S")  # "Name: value" at a line's start
_MAIL_HEADERS = re.compile(rb"(?im)^(from|to|message-id|subject|date|content-type|mime-version|received|return-path):")
# "From sender date" (asctime), at the file's start or after a blank line; an unescaped "From "
# in a body (mboxo) is not one
_MBOX_LINE = re.compile(rb"(?:\A|(?<=\n\n)|(?<=\r\n\r\n))From \S+ +[^\r\n]*\d\d:\d\d[^\r\n]*\r?\n")
_BOM = b"\xef\xbb\xbf"


def is_mail(head: bytes) -> bool:
    """Whether a file that begins with these bytes is mail (one message, or an mbox): a header
    block with at least two of a message's own headers, not HL7."""
    head = head.removeprefix(_BOM).lstrip(b"\r\n \t")
    if head.startswith(b"From ") and b"\n" in head:
        return True
    if not _HEADER.match(head):
        return False
    block = re.split(rb"\r?\n\r?\n", head, maxsplit=1)[0]
    return len({m.group(1).lower() for m in _MAIL_HEADERS.finditer(block)}) >= 2


def is_mbox(buf: bytes) -> bool:
    """Whether mail bytes are an mbox (many messages, each after a `From ` line), not one message."""
    return buf.removeprefix(_BOM).lstrip(b"\r\n").startswith(b"From ")


def frame_mail(buf: bytes, base: int, *, final: bool) -> tuple[list[tuple[int, int]], int]:
    """Messages in buf (which starts at file position `base`) as (start, end) file positions,
    and how many bytes of buf they take. An mbox's messages begin after each `From ` line;
    the last is taken only when the file is final (it may still be written). A file that is
    not an mbox is one message, taken when final."""
    if not is_mbox(buf):
        return ([(base, base + len(buf))] if final and buf.strip() else []), (len(buf) if final else 0)
    lines = list(_MBOX_LINE.finditer(buf))
    pieces: list[tuple[int, int]] = []
    for this, after in zip(lines, lines[1:] + [None]):
        start = this.end()
        if after is None and not final:
            return pieces, this.start()
        end = after.start() if after is not None else len(buf)
        if buf[start:end].strip():
            pieces.append((base + start, base + end - _trailing_newline(buf, end)))
    return pieces, len(buf)


def _trailing_newline(buf: bytes, end: int) -> int:
    """The blank line mbox puts before the next `From `: not the message's."""
    if buf[max(0, end - 2):end] == b"\r\n":
        return 2
    return 1 if buf[max(0, end - 1):end] == b"\n" else 0
