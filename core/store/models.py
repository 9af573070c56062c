"""The store's tables as SQLAlchemy 2 typed models. Alembic migrations create them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    false,
    text,
)
from sqlalchemy import text as sql_text  # the alerts table has a column called text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Parse, ACK and triage states are named as DESIGN.md names them; core/labels.py has their words.

ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite's rowid alias must be INTEGER


class Base(DeclarativeBase):
    pass


class Source(Base):
    """A file (or listener) messages came from, with how far it has been read."""

    __tablename__ = "sources"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    path: Mapped[str] = mapped_column(Text, index=True)
    kind: Mapped[str] = mapped_column(String(16), default="file")  # file, mllp
    device: Mapped[int | None] = mapped_column(BigInteger)
    inode: Mapped[int | None] = mapped_column(BigInteger)
    fingerprint: Mapped[str | None] = mapped_column(String(64))  # sha256 of the first KiB
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)  # bytes taken, all committed
    state: Mapped[str] = mapped_column(String(16), default="active")  # active, done, gone, error
    error: Mapped[str | None] = mapped_column(Text)
    batch: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # open FHS/BHS counters, kept across restarts
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime)


class Interface(Base):
    """A logical lane between two systems, discovered from traffic or configured."""

    __tablename__ = "interfaces"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    match_key: Mapped[str] = mapped_column(String(820), unique=True)  # sender>receiver, see correlate
    lane: Mapped[str] = mapped_column(String(32), default="hl7v2")
    sending_app: Mapped[str | None] = mapped_column(String(200))
    sending_facility: Mapped[str | None] = mapped_column(String(200))
    receiving_app: Mapped[str | None] = mapped_column(String(200))
    receiving_facility: Mapped[str | None] = mapped_column(String(200))
    direction: Mapped[str] = mapped_column(String(16), default="unknown")  # inbound, outbound
    expects_ack: Mapped[bool | None] = mapped_column(Boolean)  # None: decide from traffic
    ack_timeout_s: Mapped[int] = mapped_column(Integer, default=300)  # Direct: the processed MDN's window
    dispatch_timeout_s: Mapped[int | None] = mapped_column(Integer)  # Direct: the dispatched MDN's, when asked for
    silence_threshold_s: Mapped[int | None] = mapped_column(Integer)
    write_class: Mapped[str] = mapped_column(String(16), default="none")  # none, administrative, clinical
    write_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    resend_host: Mapped[str | None] = mapped_column(String(255))
    resend_port: Mapped[int | None] = mapped_column(Integer)
    resend_tls: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    resend_tls_ca: Mapped[str | None] = mapped_column(Text)  # PEM file to verify the receiver; else the system's
    resend_tls_cert: Mapped[str | None] = mapped_column(Text)  # our client certificate (PEM), when asked for one
    resend_tls_key: Mapped[str | None] = mapped_column(Text)  # its key (PEM file, kept by the OS's file permissions)
    owner: Mapped[str | None] = mapped_column(String(200))


class Pair(Base):
    """An unordered pair of systems: ACKs pair only within one, and it knows its activity."""

    __tablename__ = "pairs"
    key: Mapped[str] = mapped_column(String(820), primary_key=True)
    acks_seen: Mapped[bool] = mapped_column(Boolean, default=False)
    last_activity: Mapped[datetime | None] = mapped_column(DateTime)


class Message(Base):
    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    offset: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(Integer)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime)
    transport: Mapped[str] = mapped_column(String(8), default="file")  # file, mllp
    peer: Mapped[str | None] = mapped_column(String(255))
    interface_id: Mapped[int | None] = mapped_column(ForeignKey("interfaces.id"))
    pair_key: Mapped[str | None] = mapped_column(String(820))
    is_ack: Mapped[bool] = mapped_column(Boolean, default=False)
    # keys from the scanner (core.hl7.scan.KEY_NAMES)
    sending_app: Mapped[str | None] = mapped_column(String(200))
    sending_facility: Mapped[str | None] = mapped_column(String(200))
    receiving_app: Mapped[str | None] = mapped_column(String(200))
    receiving_facility: Mapped[str | None] = mapped_column(String(200))
    message_time: Mapped[datetime | None] = mapped_column(DateTime)
    security: Mapped[str | None] = mapped_column(String(200))
    message_type: Mapped[str | None] = mapped_column(String(40))
    control_id: Mapped[str | None] = mapped_column(String(200))
    processing_id: Mapped[str | None] = mapped_column(String(10))
    version: Mapped[str | None] = mapped_column(String(20))
    accept_ack_type: Mapped[str | None] = mapped_column(String(10))
    app_ack_type: Mapped[str | None] = mapped_column(String(10))
    charset: Mapped[str | None] = mapped_column(String(40))
    patient_id: Mapped[str | None] = mapped_column(String(200))
    patient_name: Mapped[str | None] = mapped_column(String(400))
    placer_order: Mapped[str | None] = mapped_column(String(200))
    filler_order: Mapped[str | None] = mapped_column(String(200))
    ack_code: Mapped[str | None] = mapped_column(String(10))  # MSA-1 of this message, if an ACK
    ack_control_id: Mapped[str | None] = mapped_column(String(200))  # MSA-2
    ack_text: Mapped[str | None] = mapped_column(Text)
    errors: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    segment_count: Mapped[int] = mapped_column(Integer, default=0)
    parse_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    # correlation
    content_hash: Mapped[str] = mapped_column(String(64))  # sha256 ignoring EOL style and BOM
    duplicate_of: Mapped[int | None] = mapped_column(BigInteger)
    ack_state: Mapped[str] = mapped_column(String(24), default="not_expected")
    ack_result: Mapped[str | None] = mapped_column(String(10))  # the deciding ACK's MSA-1
    ack_id: Mapped[int | None] = mapped_column(BigInteger)  # the deciding ACK
    answers_id: Mapped[int | None] = mapped_column(BigInteger)  # for an ACK: the message it answers
    event_time: Mapped[datetime | None] = mapped_column(DateTime)  # MSH-7, else when received: lists sort by it
    parent_id: Mapped[int | None] = mapped_column(BigInteger)  # a correction: the version it corrects
    version_no: Mapped[int] = mapped_column(Integer, default=1)  # 1 for what arrived, 2.. for corrections

    __table_args__ = (
        Index("ix_messages_source_offset", "source_id", "offset", unique=True),
        Index("ix_messages_event_time", "event_time", "id"),
        Index("ix_messages_received_at", "received_at"),  # arrival: silence, the board, alert windows
        Index("ix_messages_control_id", "control_id"),
        Index("ix_messages_type", "message_type"),
        Index("ix_messages_interface", "interface_id", "event_time", "id"),
        # keys most messages lack, indexed only where present (migration 0009)
        *(Index(name, column, sqlite_where=text(f"{column} IS NOT NULL"), postgresql_where=text(f"{column} IS NOT NULL"))
          for name, column in (("ix_messages_patient_id", "patient_id"), ("ix_messages_placer", "placer_order"),
                               ("ix_messages_filler", "filler_order"), ("ix_messages_parent_id", "parent_id"))),
        # ACKs still waiting for the message they answer: pairing probes only these
        Index("ix_messages_waiting_acks", "ack_control_id",
              sqlite_where=text("ack_control_id IS NOT NULL AND answers_id IS NULL"),
              postgresql_where=text("ack_control_id IS NOT NULL AND answers_id IS NULL")),
        Index("ix_messages_states", "ack_state", "parse_state"),
        # covering the flow aggregates (core.store.flows): they never read the rows and their bytes
        Index("ix_messages_flow", "is_ack", "event_time", "interface_id", "message_type", "ack_state", "parse_state",
              "ack_id"),
    )


class QueueItem(Base):
    """Something that needs a person: a NAK, a missing ACK, a bad message or file; in any lane."""

    __tablename__ = "queue_items"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    lane: Mapped[str] = mapped_column(String(16), default="hl7v2", server_default="hl7v2")  # core.vocabulary.Lane
    message_id: Mapped[int | None] = mapped_column(BigInteger, index=True)  # the record's id in its lane's table; None: a file
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    kind: Mapped[str] = mapped_column(String(24))  # nak_error, nak_reject, missing_ack, ...
    reason: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(400), index=True)
    triage_state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    owner: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    ack_reason: Mapped[str | None] = mapped_column(String(32))  # why acknowledged: resolved_upstream, test_message, ...
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}
    __table_args__ = (Index("ix_queue_items_record", "lane", "message_id"),)  # any lane's record (migration 0014)


class ResendAttempt(Base):
    """One try at sending a message again: written before it leaves, completed when answered.

    An attempt still `sending` after its process is gone is shown as `unknown` and blocks a
    silent retry: the receiver may or may not have the message."""

    __tablename__ = "resend_attempts"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    item_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    message_id: Mapped[int] = mapped_column(BigInteger, index=True)  # the version sent (original or correction)
    original_id: Mapped[int] = mapped_column(BigInteger, index=True)  # the message as it first arrived
    destination: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(16), index=True)  # sending, accepted, error, rejected, failed, unknown
    ack_code: Mapped[str | None] = mapped_column(String(10))
    answer_id: Mapped[int | None] = mapped_column(BigInteger)  # the stored ACK
    detail: Mapped[str | None] = mapped_column(Text)
    sent: Mapped[bytes | None] = mapped_column(LargeBinary)  # the bytes that left, as they left (CR terminators)
    actor: Mapped[str] = mapped_column(String(300))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditEntry(Base):
    """One thing a person did or saw, chained to the entry before it by hash (core.audit)."""

    __tablename__ = "audit_entries"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)  # 1, 2, 3...: a gap is a deleted entry
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(300), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    item_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    message_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    before: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    after: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    signer: Mapped[str | None] = mapped_column(String(64))  # the signing key's fingerprint (audit_keys)
    signature: Mapped[str | None] = mapped_column(String(128))  # Ed25519 over the hash, hex


class AuditHead(Base):
    """The chain's newest link, one row: updating it serialises writers on either engine."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class AuditKey(Base):
    """A workstation's audit signing key: the public half (the private one stays in its keyring)."""

    __tablename__ = "audit_keys"
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the raw public key, hex
    public_key: Mapped[str] = mapped_column(String(64))  # raw Ed25519 public key, hex
    workstation: Mapped[str] = mapped_column(String(300))
    registered_at: Mapped[datetime] = mapped_column(DateTime)


