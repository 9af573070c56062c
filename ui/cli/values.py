"""What a command-line value may be: checked where argparse reads it, so a bad value is one
line (`lanewatch messages: argument --since: ...`) and a non-zero exit, never a traceback,
and nothing absurd reaches the store (a 40-digit limit, NaN hours, a NUL in a search)."""
from __future__ import annotations

import argparse
import math
import sys
from datetime import UTC, datetime, timedelta

MOST = 10**9  # no count here is larger (a store of a billion messages is far past what we hold)
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


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
    """An ISO 8601 time (UTC unless it says otherwise), today, yesterday, or a span before
    now: 30m, 2h, 7d, 2w."""
    value = text.strip().lower()
    if value in ("now", "today", "yesterday"):
        midnight = _now().replace(hour=0, minute=0, second=0, microsecond=0)
        return {"now": _now(), "today": midnight, "yesterday": midnight - timedelta(days=1)}[value]
    if value[-1:] in UNITS and value[:-1].isdigit():
        n = int(value[:-1])
        if n > 36_500 * (24 * 60 if value[-1] == "m" else 24 if value[-1] == "h" else 1):
            raise argparse.ArgumentTypeError(f"{text} reaches back more than a hundred years")
        return _now() - timedelta(**{UNITS[value[-1]]: n})
    try:
        t = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: give 2026-11-24T09:00 (ISO 8601), today, yesterday, or 30m / 2h / 7d before now") from None
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t


def moment_text(text: str) -> str:
    """A time as `moment` reads it, kept as typed (a saved view's "24h" means the last day whenever it is used)."""
    moment(text)
    return text.strip()


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
