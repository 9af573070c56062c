"""Tailing folders: appends, rotation, renames, and resuming after a real kill."""
import os
import signal
import subprocess
import sys
import time

from sqlalchemy import func, select

from core.demo import write_logs
from core.ingest import Ingestor
from core.sources.folder import FolderWatcher
from core.store.models import Message

MSG = "MSH|^~\\&|LAB|L|EHR|E|20260302090000||ORU^R01|{}|P|2.5.1\rPID|1||P{}\r"


def control_ids(store):
    with store.read() as c:
        return sorted(c.execute(select(Message.control_id)).scalars())


def watcher(store, folder):
    return FolderWatcher(Ingestor(store), [folder], settle_s=0.0, sweep_s=3600)


def test_appends_rotation_and_renames(store, tmp_path):
    log = tmp_path / "in.hl7"
    log.write_text(MSG.format(1, 1) + MSG.format(2, 2), newline="")
    w = watcher(store, tmp_path)
    w.poll_once()
    with open(log, "a", newline="") as f:
        f.write(MSG.format(3, 3))
    w.poll_once()
    assert control_ids(store) == ["1", "2", "3"]
    # rotation: the engine renames the log away, appends one last message to it, starts anew
    os.rename(log, tmp_path / "in.hl7.1")
    with open(tmp_path / "in.hl7.1", "a", newline="") as f:
        f.write(MSG.format(4, 4))
    log.write_text(MSG.format(5, 5), newline="")
    w.poll_once()
    w.poll_once()
    assert control_ids(store) == ["1", "2", "3", "4", "5"]


def test_half_written_message_waits_for_the_file_to_settle(store, tmp_path):
    log = tmp_path / "in.hl7"
    whole = MSG.format(1, 1) + MSG.format(2, 2)
    log.write_text(whole[:-10], newline="")
    w = FolderWatcher(Ingestor(store), [tmp_path], settle_s=3600, sweep_s=3600)
    w.poll_once()
    assert control_ids(store) == ["1"]  # the second may still be being written
    log.write_text(whole, newline="")
    w.poll_once()
    w.settle_s = 0
    w.poll_once()
    with store.read() as c:
        pids = c.execute(select(Message.patient_id)).scalars().all()
    assert control_ids(store) == ["1", "2"] and pids == ["P1", "P2"]


def test_resume_after_kill_mid_file_no_duplicate_no_gap(store_url, tmp_path):
    from core.store.db import open_store

    logs = tmp_path / "logs"
    write_logs(logs, 60000, seed=3)
    expected = 0
    for f in logs.rglob("*.hl7"):
        from core.hl7.framing import JUNK, MESSAGE, frame
        expected += sum(p.kind in (MESSAGE, JUNK) for p in frame(f.read_bytes())[0])
    env = dict(os.environ, LANEWATCH_DB=store_url)
    cmd = [sys.executable, "-m", "ui.cli.main", "watch", str(logs), "--poll", "0.2", "--settle", "0"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = open_store(store_url)
    try:
        deadline = time.monotonic() + 60
        count = 0
        while time.monotonic() < deadline:  # kill it once it is part way through
            with store.read() as c:
                count = c.execute(select(func.count()).select_from(Message)).scalar_one()
            if count > 8000:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert 0 < count < expected, "the kill must land in the middle of the work"
        FolderWatcher(Ingestor(store), [logs], settle_s=0, sweep_s=3600).poll_once()
        with store.read() as c:
            rows = c.execute(select(Message.source_id, Message.offset, Message.size).order_by(Message.source_id, Message.offset)).all()
        assert len(rows) == expected
        assert len(set((r.source_id, r.offset) for r in rows)) == expected  # no duplicate
        by_source = {}
        for r in rows:
            by_source.setdefault(r.source_id, []).append(r)
        for msgs in by_source.values():  # no gap: each message starts at or after the last one's end
            assert all(b.offset >= a.offset + a.size for a, b in zip(msgs, msgs[1:]))
    finally:
        if proc.poll() is None:
            proc.kill()
        store.close()
