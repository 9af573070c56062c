"""Where a Direct message stands with one recipient, and how a notice moves it.

The Direct lane's ACKs (DESIGN.md): `processed` (the receiving HISP took it), then, when
the sender asked for X-DIRECT-FINAL-DESTINATION-DELIVERY, `dispatched` (it reached the
final destination); or `failed` (an MDN saying so) or `delivery_failed` (a DSN). No
processed MDN within the interface's window, or no dispatched one when asked for, is
`timed_out`. A late notice still counts: a timed-out delivery that is then processed is
processed, and its timeout item is settled. A success never undoes a failure (notices
cross in the mail), and a processed MDN arriving after the dispatched one changes nothing.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from core.direct.mail import Notice
from core.vocabulary import Disposition, QueueKind

PROCESSED_WINDOW = timedelta(hours=1)  # an interface's ack_timeout_s overrides it
DISPATCHED_WINDOW = timedelta(hours=24)  # and its dispatch_timeout_s this one
FAILED = (Disposition.FAILED, Disposition.DELIVERY_FAILED)
_RANK = {Disposition.SENT: 0, Disposition.TIMED_OUT: 0, Disposition.PROCESSED: 1, Disposition.DISPATCHED: 2}


def advance(d: dict, notice: Notice, at: datetime) -> QueueKind | None:
    """Move delivery `d` (a direct_deliveries row as a dict) by a notice received at `at`;
    the queue kind to raise when it says the message failed."""
    said = notice.disposition
    if d["state"] in FAILED:
        return None
    if said in ("failed", "delivery_failed"):
        d.update(state=Disposition.FAILED if said == "failed" else Disposition.DELIVERY_FAILED, failed_at=at,
                 words=notice.words or ("the receiver's MDN says failed" if said == "failed" else "the DSN says failed"))
        return QueueKind.DIRECT_FAILED if said == "failed" else QueueKind.DIRECT_UNDELIVERED
    if said == "processed":
        d["processed_at"] = d["processed_at"] or at
        if _RANK[Disposition(d["state"])] < 1:
            d["state"] = Disposition.PROCESSED
    elif said == "dispatched":
        d["processed_at"] = d["processed_at"] or at
        d["dispatched_at"] = d["dispatched_at"] or at
        d["state"] = Disposition.DISPATCHED
    return None


def overdue(d: dict, now: datetime, processed: timedelta, dispatched: timedelta) -> str | None:
    """Why a delivery has timed out at `now`, or None: no processed MDN within its window,
    or, asked for, no dispatched one."""
    if d["state"] == Disposition.SENT and now - d["sent_at"] > processed:
        return f"no processed MDN from {d['recipient']} within {_span(processed)} of sending"
    if d["state"] == Disposition.PROCESSED and d["asks_dispatched"] and now - d["sent_at"] > dispatched:
        return (f"{d['recipient']} processed it but sent no dispatched MDN within {_span(dispatched)}, and the "
                "sender asked for final-destination delivery")
    return None


def _span(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    minutes = max(1, seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
