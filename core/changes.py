"""What a command changed, so every front end refreshes exactly what is stale (Anki's
OpChanges). Each command declares its `changes`; the window refreshes every view that
shows one of them from one signal, keeping what the person had chosen."""
from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Changes:
    messages: bool = False  # messages stored or changed (a correction, a resend's answer)
    queue: bool = False  # queue items added or moved on
    interfaces: bool = False  # an interface's settings
    endpoints: bool = False  # FHIR endpoints and their probes
    alerts: bool = False  # alert rules and alerts
    audit: bool = False  # the audit trail grew
    views: bool = False  # saved views

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


NOTHING = Changes()
TRIAGE = Changes(queue=True, audit=True)  # acknowledge, reopen, assign
WRITE = Changes(messages=True, queue=True, audit=True)  # a correction, a resend
RULES = Changes(alerts=True, audit=True)  # alert rules and acknowledging an alert
