"""Python's cyclic garbage collector paused while bulk work runs.

Ingest makes millions of short-lived dicts, tuples and bytes and no reference cycles worth
collecting, yet the collector walks the young objects again every 700 allocations: a
tenth of ingest's time on a large log (issue 21). Reference counting still frees every
row the moment it is stored; only cycles (SQLAlchemy's and Qt's few) wait for the end.
Nested or concurrent bulk work (two ingests, a tap's loader) shares one pause: the
collector comes back, as it was, when the last one ends.
"""
from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = True


@contextmanager
def gc_paused() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
