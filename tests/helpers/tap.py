"""A listening tap on its own event loop thread, as `lanewatch listen` runs it, and a peer."""
from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading

import hl7.client

from core.sources.listener import Listener

MSG = ("MSH|^~\\&|QUEST|QUEST_LAB|ECW|NORTHSIDE_FM|20260101120000||ORU^R01^ORU_R01|{cid}|P|2.5.1\r"
       "PID|1||MRN{cid}^^^NFM^MR||DOE^JANE\rOBR|1|P{cid}||GLU^Glucose\rOBX|1|NM|GLU^Glucose||98|mg/dL\r")


def listen_process(store_url: str) -> tuple[subprocess.Popen, int]:
    """`lanewatch listen` in a process of its own, and its port. It listens on port 0 and the
    port is read from what it says: a port chosen beforehand can be taken first by another
    test's server, and the messages then go there. Its stderr is a pipe the caller closes."""
    proc = subprocess.Popen([sys.executable, "-m", "ui.cli.main", "listen", "--port", "0"],
                            env=dict(os.environ, LANEWATCH_DB=store_url), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    said = proc.stderr.readline()
    if not (found := re.search(r"listening on 127\.0\.0\.1:(\d+)", said)):
        proc.kill()
        proc.communicate()
        raise AssertionError(f"lanewatch listen did not start: {said!r}")
    return proc, int(found.group(1))


class Tap:
    """A Listener running on its own event loop thread, as `lanewatch listen` runs it."""

    def __init__(self, store, **kw) -> None:
        self.loop = asyncio.new_event_loop()
        self.listener = Listener(store, **kw)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self.listener.start(), self.loop).result(10)

    def stored(self) -> None:
        asyncio.run_coroutine_threadsafe(self.listener.stored(), self.loop).result(10)

    def stop(self) -> None:
        # closing stores what is still in the journal; on a loaded two-core CI runner that
        # has been seen to take over 10 s after hostile traffic, so allow it 30
        asyncio.run_coroutine_threadsafe(self.listener.close(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def send(port: int, text: str) -> str:
    with hl7.client.MLLPClient("127.0.0.1", port) as client:
        return client.send_message(text).decode()


