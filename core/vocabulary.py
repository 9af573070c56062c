"""The words the store keeps as codes (DESIGN.md, "Domain vocabulary"), each said once.

Every state, kind and class is a `StrEnum` member: its value is what the store holds, its
`words` are what a person reads, and its `look` is the kind of icon it gets (ui/icons.py
turns a look into a file). Labels, icons, filter lists and CLI choices are derived from
these, so adding a state is one edit here. Members are strings, so `row["state"] ==
TriageState.OPEN` holds for rows read back from the store.
"""
from __future__ import annotations

from enum import StrEnum


class Worded(StrEnum):
    """A code with its words and its look."""

    words: str
    look: str

    def __new__(cls, value: str, words: str, look: str = ""):
        member = str.__new__(cls, value)
        member._value_ = value
        member.words = words
        member.look = look
        return member

    @classmethod
    def label(cls, code: str | None) -> str:
        """The words of a code; an unknown code (a newer Lanewatch's) as it is."""
        member = cls.of(code)
        return member.words if member is not None else code or ""

    @classmethod
    def of(cls, code: str | None):
        """The member for a code, or None (no code, or one a newer Lanewatch wrote)."""
        try:
            return cls(code)
        except ValueError:
            return None

    @classmethod
    def values(cls) -> tuple[str, ...]:
        return tuple(m.value for m in cls)


class ParseState(Worded):
    OK = "ok", "OK", "good"
    INVALID = "invalid", "Invalid", "warn"
    UNPARSEABLE = "unparseable", "Unparseable", "broken"
    TEXT = "text", "Not HL7 v2 (kept as text)", "none"  # an engine's XML, JSON... content, stored as it came


class AckState(Worded):
    ACCEPTED = "accepted", "Accepted", "good"
    ACCEPTED_WITH_WARNINGS = "accepted_with_warnings", "Accepted, warnings", "good-warn"
    ERROR = "error", "Error (NAK)", "bad"
    REJECTED = "rejected", "Rejected (NAK)", "stop"
    MISSING = "missing", "ACK missing", "unknown"
    PENDING = "pending", "Awaiting ACK", "wait"
    NOT_EXPECTED = "not_expected", "No ACK expected", "none"
    UNRECOGNISED = "unrecognised", "ACK code not recognised", "unknown"


NAK_STATES = (AckState.ERROR, AckState.REJECTED)
ANSWERED = (AckState.ACCEPTED, AckState.ACCEPTED_WITH_WARNINGS, AckState.ERROR, AckState.REJECTED,
            AckState.UNRECOGNISED)  # an ACK came
PROBLEM_ACK_STATES = (AckState.ERROR, AckState.REJECTED, AckState.MISSING, AckState.UNRECOGNISED)  # "needs attention"


class TriageState(Worded):
    OPEN = "open", "Open", "wait"
    ACKNOWLEDGED = "acknowledged", "Acknowledged", "good"
    CORRECTED = "corrected", "Corrected", "good-warn"
    RESENT = "resent", "Resent", "good"
    RESOLVED = "resolved", "Resolved", "good"


ACTIVE_ITEMS = (TriageState.OPEN, TriageState.ACKNOWLEDGED)  # still someone's to handle
UNSETTLED_ITEMS = (*ACTIVE_ITEMS, TriageState.CORRECTED)  # not yet through to the receiver


class Lane(Worded):
    """Where a record came from: its lane decides which table holds it (docs/architecture.md)."""

    HL7V2 = "hl7v2", "HL7 v2"
    ENGINE = "engine", "Engine store"
    DIRECT = "direct", "Direct", "mail"
    DOCUMENT = "document", "Document"
    FHIR = "fhir", "FHIR", "fhir"
    BULK = "bulk", "Bulk export"


class QueueKind(Worded):
    NAK_ERROR = "nak_error", "NAK: error", "bad"
    NAK_REJECT = "nak_reject", "NAK: reject", "stop"
    MISSING_ACK = "missing_ack", "ACK missing", "unknown"
    UNPARSEABLE = "unparseable", "Unparseable", "broken"
    INVALID = "invalid", "Invalid", "warn"
    DUPLICATE = "duplicate", "Duplicate", "warn"
    BATCH_MISMATCH = "batch_mismatch", "Batch count", "warn"
    UNREADABLE_FILE = "unreadable_file", "Unreadable file", "broken"
    ERROR_FOLDER = "error_folder", "Error folder", "bad"
    FAILED_RESEND = "failed_resend", "Resend failed", "bad"
    FHIR_BULK_ERROR = "fhir_bulk_error", "FHIR bulk error", "bad"
    ENGINE_ERROR = "engine_error", "Engine: error", "bad"
    ENGINE_QUEUED = "engine_queued", "Engine: queued", "wait"
    ENGINE_FILTERED = "engine_filtered", "Engine: filtered", "none"
    DIRECT_FAILED = "direct_failed", "Direct: failed", "bad"  # a failed MDN
    DIRECT_UNDELIVERED = "direct_undelivered", "Direct: not delivered", "stop"  # a DSN
    DIRECT_TIMED_OUT = "direct_timed_out", "Direct: timed out", "unknown"  # no MDN in time
    DIRECT_MALFORMED = "direct_malformed", "Direct: malformed notice", "warn"  # an MDN/DSN that cannot be paired
    DIRECT_UNSECURED = "direct_unsecured", "Direct: not opened/verified", "bad"  # cannot be decrypted, or its signature fails
    DOCUMENT_INVALID = "document_invalid", "Document: invalid", "warn"  # fails the CDA schema (or is no document)
    DOCUMENT_INCOMPLETE = "document_incomplete", "Document: sections missing", "warn"  # its type's required sections
    FHIR_WRITE_FAILED = "fhir_write_failed", "FHIR write failed", "bad"  # 4xx/5xx, an error issue, or no answer
    FHIR_WRITE_FLAGGED = "fhir_write_flagged", "FHIR write not allowed", "stop"  # scope, switch, contract or capability


