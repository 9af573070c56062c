"""Lanewatch's log: one rotating file in the platform's log folder, never PHI.

Log lines are ours and name kinds and counts, never a message's contents. An exception is
written as its type and the code path it took (files, lines, functions), never its text:
a database error or a parser's complaint can quote a patient's name. Five files of 1 MB
at most are kept.
"""
from __future__ import annotations

import logging
import traceback
from logging.handlers import RotatingFileHandler
from pathlib import Path

from core.workstation import log_folder

FILE = "lanewatch.log"
# libraries that log a request's URL at INFO: a FHIR search's URL carries a patient's name or identifier
QUIET = ("httpx", "httpx2", "httpcore", "httpcore2", "authlib", "urllib3")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class NoPhiFormatter(logging.Formatter):
    """Exceptions as type and frames only (file, line, function; not even the source line):
    their text may hold what a message said."""

    def format(self, record: logging.LogRecord) -> str:
        cached = record.exc_text  # another handler's rendering, with the exception's text: not ours to reuse
        record.exc_text = None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached

    def formatException(self, ei) -> str:  # noqa: N802 - logging's own name
        kind, _value, tb = ei
        frames = "".join(f'  File "{f.filename}", line {f.lineno}, in {f.name}\n' for f in traceback.extract_tb(tb))
        return f"Traceback (most recent call last):\n{frames}{kind.__name__ if kind else 'Exception'} (text withheld)"


def start(folder: Path | None = None, level: int = logging.INFO) -> Path | None:
    """Send this process's log to the rotating file; the file, or None when it cannot be
    written (then nothing is logged at all rather than printed at the person)."""
    root = logging.getLogger()
    if started := next((h for h in root.handlers if isinstance(h, RotatingFileHandler)), None):
        return Path(started.baseFilename)
    path = (folder or log_folder()) / FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=5, encoding="utf-8", delay=True)
    except OSError:
        handler, path = logging.NullHandler(), None
    handler.setFormatter(NoPhiFormatter(FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    return path
