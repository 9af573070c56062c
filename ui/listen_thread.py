"""The listening tap inside the console: an asyncio loop on a thread of its own.

The listener stores through its own writer thread, as `lanewatch listen` does; this
thread only runs the event loop and reports counts and peers to the status bar.
"""
from __future__ import annotations

import asyncio

from PySide6.QtCore import QThread, Signal

from core.sources.listener import Listener
from core.store.db import Store


class ListenThread(QThread):
    started_on = Signal(int)  # the port
    activity = Signal(int, int, object)  # received, answered, peers (list of "host:port")
    problem = Signal(str)

    def __init__(self, store: Store, host: str, port: int, ack_mode: str, parent=None) -> None:
        super().__init__(parent)
        self.store, self.host, self.port, self.ack_mode = store, host, port, ack_mode
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    def run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._serve())
        except OSError as exc:
            self.problem.emit(f"could not listen on {self.host}:{self.port}: {exc.strerror or exc}")
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        tap = Listener(self.store, self.host, self.port, ack_mode=self.ack_mode)
        self.port = await tap.start()  # the port asked for, or the one the system chose for 0
        self.started_on.emit(self.port)
        shown = None
        try:
            while not self._stop.is_set():
                now = (tap.stats.received, tap.stats.answered, sorted(tap.peers), len(tap.stats.problems))
                if now != shown:
                    shown = now
                    self.activity.emit(now[0], now[1], now[2])
                    if tap.stats.problems and now[3] != (shown[3] if shown else 0):
                        self.problem.emit(tap.stats.problems[-1])
                try:
                    await asyncio.wait_for(self._stop.wait(), 0.5)
                except TimeoutError:
                    pass
        finally:
            await tap.close()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self.isRunning():
            self._loop.call_soon_threadsafe(self._stop.set)
        self.wait(10_000)