class FhirEndpoint(Base):
    """A FHIR server and the client the practice uses on it. Secrets are in the OS keyring
    (core.secrets), never here; what discovery found is kept to inventory scopes offline."""

    __tablename__ = "fhir_endpoints"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    base_url: Mapped[str] = mapped_column(Text)
    auth: Mapped[str] = mapped_column(String(32), default="none")  # core.fhir.auth.METHODS
    client_id: Mapped[str | None] = mapped_column(String(300))
    token_url: Mapped[str | None] = mapped_column(Text)  # else the smart-configuration's
    alg: Mapped[str | None] = mapped_column(String(10))  # RS384 or ES384 for backend services
    key_id: Mapped[str | None] = mapped_column(String(200))  # the JWK's kid the server knows our key by
    audience: Mapped[str] = mapped_column(String(16), default="provider")  # patient, provider, backend
    scopes_requested: Mapped[str | None] = mapped_column(Text)
    scopes_needed: Mapped[str | None] = mapped_column(Text)  # what the configured workflows use
    scopes_granted: Mapped[str | None] = mapped_column(Text)  # the last token response's scope
    probe_path: Mapped[str | None] = mapped_column(Text)  # the one read a health probe makes
    capability: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # the CapabilityStatement as fetched
    smart_config: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    fhir_version: Mapped[str | None] = mapped_column(String(20))
    software: Mapped[str | None] = mapped_column(String(300))
    cert_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    discovered_at: Mapped[datetime | None] = mapped_column(DateTime)
    discovery_problem: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    write_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # the FHIR retry switch
    contracted_writes: Mapped[list | None] = mapped_column(JSON(none_as_null=True))  # ["DocumentReference", "Observation.create"]


