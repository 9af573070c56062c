"""Split a byte stream into HL7 v2 messages, batch envelope segments and the bytes between.

The framer never builds a parse tree and never drops a byte: it returns a partition of
its input into pieces, so that concatenating every piece's bytes gives the input back.
That property is what the ingest relies on to say "every input accounted for".
"""
from __future__ import annotations

import re
from dataclasses import dataclass

BOM = b"\xef\xbb\xbf"
MLLP_END = b"\x1c"

MESSAGE = "message"  # an MSH-led message
BATCH = "batch"  # an FHS, BHS, BTS or FTS segment
GAP = "gap"  # whitespace, MLLP framing bytes, a byte-order mark: nothing to keep
JUNK = "junk"  # bytes that are neither: kept and reported as unparseable

# A header starts a line (or the input, or an MLLP frame, or follows NUL padding), may carry
# a BOM of its own (files concatenated with `cat`), and is followed by a field separator
# that is not a letter, digit or whitespace. "MSH" inside a field (an OBX whose value is
# "MSH") never starts a line, so it never starts a message.
_HEADER = re.compile(rb"(?<![^\r\n\x0b\x1c\x00])(\xef\xbb\xbf)?(MSH|FHS|BHS|BTS|FTS)([^A-Za-z0-9\s])")
# NUL is not among them: padding a writer put before or after a message is its bytes, kept with it
_GAP_BYTES = frozenset(b" \t\r\n\x0b\x1c\x1a")
_EOL = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class Piece:
    kind: str
    start: int  # offset of the first byte, absolute in the stream
    end: int  # offset after the last byte

    @property
    def size(self) -> int:
        return self.end - self.start


def _headers(buf: bytes) -> list[tuple[int, int, bytes]]:
    """(start incl. BOM, start of segment ID, segment ID) for every header in buf."""
    return [(m.start(), m.start(2), m.group(2)) for m in _HEADER.finditer(buf)]


def _split_tail(buf: bytes, start: int, end: int) -> int:
    """Where a message or segment that may run to `end` really ends.

    It stops at an MLLP end block, then gives back trailing whitespace except one segment
    terminator, which belongs to the last segment.
    """
    stop = buf.find(MLLP_END, start, end)
    if stop != -1:
        end = stop
    last = end
    while last > start and buf[last - 1] in _GAP_BYTES:
        last -= 1
    if last < end and buf[last : last + 2] == b"\r\n":
        return last + 2
    if last < end and buf[last] in b"\r\n":
        return last + 1
    return last


def _skip_gap(buf: bytes, pos: int, end: int) -> int:
    """The first position from pos that is not a gap byte or a byte-order mark."""
    while pos < end:
        if buf.startswith(BOM, pos) and pos + 3 <= end:
            pos += 3
        elif buf[pos] in _GAP_BYTES:
            pos += 1
        else:
            break
    return pos


def _gap_or_junk(buf: bytes, start: int, end: int, base: int, out: list[Piece]) -> None:
    """The bytes between two pieces: a gap, or one junk block with its gap on either side."""
    if start >= end:
        return
    first = _skip_gap(buf, start, end)
    if first == end:
        out.append(Piece(GAP, base + start, base + end))
        return
    last = end
    while last > first:
        if buf[last - 1] in _GAP_BYTES:
            last -= 1
        elif last - 3 >= first and buf[last - 3 : last] == BOM:
            last -= 3
        else:
            break
    if first > start:
        out.append(Piece(GAP, base + start, base + first))
    out.append(Piece(JUNK, base + first, base + last))
    if last < end:
        out.append(Piece(GAP, base + last, base + end))


def frame(buf: bytes, base: int = 0, final: bool = True) -> tuple[list[Piece], int]:
    """Partition buf into pieces; returns (pieces, bytes consumed).

    With final=False the input may continue (a file still being written): the last piece,
    which may be cut short, is held back and not counted as consumed. A message closed by
    an MLLP end block is complete and is never held back.
    """
    pieces: list[Piece] = []
    headers = _headers(buf)
    pos = 0
    for i, (start, seg_start, seg) in enumerate(headers):
        if start < pos:
            continue
        next_start = headers[i + 1][0] if i + 1 < len(headers) else len(buf)
        if seg == b"MSH":
            stop = _split_tail(buf, seg_start, next_start)
        else:  # a batch segment is one line, which an MLLP end block ends too
            mllp = buf.find(MLLP_END, seg_start, next_start)
            line = _EOL.search(buf, seg_start, next_start if mllp == -1 else mllp)
            stop = line.end() if line else _split_tail(buf, seg_start, next_start)
        kind = MESSAGE if seg == b"MSH" else BATCH
        first = seg_start
        if kind == MESSAGE:  # NUL padding right before the header belongs to the message
            while first > pos and buf[first - 1] == 0:
                first -= 1
        _gap_or_junk(buf, pos, first, base, pieces)
        pieces.append(Piece(kind, base + first, base + stop))
        pos = stop
    _gap_or_junk(buf, pos, len(buf), base, pieces)
    if final or not pieces:
        return pieces, len(buf) if final else 0
    return _hold_back(buf, base, pieces)


def _hold_back(buf: bytes, base: int, pieces: list[Piece]) -> tuple[list[Piece], int]:
    """Keep what is surely complete: everything before the last non-gap piece, and that
    piece too when it is a message closed by an MLLP end block."""
    i = len(pieces) - 1
    while i >= 0 and pieces[i].kind == GAP:
        i -= 1
    if i < 0:
        return [], 0
    last = pieces[i]
    closed = last.kind == MESSAGE and buf[last.end - base : last.end - base + 1] == MLLP_END
    keep = pieces[: i + 1] if closed else pieces[:i]
    return keep, (keep[-1].end - base if keep else 0)
