"""What a command-line value may be: checked where argparse reads it, so a bad value is one
line (`lanewatch messages: argument --since: ...`) and a non-zero exit, never a traceback,
and nothing absurd reaches the store (a 40-digit limit, NaN hours, a NUL in a search)."""
from __future__ import annotations

import argparse
import math
import sys
from datetime import datetime

from core import moments

MOST = 10**9  # no count here is larger (a store of a billion messages is far past what we hold)


def whole(low: int = 0, high: int = MOST, what: str = "a whole number"):
    def check(text: str) -> int:
        try:
            n = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not low <= n <= high:
            raise argparse.ArgumentTypeError(f"{n:,} is out of range: {what} from {low:,} to {high:,}")
        return n
    return check


def decimal(low: float, high: float, what: str = "a number"):
    def check(text: str) -> float:
        try:
            n = float(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not math.isfinite(n) or not low <= n <= high:
            raise argparse.ArgumentTypeError(f"{text} is out of range: {what} from {low:g} to {high:g}")
        return n
    return check


count = whole(0, MOST, "a count")
identifier = whole(1, 2**62, "an id")
port = whole(0, 65535, "a port")
seconds = decimal(0.0, 86_400.0, "seconds")


def moment(text: str) -> datetime:
    """A time as core.moments reads it: ISO 8601, today, yesterday, or 30m / 2h / 7d / 2w before now."""
    try:
        return moments.moment(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def words(text: str) -> str:
    """Free text to search or to note: printable, of a sane length."""
    if "\x00" in text:
        raise argparse.ArgumentTypeError("a NUL character cannot be searched for or stored")
    if len(text) > 2000:
        raise argparse.ArgumentTypeError(f"{len(text):,} characters is too long (at most 2,000)")
    return text


class Parser(argparse.ArgumentParser):
    """Bad usage is one line on stderr with where to look, and exit code 2 (argparse's)."""

    def error(self, message: str):
        print(f"{self.prog}: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(2)