class FhirExchange(Base):
    """A FHIR exchange stored in `messages` (core.fhir.exchange.render: credentials left out,
    bodies byte for byte), with what it was and how its write was judged (core.fhir.writes)."""

    __tablename__ = "fhir_exchanges"
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)  # messages.id
    endpoint_id: Mapped[int] = mapped_column(BigInteger)
    app: Mapped[str | None] = mapped_column(String(300))
    method: Mapped[str] = mapped_column(String(10))
    url: Mapped[str] = mapped_column(Text)
    interaction: Mapped[str] = mapped_column(String(24))  # core.fhir.exchange.Interaction.name
    operation: Mapped[str | None] = mapped_column(String(100))
    resource_type: Mapped[str | None] = mapped_column(String(100))
    resource_id: Mapped[str | None] = mapped_column(String(200))
    conditional: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[int] = mapped_column(Integer)  # 0: no response
    ok: Mapped[bool] = mapped_column(Boolean)  # a 2xx without an error or fatal issue
    duration_ms: Mapped[float | None] = mapped_column(Float)
    is_write: Mapped[bool] = mapped_column(Boolean)
    write_class: Mapped[str | None] = mapped_column(String(16))
    scopes: Mapped[str | None] = mapped_column(Text)  # what the token granted (the token is never kept)
    scope_allows: Mapped[bool | None] = mapped_column(Boolean)
    capability_allows: Mapped[bool | None] = mapped_column(Boolean)
    contracted: Mapped[bool | None] = mapped_column(Boolean)
    write_enabled: Mapped[bool | None] = mapped_column(Boolean)  # the endpoint's switch when it was seen
    flags: Mapped[list] = mapped_column(JSON)
    outcome: Mapped[str | None] = mapped_column(Text)  # the answer in words
    issues: Mapped[list] = mapped_column(JSON)  # the OperationOutcome's [{severity, code, text, expression}]
    retry_after: Mapped[str | None] = mapped_column(String(100))  # a 429's Retry-After, as sent
    identifier: Mapped[str | None] = mapped_column(String(500))  # the request resource's business identifier
    location: Mapped[str | None] = mapped_column(Text)  # the response's Location
    etag: Mapped[str | None] = mapped_column(String(200))
    if_match: Mapped[str | None] = mapped_column(String(200))  # the version an update was based on
    request_at: Mapped[int] = mapped_column(Integer)  # where the request body lies in the stored text, and its size
    request_size: Mapped[int] = mapped_column(Integer)
    response_at: Mapped[int] = mapped_column(Integer)
    response_size: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_fhir_exchanges_endpoint", "endpoint_id", "message_id"),
                      Index("ix_fhir_exchanges_writes", "is_write", "ok"))