NAK_KINDS = (QueueKind.NAK_ERROR, QueueKind.NAK_REJECT)


class AuditAction(Worded):
    ACKNOWLEDGE = "acknowledge", "Acknowledge"
    REOPEN = "reopen", "Reopen"
    ASSIGN = "assign", "Assign"
    CORRECT = "correct", "Correct"
    RESEND = "resend", "Resend"
    RESEND_OUTCOME = "resend_outcome", "Resend outcome"
    RESOLVE = "resolve", "Resolve"
    CONFIGURE_INTERFACE = "configure_interface", "Configure interface"
    CONFIGURE_ENDPOINT = "configure_endpoint", "Configure endpoint"
    REMOVE_ENDPOINT = "remove_endpoint", "Remove endpoint"
    SIGN_IN_ENDPOINT = "sign_in_endpoint", "Sign in to endpoint"
    ADD_ALERT_RULE = "add_alert_rule", "Add alert rule"
    CHANGE_ALERT_RULE = "change_alert_rule", "Change alert rule"
    DELETE_ALERT_RULE = "delete_alert_rule", "Delete alert rule"
    ACKNOWLEDGE_ALERT = "acknowledge_alert", "Acknowledge alert"
    VIEW_MESSAGE = "view_message", "View message (PHI)"
    CONFIGURE_ENGINE = "configure_engine", "Configure engine"
    REMOVE_ENGINE = "remove_engine", "Remove engine"
    READ_ENGINE = "read_engine", "Read engine messages (PHI)"
    CONFIGURE_MAILBOX = "configure_mailbox", "Configure mailbox"
    REMOVE_MAILBOX = "remove_mailbox", "Remove mailbox"
    READ_MAILBOX = "read_mailbox", "Read mailbox messages (PHI)"
    ADD_DIRECT_KEY = "add_direct_key", "Add Direct certificate"
    REMOVE_DIRECT_KEY = "remove_direct_key", "Remove Direct certificate"
    SAVE_VIEW = "save_view", "Save view"
    DELETE_VIEW = "delete_view", "Delete view"
    REPROCESS = "reprocess", "Reprocess through engine"
    REPROCESS_OUTCOME = "reprocess_outcome", "Reprocess outcome"
    EXPORT = "export", "Export"


class Disposition(Worded):
    """Where a Direct message stands with one recipient (DESIGN.md: the Direct lane's ACK states)."""

    SENT = "sent", "Sent, no MDN yet", "wait"
    PROCESSED = "processed", "Processed", "good"
    DISPATCHED = "dispatched", "Dispatched", "good"
    FAILED = "failed", "Failed (MDN)", "bad"
    DELIVERY_FAILED = "delivery_failed", "Not delivered (DSN)", "stop"
    TIMED_OUT = "timed_out", "Timed out", "unknown"


class WriteClass(Worded):
    NONE = "none", "None (read only)"
    ADMINISTRATIVE = "administrative", "Administrative"
    CLINICAL = "clinical", "Clinical"


class AttemptState(Worded):
    """A resend attempt's outcome."""

    SENDING = "sending", "Sending"
    ACCEPTED = "accepted", "Accepted", "good"
    ERROR = "error", "Error (NAK)", "bad"
    REJECTED = "rejected", "Rejected (NAK)", "stop"
    FAILED = "failed", "Failed (never left)", "bad"
    UNKNOWN = "unknown", "Outcome unknown", "unknown"
    CONFLICT = "conflict", "Not sent (changed by someone else)", "warn"  # never stored: an outcome only


BLOCKING_ATTEMPTS = (AttemptState.SENDING, AttemptState.UNKNOWN)


class AlertState(Worded):
    OPEN = "open", "Open", "bad"
    ACKNOWLEDGED = "acknowledged", "Acknowledged", "warn"
    CLEARED = "cleared", "Cleared", "good"


ACTIVE_ALERTS = (AlertState.OPEN, AlertState.ACKNOWLEDGED)


class Direction(Worded):
    INBOUND = "inbound", "In", "in"
    OUTBOUND = "outbound", "Out", "out"
    BETWEEN = "between", "—", "none"
    UNKNOWN = "unknown", "?", "none"


class Health(Worded):
    """A flow's, an interface's or an endpoint's health."""

    OK = "ok", "OK", "good"
    WARN = "warn", "Open items", "warn"
    HIGH = "high", "Many open items", "stop"
    BAD = "bad", "Failing", "bad"
    QUIET = "quiet", "Quiet", "none"
    DEGRADED = "degraded", "Degraded", "warn"
    DOWN = "down", "Down", "bad"


class Severity(Worded):
    """How much a scope review finding matters."""

    HIGH = "high", "High", "stop"
    WARN = "warn", "Warning", "warn"
    INFO = "info", "Note", "none"
