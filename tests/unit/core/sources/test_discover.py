"""Files that are not plain files: links, loops, FIFOs, names that are not UTF-8, folders
nobody may read, files with no message. Each is read once or said with a reason, and no
entry stops the others."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from core.ingest import Ingestor
from core.sources.discover import Found, Passed, discover, error_folder
from core.sources.folder import FolderWatcher
from core.store import messages, queue

MSG = "MSH|^~\\&|ECW|NFM|QUEST|LAB|20260101120000||ADT^A08|{cid}|P|2.5.1\rPID|1||MRN7^^^NFM^MR||DOE^JANE\r"


@pytest.fixture
def logs(tmp_path):
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "2026-11-24.hl7").write_bytes(MSG.format(cid="T1").encode())
    (folder / "current.hl7").symlink_to("2026-11-24.hl7")
    os.link(folder / "2026-11-24.hl7", folder / "hard.hl7")
    (folder / "loop1").symlink_to("loop2")
    (folder / "loop2").symlink_to("loop1")
    (folder / "dangling.hl7").symlink_to("gone.hl7")
    os.mkfifo(folder / "pipe.hl7")
    (folder / os.fsdecode(b"caf\xe9.hl7")).write_bytes(MSG.format(cid="T2").encode())
    (folder / "nul.hl7").write_bytes(b"\x00" * 64)
    (folder / "blank.hl7").write_bytes(b"  \r\n\n\t")
    (folder / "zz-after.hl7").write_bytes(MSG.format(cid="T3").encode())
    return folder


def test_each_entry_is_read_once_or_passed_with_a_reason(logs):
    entries = list(discover([logs]))
    found = sorted(e.path.name for e in entries if isinstance(e, Found))
    passed = {e.path.name: e for e in entries if isinstance(e, Passed)}
    assert "pipe.hl7" not in found and "FIFO" in passed["pipe.hl7"].why
    assert {"loop1", "loop2", "dangling.hl7"} <= set(passed) and "loops or leads nowhere" in passed["loop1"].why
    linked = {"2026-11-24.hl7", "current.hl7", "hard.hl7"}
    assert len(linked & set(found)) == 1 and "current.hl7" in passed and not passed["current.hl7"].fault
    assert "zz-after.hl7" in found and os.fsdecode(b"caf\xe9.hl7") in found


def test_ingest_of_a_hostile_folder_stores_every_message_once_and_queues_every_fault(store, logs):
    summary = Ingestor(store).ingest_paths([logs])
    ids = sorted(m["control_id"] for m in messages.page(store, messages.MessageFilter(), limit=50)
                 if m["control_id"])
    assert ids == ["T1", "T2", "T3"]  # the linked log once, the non-UTF-8 name read, the file after the bad ones too
    items = queue.items(store)
    reasons = " | ".join(i["reason"] for i in items)
    assert "FIFO" in reasons and "loops or leads nowhere" in reasons and "only whitespace" in reasons
    assert "only NUL bytes" in reasons  # the NUL file is kept as unparseable bytes, not dropped
    assert not summary.missing
    again = Ingestor(store).ingest_paths([logs])  # a second run: the FIFO does not hang it, nothing is queued twice
    assert again.queued == 0 and len(queue.items(store)) == len(items)


def test_a_watcher_polls_past_a_fifo(store, logs):
    watcher = FolderWatcher(Ingestor(store), [logs], poll_s=0.05, settle_s=0)
    done = threading.Event()
    thread = threading.Thread(target=lambda: (watcher.poll_once(), watcher.poll_once(), done.set()), daemon=True)
    thread.start()
    assert done.wait(30), "a poll hung (a FIFO opened?)"


def test_an_unreadable_subfolder_is_queued_not_skipped_silently(store, tmp_path, monkeypatch):
    (tmp_path / "in" / "private").mkdir(parents=True)
    (tmp_path / "in" / "ok.hl7").write_bytes(MSG.format(cid="OK1").encode())
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path).name == "private":  # as a folder another user owns looks (tests run as root in CI)
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    Ingestor(store).ingest_paths([tmp_path / "in"])
    [item] = queue.items(store, kinds=["unreadable_file"])
    assert "could not be read (Permission denied)" in item["reason"] and item["source"].endswith("private")
    assert messages.count(store) == 1


def test_an_errors_folder_above_the_root_marks_nothing(store, tmp_path):
    root = tmp_path / "errors" / "interface-logs"
    (root / "rejected").mkdir(parents=True)
    (root / "in.hl7").write_bytes(MSG.format(cid="A1").encode())
    (root / "rejected" / "bad.hl7").write_bytes(MSG.format(cid="A2").encode())
    Ingestor(store).ingest_paths([root])
    [item] = queue.items(store, kinds=["error_folder"])
    assert item["signature"] == "error_folder | rejected" and item["control_id"] == "A2"
    assert error_folder(root / "in.hl7", root) is None
    assert error_folder(tmp_path / "errors" / "x.hl7", tmp_path / "errors") == "errors"  # named itself: it counts
    assert error_folder(tmp_path / "errors" / "x.hl7", tmp_path / "errors" / "x.hl7") == "errors"


def test_nul_padding_is_kept_with_its_message(store, tmp_path):
    raw = b"\x00\x00" + MSG.format(cid="N1").encode() + b"\x00\x00\x00"
    (tmp_path / "padded.hl7").write_bytes(raw)
    Ingestor(store).ingest_paths([tmp_path / "padded.hl7"])
    [row] = messages.page(store, messages.MessageFilter(), limit=5)
    assert messages.get(store, row["id"])["raw"] == raw and row["parse_state"] == "ok" and row["control_id"] == "N1"