class FhirProbe(Base):
    """One health probe of an endpoint: metadata, token, one read; each step timed."""

    __tablename__ = "fhir_probes"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(BigInteger, index=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    status: Mapped[str] = mapped_column(String(16))  # ok, degraded, down
    latency_ms: Mapped[float | None] = mapped_column(Float)  # the whole probe
    steps: Mapped[list | None] = mapped_column(JSON(none_as_null=True))  # [{step, ok, http_status, ms, detail}]
    detail: Mapped[str | None] = mapped_column(Text)  # the first problem, in words


class AlertRule(Base):
    """When to raise an alert about an interface (or every interface, interface_id None)."""

    __tablename__ = "alert_rules"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    interface_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))  # core.alerts.KINDS
    threshold: Mapped[float] = mapped_column(Float)
    window_min: Mapped[int] = mapped_column(Integer, default=15)
    hours: Mapped[str | None] = mapped_column(String(11))  # "07:00-19:00": only then (silence rules)
    weekdays: Mapped[str | None] = mapped_column(String(7))  # "12345": Monday to Friday
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    path: Mapped[str | None] = mapped_column(String(100))  # field_drift: the field path watched
    read_to: Mapped[int | None] = mapped_column(BigInteger)  # field_drift: the last message read


class DriftValue(Base):
    """A value a field_drift rule has seen on an interface, and when it was first seen."""

    __tablename__ = "drift_values"
    __table_args__ = (Index("ix_drift_values_first_seen", "rule_id", "first_seen"),)
    rule_id: Mapped[int] = mapped_column(ID, ForeignKey("alert_rules.id", ondelete="CASCADE"), primary_key=True)
    interface_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    value: Mapped[str] = mapped_column(String(400), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(DateTime)


class Alert(Base):
    """One time a rule fired for an interface: open until it clears; a person may acknowledge it."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    rule_id: Mapped[int] = mapped_column(BigInteger, index=True)
    interface_id: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), index=True)  # open, acknowledged, cleared
    text: Mapped[str] = mapped_column(Text)
    value: Mapped[float | None] = mapped_column(Float)
    raised_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(300))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(Text)
    ok_since: Mapped[datetime | None] = mapped_column(DateTime)  # its condition false since then (hysteresis)

    __table_args__ = (  # one active alert per rule and interface, whoever evaluates (migration 0013)
        Index("ix_alerts_one_active", "rule_id", "interface_id", unique=True,
              sqlite_where=sql_text("state IN ('open', 'acknowledged')"),
              postgresql_where=sql_text("state IN ('open', 'acknowledged')")),
    )



class Engine(Base):
    """An interface engine (Mirth Connect, Open Integration Engine, BridgeLink) read through its
    REST API. Its password is in the OS keyring (core.secrets), never here."""

    __tablename__ = "engines"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(Text)  # https://host:8443 (the API is below /api)
    username: Mapped[str] = mapped_column(String(200))
    ca_file: Mapped[str | None] = mapped_column(Text)  # PEM to verify the engine by; else the system's
    write_enabled: Mapped[bool] = mapped_column(Boolean, default=False)  # reprocess through it
    rate: Mapped[float] = mapped_column(Float, default=10.0)  # API calls a second, at most
    concurrency: Mapped[int] = mapped_column(Integer, default=2)  # channels polled at once
    page_size: Mapped[int] = mapped_column(Integer, default=50)  # messages a call
    version: Mapped[str | None] = mapped_column(String(40))
    server_id: Mapped[str | None] = mapped_column(String(64))
    checked_at: Mapped[datetime | None] = mapped_column(DateTime)
    problem: Mapped[str | None] = mapped_column(Text)  # the last poll's problem, in words
    created_at: Mapped[datetime] = mapped_column(DateTime)


class EngineChannel(Base):
    """One channel of an engine: an interface of its own, its state and counts as the engine
    last gave them, and how far its messages are read (`cursor`, the last message id taken)."""

    __tablename__ = "engine_channels"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    engine_id: Mapped[int] = mapped_column(ForeignKey("engines.id"))
    channel_id: Mapped[str] = mapped_column(String(64))  # the engine's UUID
    name: Mapped[str] = mapped_column(String(200))
    interface_id: Mapped[int] = mapped_column(ForeignKey("interfaces.id"))
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    destinations: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # metaDataId -> name
    data_type: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str | None] = mapped_column(String(16))  # STARTED, PAUSED, STOPPED...
    state_since: Mapped[datetime | None] = mapped_column(DateTime)
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    filtered: Mapped[int] = mapped_column(BigInteger, default=0)
    queued: Mapped[int] = mapped_column(BigInteger, default=0)
    sent: Mapped[int] = mapped_column(BigInteger, default=0)
    errored: Mapped[int] = mapped_column(BigInteger, default=0)
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    polled_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_engine_channels_key", "engine_id", "channel_id", unique=True),)


class EngineCount(Base):
    """A channel's counts at one poll: what "errors rising" is judged on."""

    __tablename__ = "engine_counts"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    channel: Mapped[int] = mapped_column(BigInteger)  # engine_channels.id
    at: Mapped[datetime] = mapped_column(DateTime)
    queued: Mapped[int] = mapped_column(BigInteger)
    errored: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_engine_counts_channel", "channel", "at"),)


class EngineMessage(Base):
    """One content of an engine's connector message, stored in `messages`: the source's raw
    content (received), a destination's sent content or its response, with the engine's keys."""

    __tablename__ = "engine_messages"
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)  # messages.id
    channel: Mapped[int] = mapped_column(BigInteger)  # engine_channels.id
    engine_message_id: Mapped[int] = mapped_column(BigInteger)
    meta_data_id: Mapped[int] = mapped_column(Integer)  # 0: the source connector
    connector: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))  # received, sent, response
    status: Mapped[str | None] = mapped_column(String(16))
    data_type: Mapped[str | None] = mapped_column(String(40))
    server_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_engine_messages_key", "channel", "engine_message_id", "meta_data_id"),
                      Index("ix_engine_messages_server", "server_id"))

