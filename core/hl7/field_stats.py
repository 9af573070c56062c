"""Field statistics (issue 19): for field paths over a set of messages, how often each is
filled, how many distinct values it takes, the commonest with their counts and lengths, a
histogram when the values are times or numbers; and
drift: the values first seen since a moment (a new OBX-3 code, a new PV1-3 location, an
assigning authority that changed), which is what a go-live asks every morning.

Values are read as queries read them (core.hl7.query: `*` for any occurrence or
repetition, escapes undone), so `stats` and `--where` agree on what a path holds.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from core.hl7.query import FieldPath, Message
from core.hl7.scan import parse_ts

TOP = 10


@dataclass
class PathStats:
    path: str
    messages: int = 0  # messages examined
    filled: int = 0  # messages where the path holds a value
    values: Counter = field(default_factory=Counter)
    first_seen: dict[str, datetime | None] = field(default_factory=dict)
    before: set[str] = field(default_factory=set)  # values seen before the drift moment
    messages_before: int = 0  # of those, before the drift moment
    filled_before: int = 0
    shortest: int | None = None
    longest: int = 0
    total_length: int = 0

    def add(self, values: list[str], at: datetime | None, since: datetime | None) -> None:
        self.messages += 1
        present = [v for v in values if v != ""]
        if present:
            self.filled += 1
        if since is not None and at is not None and at < since:
            self.messages_before += 1
            self.filled_before += bool(present)
        for v in present:
            self.values[v] += 1
            n = len(v)
            self.shortest = n if self.shortest is None else min(self.shortest, n)
            self.longest = max(self.longest, n)
            self.total_length += n
            if v not in self.first_seen or (at and self.first_seen[v] and at < self.first_seen[v]):
                self.first_seen[v] = at
            if since is not None and at is not None and at < since:
                self.before.add(v)

    def report(self, since: datetime | None = None, top: int = TOP) -> dict:
        count = sum(self.values.values())
        out = {"path": self.path, "messages": self.messages, "filled": self.filled,
               "fill_rate": round(self.filled / self.messages, 4) if self.messages else 0.0,
               "distinct": len(self.values),
               "top": [{"value": v, "count": n, "first_seen": self.first_seen[v]} for v, n in self.values.most_common(top)],
               "length": {"min": self.shortest or 0, "max": self.longest,
                          "mean": round(self.total_length / count, 1) if count else 0.0}}
        if since is not None:  # drift: what a field holds, or whether it is filled, since the moment
            after, filled_after = self.messages - self.messages_before, self.filled - self.filled_before
            out["fill_rate_before"] = round(self.filled_before / self.messages_before, 4) if self.messages_before else None
            out["fill_rate_since"] = round(filled_after / after, 4) if after else None
            new = [v for v in self.values if v not in self.before]
            new.sort(key=lambda v: (self.first_seen[v] or since, v))
            out["new_since"] = [{"value": v, "count": self.values[v], "first_seen": self.first_seen[v]} for v in new]
        if (histogram := _histogram(self.values)) is not None:
            out["histogram"] = histogram
        return out


BINS = 12


def _number(value: str) -> float | None:
    try:
        n = float(value)
    except ValueError:
        return None
    return n if math.isfinite(n) else None


def _time(value: str) -> float | None:
    """An HL7 time (core.hl7.scan.parse_ts: a day at least) as seconds since 1970, UTC."""
    at = parse_ts(value)
    return at.replace(tzinfo=UTC).timestamp() if at else None


def _histogram(values: Counter) -> dict | None:
    """Counts in BINS equal ranges when nine values in ten (by count) are times, or numbers."""
    total = sum(values.values())
    for kind, read in (("time", _time), ("number", _number)):
        points = [(x, n) for v, n in values.items() if (x := read(v)) is not None]
        if not total or sum(n for _, n in points) < 0.9 * total or len(points) < 2:
            continue
        low, high = min(x for x, _ in points), max(x for x, _ in points)
        width = (high - low) / BINS or 1.0
        counts = [0] * BINS
        for x, n in points:
            counts[min(BINS - 1, int((x - low) / width))] += n
        return {"kind": kind, "edges": [low + i * width for i in range(BINS + 1)], "counts": counts}
    return None


class FieldStats:
    """Statistics of several paths, a message at a time."""

    def __init__(self, paths: list[str], since: datetime | None = None) -> None:
        self.paths = [(text, FieldPath.parse(text)) for text in paths]
        self.since = since
        self.stats = {text: PathStats(text) for text, _ in self.paths}

    def add(self, text: str, at: datetime | None) -> None:
        message = Message(text)
        for name, path in self.paths:
            self.stats[name].add(path.values(message), at, self.since)

    def report(self, top: int = TOP) -> list[dict]:
        return [s.report(self.since, top) for s in self.stats.values()]
