"""Which Lanewatch this is: the version and the commit it was built from.

A frozen bundle carries `build_info.json` (written by packaging/build.py) beside its code;
a checkout asks git; an installed wheel knows only its version.
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
BUILD_INFO = "build_info.json"


@dataclass(frozen=True)
class Build:
    version: str
    commit: str | None  # short hash, with "+changes" when built from a tree with uncommitted edits
    frozen: bool

    def line(self) -> str:
        built = f" (commit {self.commit})" if self.commit else " (commit unknown)"
        return f"Lanewatch {self.version}{built}{', bundle' if self.frozen else ''}"


def bundle_folder() -> Path | None:
    """Where a frozen bundle keeps its data files; None when running from source."""
    folder = getattr(sys, "_MEIPASS", None)
    return Path(folder) if getattr(sys, "frozen", False) and folder else None


def git_commit(folder: Path = CHECKOUT) -> str | None:
    """The checkout's commit, marked when the tree has uncommitted changes; None outside git."""
    try:
        head = subprocess.run(["git", "-C", str(folder), "rev-parse", "--short=12", "HEAD"],
                              capture_output=True, text=True, timeout=5)
        if head.returncode:
            return None
        dirty = subprocess.run(["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+changes" if dirty else "")


def package_version() -> str:
    try:
        return metadata.version("lanewatch")
    except metadata.PackageNotFoundError:
        return "unknown"


@cache
def build() -> Build:
    folder = bundle_folder()
    if folder is not None:
        try:
            info = json.loads((folder / BUILD_INFO).read_text(encoding="utf-8"))
            return Build(str(info.get("version") or "unknown"), info.get("commit"), True)
        except (OSError, ValueError):
            return Build("unknown", None, True)
    return Build(package_version(), git_commit(), False)
