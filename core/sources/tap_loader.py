"""The tap's loader: moves its journal into the store, a large batch at a time.

`JournalLoader` does the work. A tap runs it in a process of its own (`LoaderProcess`)
whenever the store can be opened again by its URL, so that storing, which is Python work
holding the GIL for milliseconds at a time, never delays the tap's answers; a store only
this process can reach (one in memory) is loaded on a thread instead. Both have the same
two calls, `position()` and `load_to(end)`, and fail the same way (`LoaderError`).

How far the journal is in the store is the tap's source offset, written in the same
transaction as the messages, so a loader killed at any point loses nothing and doubles
nothing: the next one starts from the store's offset.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from core import spawned
from core.ingest import receive
from core.sources import spool
from core.store import sources
from core.store.db import Store, open_store, store_unavailable
from core.store.pairing import Pairing

INGEST_BATCH = 2000  # journal records per store transaction
START_S = 60.0  # a loader process that has not opened the store by then is treated as failed


class LoaderError(Exception):
    """Storing failed. `unavailable`: the store itself is the trouble (down, locked, a loader
    process gone), so the journal waits and the tap tries again."""

    def __init__(self, text: str, *, unavailable: bool = False) -> None:
        super().__init__(text)
        self.unavailable = unavailable

    def __reduce__(self):  # it crosses the pipe from a loader process
        return LoaderError, (str(self),), {"unavailable": self.unavailable}


class JournalLoader:
    """Stores a tap's journal records in order, recording the journal position with them."""

    def __init__(self, store: Store, name: str, folder: Path, now: Callable[[], datetime]) -> None:
        self.store, self.name, self.now = store, name, now
        self.journal = spool.Journal(folder, name)
        self.pairing = Pairing(now)
        self.consumed = 0
        self.stored = 0  # records stored by this loader
        self.problems: list[str] = []  # said since the caller last took them

    def position(self) -> int:
        """How far the store has the journal (its source offset); where loading resumes."""
        with self.store.begin() as conn:
            self.consumed = sources.named(conn, self.name, "mllp", self.now())["offset"]
        return self.consumed

    def load_to(self, end: int) -> None:
        """Store every record before `end`. A record that cannot be stored as read is kept as
        its bytes (unparseable, with why); a store that is down raises and keeps its place."""
        try:
            while self.consumed < end:
                records = self.journal.read(self.consumed, INGEST_BATCH)
                if not records:
                    return
                try:
                    self._store(records)
                except Exception as exc:  # noqa: BLE001 - one record, or the store? One at a time says which
                    if store_unavailable(exc):
                        raise
                    self.pairing = Pairing(self.now)  # its caches may hold the failed transaction's rows
                    for record in records:
                        self._store_isolating(record)
                self.journal.prune(self.consumed)
        except Exception as exc:  # noqa: BLE001 - said in a line; the journal keeps every record
            raise LoaderError(why(exc), unavailable=store_unavailable(exc) or isinstance(exc, OSError)) from None

    def close(self) -> None:
        """Nothing to let go of: the store is the caller's."""

    def _store(self, records: list[spool.Record], unread: str | None = None) -> None:
        with self.store.begin() as conn:
            receive(conn, self.name, [r.raw for r in records], self.pairing, now=self.now(), transport="mllp",
                    unread=unread, peer=[r.peer for r in records], at=[r.position for r in records])
        self.consumed = records[-1].end
        self.stored += len(records)

    def _store_isolating(self, record: spool.Record) -> None:
        """A record stored as its bytes alone when it cannot be stored as read, so it never
        holds up what came after it. When even that fails the store itself is the trouble."""
        try:
            self._store([record])
        except Exception as exc:  # noqa: BLE001
            if store_unavailable(exc):
                raise
            reason = f"Lanewatch could not store this message as read ({why(exc)}); its bytes are kept as they came"
            self.pairing = Pairing(self.now)
            self._store([record], unread=reason)
            self.problems.append(f"{record.peer}: a message could not be stored as read: kept as unparseable ({why(exc)})")


class LoaderProcess:
    """A JournalLoader in a process of its own, called as if it were here: each call is a
    message over a pipe and its answer. A process that dies is a LoaderError (unavailable);
    the tap starts another, which resumes from the store's offset."""

    def __init__(self, url: str, name: str, folder: Path, now: Callable[[], datetime]) -> None:
        self._conn, theirs = spawned.context.Pipe()
        self._process = spawned.context.Process(target=_serve, args=(theirs, url, name, str(folder), now), daemon=True,
                                    name="lanewatch-tap-store")
        self._process.start()
        theirs.close()
        self.consumed = 0
        self.stored = 0
        self.problems: list[str] = []

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    def position(self) -> int:
        return self._call(("position",), START_S)

    def load_to(self, end: int) -> None:
        self._call(("load", end), None)

    def close(self) -> None:
        spawned.stop(self._process, self._conn, 10)
        self._conn.close()

    def _call(self, request: tuple, timeout: float | None):
        try:
            self._conn.send(request)
            if timeout is not None and not self._conn.poll(timeout):
                raise LoaderError(f"the store process did not answer within {timeout:g} s", unavailable=True)
            answer = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise LoaderError(f"the store process ended ({type(exc).__name__})", unavailable=True) from None
        self.consumed, stored, problems, result = answer
        self.stored += stored
        self.problems += problems
        if isinstance(result, LoaderError):
            raise result
        return result


def _serve(conn, url: str, name: str, folder: str, now: Callable[[], datetime]) -> None:
    """The loader process: answers position and load requests until told to stop (None)."""
    loader = None
    try:
        while (request := conn.recv()) is not None:
            before = loader.stored if loader else 0
            try:
                loader = loader or JournalLoader(open_store(url, upgrade=False, create=False), name, Path(folder), now)
                result = loader.position() if request[0] == "position" else loader.load_to(request[1])
            except LoaderError as exc:
                result = exc
            except Exception as exc:  # noqa: BLE001 - the store would not open: said, and tried again on the next call
                result = LoaderError(why(exc), unavailable=True)
            if loader is None:
                conn.send((0, 0, [], result))
                continue
            taken, loader.problems = loader.problems, []
            conn.send((loader.consumed, loader.stored - before, taken, result))
    except (EOFError, OSError, KeyboardInterrupt):
        pass  # the tap is gone, or stopping: what was not stored waits in the journal
    finally:
        if loader is not None:
            loader.store.close()


def why(exc: BaseException) -> str:
    """A store error in a line, without the statement's parameters (they hold PHI)."""
    cause = getattr(exc, "orig", None) or exc
    return f"{type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}"
