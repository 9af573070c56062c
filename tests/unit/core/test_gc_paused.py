"""The cyclic collector is paused while bulk work runs, and comes back as it was when the last ends."""
from __future__ import annotations

import gc
import threading

from core.gc_paused import gc_paused
from core.ingest import Ingestor


def test_nested_and_concurrent_pauses_restore_the_collector_once():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        inside, go = threading.Event(), threading.Event()

        def other() -> None:
            with gc_paused():
                inside.set()
                go.wait(5)

        t = threading.Thread(target=other)
        t.start()
        inside.wait(5)
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread's pause still holds
    go.set()
    t.join()
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off():
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_ingest_pauses_it_and_gives_it_back_even_when_it_fails(store, tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(Ingestor, "sweep", lambda self: seen.append(gc.isenabled()) or 1 / 0)
    (tmp_path / "a.hl7").write_bytes(b"MSH|^~\\&|A|B|C|D|20261201||ADT^A01|1|P|2.5\r")
    try:
        Ingestor(store).ingest_paths([tmp_path])
    except ZeroDivisionError:
        pass
    assert seen == [False] and gc.isenabled()
