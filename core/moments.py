"""A moment as a person types it: an ISO 8601 time (UTC unless it says otherwise), now,
today, yesterday, or a span before now (30m, 2h, 7d, 2w). The command line's --since and a
saved view's time range ("24h": the last day whenever the view is used) both read it so."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def moment(text: str) -> datetime:
    """The naive UTC time `text` names; ValueError says why it names none."""
    value = text.strip().lower()
    if value in ("now", "today", "yesterday"):
        now = utcnow()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return {"now": now, "today": midnight, "yesterday": midnight - timedelta(days=1)}[value]
    if value[-1:] in UNITS and value[:-1].isdigit():
        n = int(value[:-1])
        if n > 36_500 * (24 * 60 if value[-1] == "m" else 24 if value[-1] == "h" else 1):
            raise ValueError(f"{text} reaches back more than a hundred years")
        return utcnow() - timedelta(**{UNITS[value[-1]]: n})
    try:
        t = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a time: give 2026-11-24T09:00 (ISO 8601), today, yesterday, or "
                         "30m / 2h / 7d before now") from None
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t
