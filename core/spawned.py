"""Helper processes (the ingest's row worker, the tap's loader): spawned, never forked,
since the process that starts them may run Qt or threads; and stopped the same way."""
from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection

context = multiprocessing.get_context("spawn")


def stop(process, requests: Connection, wait_s: float) -> None:
    """Ask a helper to stop (None on its request pipe), wait for it, and kill it if it would not."""
    if process.is_alive():
        try:
            requests.send(None)
        except OSError:
            pass  # gone already
        process.join(wait_s)
    if process.is_alive():
        process.kill()
        process.join()