class DirectMail(Base):
    """A Direct message, MDN or DSN stored in `messages` (as text), with what its headers say."""

    __tablename__ = "direct_mail"
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)  # messages.id
    kind: Mapped[str] = mapped_column(String(8))  # message, mdn, dsn
    header_id: Mapped[str | None] = mapped_column(String(500))  # its Message-ID
    original_id: Mapped[str | None] = mapped_column(String(500))  # a notice's: the Message-ID it answers
    sender: Mapped[str | None] = mapped_column(String(320))
    recipients: Mapped[list] = mapped_column(JSON)
    subject: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    signed: Mapped[bool] = mapped_column(Boolean, default=False)
    encrypted: Mapped[bool] = mapped_column(Boolean, default=False)
    asks_dispatched: Mapped[bool] = mapped_column(Boolean, default=False)
    attachments: Mapped[list] = mapped_column(JSON)  # [{filename, content_type, size}]
    notices: Mapped[list] = mapped_column(JSON)  # a notice's [{recipient, disposition, final_delivery, words}]
    reporter: Mapped[str | None] = mapped_column(String(500))
    problems: Mapped[list] = mapped_column(JSON)
    paired_with: Mapped[int | None] = mapped_column(BigInteger)  # a notice: the original's messages.id, once seen
    security: Mapped[dict | None] = mapped_column(JSON)  # S/MIME: {decrypted, signer, trouble} (core.direct.mail)

    __table_args__ = (Index("ix_direct_mail_header", "header_id"), Index("ix_direct_mail_original", "original_id"))


