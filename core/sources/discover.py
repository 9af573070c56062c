"""Which files a list of paths names: every regular file once, by its real identity.

Log folders hold more than plain files: `current.hl7` linked to today's log, links that
loop or lead nowhere, FIFOs, sockets, names that are not UTF-8, subfolders nobody may read.
Each file is known by device and inode (read once, so a link and its target are one file),
special files are never opened (a FIFO would block forever), and everything passed over is
said with a reason: nothing is skipped silently, and one bad entry never stops the others.
"""
from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

KINDS = {stat.S_ISFIFO: "a FIFO (named pipe)", stat.S_ISSOCK: "a socket", stat.S_ISCHR: "a character device",
         stat.S_ISBLK: "a block device", stat.S_ISDIR: "a folder"}


@dataclass(frozen=True)
class Found:
    path: Path
    root: Path  # the path it was found under, as named


@dataclass(frozen=True)
class Passed:
    """An entry not read, and why. `fault` is False for what needs nobody (a second link)."""

    path: Path
    why: str
    fault: bool = True
    named: bool = False  # one of the paths asked for, not something found below one


def shown(path: Path | str) -> str:
    """A path as text that can be stored and printed: bytes that are not UTF-8 as \\x escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def discover(paths: Iterable[str | Path], skip: frozenset[Path] = frozenset()) -> Iterator[Found | Passed]:
    """Files named, and every file below folders named, in a stable order; hidden files and
    `skip` (the store's own files, should it live in a watched folder) left out."""
    seen: dict[tuple[int, int], Path] = {}
    skipped = {_identity(p) for p in skip} - {None}
    for root in map(Path, paths):
        try:
            st = os.stat(root)
        except OSError as exc:
            yield Passed(root, _why_not(root, exc), named=True)
            continue
        if not stat.S_ISDIR(st.st_mode):
            yield from _one(root, root, seen, skipped)
            continue
        problems: list[OSError] = []
        for folder, dirs, names in os.walk(root, onerror=problems.append):
            for exc in problems:
                yield Passed(Path(exc.filename or folder), f"the folder could not be read ({exc.strerror or 'error'})")
            problems.clear()
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            # files before links to them, so a link is what is said to be "the same file"
            for name in sorted(names, key=lambda n: (os.path.islink(os.path.join(folder, n)), n)):
                if not name.startswith("."):
                    yield from _one(Path(folder) / name, root, seen, skipped)
        for exc in problems:
            yield Passed(Path(exc.filename or root), f"the folder could not be read ({exc.strerror or 'error'})")


def _one(path: Path, root: Path, seen: dict, skipped: set) -> Iterator[Found | Passed]:
    try:
        st = os.stat(path)  # through a link, to what it names
    except OSError as exc:
        yield Passed(path, _why_not(path, exc))
        return
    identity = (st.st_dev, st.st_ino)
    if identity in skipped:
        return
    if not stat.S_ISREG(st.st_mode):
        kind = next((words for test, words in KINDS.items() if test(st.st_mode)), "not a regular file")
        yield Passed(path, f"{kind}, not a file of messages: never opened")
        return
    if identity in seen:
        yield Passed(path, f"the same file as {shown(seen[identity].name)}: read once", fault=False)
        return
    seen[identity] = path
    yield Found(path, root)


def _why_not(path: Path, exc: OSError) -> str:
    if path.is_symlink():
        return "a symbolic link that loops or leads nowhere"
    if isinstance(exc, FileNotFoundError):
        return "does not exist"
    return f"could not be read ({exc.strerror or type(exc).__name__})"


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def error_folder(path: Path, root: Path) -> str | None:
    """The engine error folder (errors/, rejected/, dead_letter/...) a file lies in, counting
    only the folders from the one named down to the file: an `errors` folder above it names
    where the logs are kept, not what the engine did with them."""
    if path == root:  # a file named on its own: the folder it lies in
        folders = [path.parent.name]
    else:
        try:
            folders = [root.name, *path.parent.relative_to(root).parts]
        except ValueError:
            folders = []
    return next((f for f in reversed(folders) if f.lower() in ERROR_FOLDERS), None)


# folders where engines put what they could not process or deliver
ERROR_FOLDERS = frozenset(("error", "errors", "err", "failed", "failures", "rejected", "rejects", "dead_letter",
                           "deadletter", "dead-letter", "quarantine", "bad"))
