"""The one way to run work off the GUI thread (DESIGN.md, convention 4).

`submit` runs a plain function on Qt's thread pool and hands its result (or a failure a
person can read) back on the GUI thread through a queued signal. Workers never touch
widgets. Callers that may be overtaken tag their work with a generation and drop stale
results (convention 5): see `Generation`.
"""
from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

from core.progress import Progress

log = logging.getLogger(__name__)


class _Relay(QObject):
    """Lives on the GUI thread; its signal crosses threads queued, then calls back there.

    The result waits on the relay and the signal carries no arguments: Python objects are
    never marshalled through a queued connection (PySide has dropped references doing so).
    """

    ready = Signal()

    def __init__(self, on_done: Callable[[Any], None], on_failed: Callable[[str], None] | None) -> None:
        super().__init__()
        self._on_done, self._on_failed = on_done, on_failed
        self.result: Any = None
        self.error: str | None = None
        self.ready.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @Slot()
    def _deliver(self) -> None:
        _pending.discard(self)
        if self.error is None:
            self._on_done(self.result)
        elif self._on_failed:
            self._on_failed(self.error)


_pending: set[_Relay] = set()  # relays stay alive until they have delivered


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.fn, self.relay = fn, relay

    def run(self) -> None:
        try:
            self.relay.result = self.fn()
        except Exception as exc:  # reported to the person, never raised into Qt
            log.warning("background work failed: %s", type(exc).__name__)
            log.debug("%s", traceback.format_exc())
            self.relay.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        try:
            self.relay.ready.emit()
        except RuntimeError:  # whoever asked is gone (a closed window): nobody is left to tell
            _pending.discard(self.relay)


def submit(fn: Callable[[], Any], on_done: Callable[[Any], None], on_failed: Callable[[str], None] | None = None,
           *, context: QObject, pool: QThreadPool | None = None) -> None:
    """Run fn() in the background; on_done(result) or on_failed(text) run on the GUI thread,
    unless `context` (the model or window that asked) has been deleted by then."""
    relay = _Relay(on_done, on_failed)
    relay.setParent(context)
    _pending.add(relay)
    (pool or QThreadPool.globalInstance()).start(_Job(fn, relay))


class SignalProgress(QObject, Progress):
    """Core's progress protocol (core.progress) as a signal: told on a worker thread, heard on
    the GUI thread (queued), so core never touches a widget."""

    moved = Signal(int, int)  # done, of how many

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.total, self.done = 0, 0

    def started(self, total: int) -> None:
        self.total, self.done = total, 0

    def advanced(self, _nbytes: int, items: int) -> None:
        self.done += items
        self.moved.emit(self.done, self.total)


class Generation:
    """A counter that makes older requests' results recognisably stale."""

    def __init__(self) -> None:
        self.value = 0

    def next(self) -> int:
        self.value += 1
        return self.value

    def current(self, token: int) -> bool:
        return token == self.value