class DirectDelivery(Base):
    """One recipient of one Direct message: its disposition, from the MDNs and DSNs paired to it."""

    __tablename__ = "direct_deliveries"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger)  # messages.id of the Direct message
    recipient: Mapped[str] = mapped_column(String(320))
    state: Mapped[str] = mapped_column(String(16))  # core.vocabulary.Disposition
    asks_dispatched: Mapped[bool] = mapped_column(Boolean, default=False)
    sent_at: Mapped[datetime] = mapped_column(DateTime)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime)
    failed_at: Mapped[datetime | None] = mapped_column(DateTime)
    notice_id: Mapped[int | None] = mapped_column(BigInteger)  # messages.id of the notice that decided the state
    words: Mapped[str | None] = mapped_column(Text)  # the reporter's words, for a failure
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_direct_deliveries_key", "message_id", "recipient", unique=True),
                      Index("ix_direct_deliveries_open", "state", "sent_at"))


class Document(Base):
    """A CDA document found in a message (a Direct attachment, an XDM package) or a file:
    its type, header and section inventory, and its validation."""

    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger)  # messages.id it came in
    part: Mapped[str | None] = mapped_column(String(500))  # the attachment's name, or the path inside an XDM zip
    type_name: Mapped[str] = mapped_column(String(100))
    type_template: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(Text)
    document_id: Mapped[str | None] = mapped_column(String(300))
    effective_time: Mapped[datetime | None] = mapped_column(DateTime)
    patient_name: Mapped[str | None] = mapped_column(String(400))
    patient_id: Mapped[str | None] = mapped_column(String(300))
    author: Mapped[str | None] = mapped_column(String(400))
    custodian: Mapped[str | None] = mapped_column(String(400))
    sections: Mapped[list] = mapped_column(JSON)
    missing: Mapped[list] = mapped_column(JSON)
    problems: Mapped[list] = mapped_column(JSON)
    xsd_state: Mapped[str] = mapped_column(String(16))  # valid, invalid, not_checked, unreadable
    xsd_findings: Mapped[list] = mapped_column(JSON)
    schematron_state: Mapped[str | None] = mapped_column(String(16))  # on demand
    schematron_findings: Mapped[list | None] = mapped_column(JSON)
    schematron_at: Mapped[datetime | None] = mapped_column(DateTime)
    size: Mapped[int] = mapped_column(Integer)
    raw: Mapped[bytes] = mapped_column(LargeBinary)  # the document's bytes as decoded from its part

    __table_args__ = (Index("ix_documents_message", "message_id"), Index("ix_documents_type", "type_name"))


