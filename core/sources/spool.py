"""The tap's spool: an append-only journal of received frames, written before the ACK.

A tap answers a sender only once what it received is safe; writing a batch of frames to
a local journal is far cheaper than a store transaction per batch, so the tap journals,
answers, and ingests from the journal in large batches behind the senders' backs. The
store records how far the journal has been ingested (the tap's source offset) in the
same transaction as the messages, so a crash between the two never loses or doubles one.

Positions are a byte count over the tap's whole journal, which is cut into files named
by their first position; files wholly ingested are deleted. Each record is
`magic, crc32, len(raw), len(peer), peer, raw`: a torn tail (a crash in the middle of a
write, before any ACK for it left) is found by its length or checksum and cut off.
"""
from __future__ import annotations

import os
import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from core.store.db import Store, data_folder

MAGIC = b"LWS1"
HEADER = struct.Struct(">4sIIH")  # magic, crc32 of peer + raw, raw length, peer length
ROTATE_BYTES = 64 * 1024 * 1024
READ_BYTES = 4 * 1024 * 1024  # read a journal this much at a time
FOLDER = ".lanewatch-spool"
# what makes an appended record durable: the data and the file's new length, not its times
# (a third cheaper than fsync on ext4); macOS and Windows have only fsync
_sync = getattr(os, "fdatasync", os.fsync)  # hidden, so a watch of the store's own folder never reads it


@dataclass(frozen=True)
class Record:
    position: int  # where the raw bytes start, in the journal's positions
    end: int  # where the next record starts
    peer: str
    raw: bytes


def folder_for(store: Store) -> Path:
    """Next to an SQLite store's file; in the user data folder for a server store."""
    return (store.file.parent if store.file else data_folder()) / FOLDER


class Journal:
    """A tap's journal as its loader reads it: records from a position on, and the files
    wholly ingested deleted. The loader may be another process than the tap writing it."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder = folder
        self.stem = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_") or "tap"

    def read(self, position: int, limit: int) -> list[Record]:
        """Up to `limit` whole records from `position` on."""
        records: list[Record] = []
        for base, path in self._files():
            if (records and base != records[-1].end) or base + path.stat().st_size <= position:
                continue
            start = max(position, base)
            records += _read_file(path, start - base, start, limit - len(records))
            if len(records) >= limit:
                break
        return records

    def prune(self, consumed: int) -> None:
        """Delete the files everything in which is ingested."""
        files = self._files()
        for (_, path), (next_base, _) in zip(files, files[1:]):
            if next_base <= consumed:
                path.unlink(missing_ok=True)

    def _files(self) -> list[tuple[int, Path]]:
        found = []
        for path in self.folder.glob(f"{self.stem}.*.spool"):
            base = path.name[len(self.stem) + 1 : -len(".spool")]
            if base.isdigit():
                found.append((int(base), path))
        return sorted(found)


class Spool(Journal):
    """The journal as the tap writes it: appended to, and made durable, before each answer."""

    def __init__(self, folder: Path, name: str, consumed: int) -> None:
        """Open the journal of the tap called `name`; `consumed` is the position the store has ingested to."""
        super().__init__(folder, name)
        folder.mkdir(parents=True, exist_ok=True)
        self.end = self._base = consumed
        files = self._files()
        if files:
            base, path = files[-1]
            tail = self._repair(path, base, max(consumed, base))
            if tail >= consumed:  # carry on in the last file (unless the store is ahead of a lost journal)
                self.end, self._base = tail, base
        self._file = open(self._path(self._base), "ab")  # noqa: SIM115 - held open for the tap's life

    def append(self, records: list[tuple[str, bytes]]) -> None:
        """Write records and make them durable; when this returns they may be acknowledged."""
        out = bytearray()
        for peer, raw in records:
            p = peer.encode()
            out += HEADER.pack(MAGIC, zlib.crc32(raw, zlib.crc32(p)), len(raw), len(p)) + p + raw
        self._file.write(out)
        self._file.flush()
        _sync(self._file.fileno())
        self.end += len(out)
        if self.end - self._base >= ROTATE_BYTES:
            self._file.close()
            self._base = self.end
            self._file = open(self._path(self._base), "ab")  # noqa: SIM115

    def close(self) -> None:
        self._file.close()

    def _path(self, base: int) -> Path:
        return self.folder / f"{self.stem}.{base:016d}.spool"

    def _repair(self, path: Path, base: int, start: int) -> int:
        """Cut a torn tail off the last file; returns where the journal ends."""
        end = base + path.stat().st_size
        if start >= end:
            return end
        records = _read_file(path, start - base, start, None)
        good = records[-1].end if records else start
        if good < end:
            os.truncate(path, good - base)
        return good


def _read_file(path: Path, skip: int, position: int, limit: int | None) -> list[Record]:
    """Whole records from `skip` bytes into a file (at `position` in the journal), read a
    bounded piece at a time: a backlog of many megabytes is never read whole for one batch."""
    out: list[Record] = []
    with open(path, "rb") as f:
        f.seek(skip)
        buf = b""
        while limit is None or len(out) < limit:
            more = f.read(READ_BYTES)
            if not more:
                break
            buf += more
            got = _decode(buf, position, None if limit is None else limit - len(out))
            if got:
                out += got
                buf, position = buf[got[-1].end - position :], got[-1].end
            elif not _incomplete(buf):
                break  # a bad record, not a short read: the journal ends here
    return out


def _incomplete(buf: bytes) -> bool:
    """Whether the record at the start of buf needs more bytes (rather than being bad)."""
    if len(buf) < HEADER.size:
        return True
    magic, _, n_raw, n_peer = HEADER.unpack_from(buf, 0)
    return magic == MAGIC and HEADER.size + n_peer + n_raw > len(buf)


def _decode(data: bytes, position: int, limit: int | None) -> list[Record]:
    out, at = [], 0
    while (limit is None or len(out) < limit) and at + HEADER.size <= len(data):
        magic, crc, n_raw, n_peer = HEADER.unpack_from(data, at)
        body = at + HEADER.size
        if magic != MAGIC or body + n_peer + n_raw > len(data):
            break
        peer, raw = data[body : body + n_peer], data[body + n_peer : body + n_peer + n_raw]
        if zlib.crc32(raw, zlib.crc32(peer)) != crc:
            break
        at = body + n_peer + n_raw
        out.append(Record(position + body + n_peer, position + at, peer.decode(), raw))
    return out