class Mailbox(Base):
    """An IMAP mailbox read as a source (a Direct edge account): where, as whom, which folder.
    Its password is in the keyring; how far it is read is its source's offset (the last UID)."""

    __tablename__ = "mailboxes"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    security: Mapped[str] = mapped_column(String(10))  # ssl, starttls, none
    username: Mapped[str] = mapped_column(String(320))
    folder: Mapped[str] = mapped_column(String(200), default="INBOX")
    ca_file: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime | None] = mapped_column(DateTime)
    problem: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    smtp_host: Mapped[str | None] = mapped_column(String(255))  # its HISP's submission server: resends go there
    smtp_port: Mapped[int | None] = mapped_column(Integer)
    smtp_security: Mapped[str | None] = mapped_column(String(10))  # ssl, starttls, none
    writes_enabled: Mapped[bool] = mapped_column(Boolean, default=False)  # the resend switch for this connection


class DirectKey(Base):
    """One of the practice's Direct certificates (an address, or a domain); its private key
    is in the keyring, named by the address."""

    __tablename__ = "direct_keys"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    address: Mapped[str] = mapped_column(String(320), unique=True)
    subject: Mapped[str] = mapped_column(Text)
    issuer: Mapped[str] = mapped_column(Text)
    serial: Mapped[str] = mapped_column(String(100))
    not_after: Mapped[datetime] = mapped_column(DateTime)
    certificate: Mapped[str] = mapped_column(Text)  # PEM
    created_at: Mapped[datetime] = mapped_column(DateTime)


class PendingText(Base):
    """A message's text not yet in the full-text index (a bulk load's; core.store.indexer moves it)."""

    __tablename__ = "message_text_pending"
    message_id: Mapped[int] = mapped_column(ID, primary_key=True)
    body: Mapped[str] = mapped_column(Text)


class SavedView(Base):
    """A named filter of messages, shared through the store (core.store.views)."""

    __tablename__ = "saved_views"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    owner: Mapped[str] = mapped_column(String(300))
    definition: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


# how long each text column of a message may be (core.message_rows clips keys to fit)
MESSAGE_KEY_LENGTHS = {c.name: c.type.length for c in Message.__table__.columns if isinstance(c.type, String)}

# The full-text table (message_text) is made by hand in migration 0001: FTS5 on SQLite, a
# plain table with a trigram index on PostgreSQL. It has no model: ingest and the queries
# reach it with plain SQL.
