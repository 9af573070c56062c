"""The Mirth REST API's XML (XStream serialisations of its Java objects), read into plain
records. Only what Lanewatch uses is read; an element missing or empty is None, never an
error, so a newer engine's extra fields pass unnoticed."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

STATUS_TAG = "com.mirth.connect.donkey.model.message.Status"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=False)


class XStreamError(ValueError):
    """The engine answered with something that is not the XML it should have."""


def parse(body: bytes) -> etree._Element:
    try:
        return etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise XStreamError(f"the engine's answer is not XML ({exc.msg})") from None


def _text(node, path: str) -> str | None:
    found = node.find(path)
    return found.text if found is not None and found.text is not None else None


def _int(node, path: str) -> int | None:
    value = _text(node, path)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _calendar(node, path: str) -> datetime | None:
    """A java.util.Calendar (<time> in ms since the epoch, <timezone>) as naive UTC."""
    millis = _int(node, f"{path}/time")
    return datetime.fromtimestamp(millis / 1000, UTC).replace(tzinfo=None) if millis is not None else None


@dataclass
class Content:
    """One stored content of a connector message: raw, sent, response..."""

    text: str
    data_type: str | None  # HL7V2, XML, JSON, RAW, DELIMITED, NCPDP, DICOM, EDI/X12...
    encrypted: bool = False


@dataclass
class ConnectorMessage:
    meta_data_id: int  # 0: the source connector; 1..: destinations
    name: str | None
    status: str | None  # RECEIVED, FILTERED, TRANSFORMED, SENT, QUEUED, ERROR, PENDING
    channel_name: str | None
    server_id: str | None
    received: datetime | None
    raw: Content | None = None
    encoded: Content | None = None
    sent: Content | None = None
    response: Content | None = None
    processing_error: str | None = None
    response_error: str | None = None
    postprocessor_error: str | None = None
    status_message: str | None = None  # the response map's statusMessage, when the connector left one
    send_attempts: int = 0

    @property
    def error(self) -> str | None:
        """The engine's own words for what went wrong, when something did."""
        return self.processing_error or self.response_error or self.postprocessor_error


@dataclass
class EngineMessage:
    message_id: int
    channel_id: str
    server_id: str | None
    received: datetime | None
    processed: bool
    connectors: list[ConnectorMessage] = field(default_factory=list)
    original_id: int | None = None  # a reprocessed message: the one it was reprocessed from

    @property
    def source(self) -> ConnectorMessage | None:
        return next((c for c in self.connectors if c.meta_data_id == 0), None)

    @property
    def destinations(self) -> list[ConnectorMessage]:
        return sorted((c for c in self.connectors if c.meta_data_id != 0), key=lambda c: c.meta_data_id)


def _content(node) -> Content | None:
    """A stored content (<raw>, <sent>...), from its element (None: absent or empty)."""
    if node is None:
        return None
    kids = _children(node)
    text = _value(kids, "content")
    if text is None:
        return None
    return Content(text, _value(kids, "dataType"), _value(kids, "encrypted") == "true")


def _children(node) -> dict:
    """A node's child elements by tag: a connector message is read field by field, and one
    pass over its children costs less than a search for each (polling reads thousands)."""
    return {c.tag: c for c in node if isinstance(c.tag, str)}


def _value(kids: dict, tag: str) -> str | None:
    found = kids.get(tag)
    return found.text if found is not None else None


def connector_message(node) -> ConnectorMessage:
    kids = _children(node)
    status_message = None
    for response in node.iterfind("responseMapContent/content/entry/response"):
        status_message = status_message or _text(response, "statusMessage")

    def error(tag: str) -> str | None:
        found = kids.get(tag)
        return _text(found, "content") if found is not None else None

    def number(tag: str) -> int:
        value = _value(kids, tag)
        return int(value) if value and value.lstrip("-").isdigit() else 0

    return ConnectorMessage(
        meta_data_id=number("metaDataId"), name=_value(kids, "connectorName"), status=_value(kids, "status"),
        channel_name=_value(kids, "channelName"), server_id=_value(kids, "serverId"), received=_calendar(node, "receivedDate"),
        raw=_content(kids.get("raw")), encoded=_content(kids.get("encoded")), sent=_content(kids.get("sent")),
        response=_content(kids.get("response")), processing_error=error("processingErrorContent"),
        response_error=error("responseErrorContent"), postprocessor_error=error("postProcessorErrorContent"),
        status_message=status_message, send_attempts=number("sendAttempts"))


def message(node) -> EngineMessage:
    """A <message> (com.mirth.connect.donkey.model.message.Message)."""
    if node.tag != "message":
        raise XStreamError(f"expected a message, the engine sent <{node.tag}>")
    connectors = [connector_message(c) for c in node.iterfind("connectorMessages/entry/connectorMessage")]
    message_id = _int(node, "messageId")
    if message_id is None:  # the API's own example leaves it out at the top and gives it on each connector
        message_id = next((_int(c, "messageId") for c in node.iterfind("connectorMessages/entry/connectorMessage")), None)
    if message_id is None:
        raise XStreamError("a message without a message ID")
    return EngineMessage(message_id, _text(node, "channelId") or "", _text(node, "serverId"), _calendar(node, "receivedDate"),
                         _text(node, "processed") == "true", connectors, _int(node, "originalId"))


def messages(body: bytes) -> list[EngineMessage]:
    """A <list> of messages (GET /channels/{id}/messages)."""
    root = parse(body)
    if root.tag == "message":
        return [message(root)]
    if root.tag != "list":
        raise XStreamError(f"expected a list of messages, the engine sent <{root.tag}>")
    return [message(m) for m in root.iterfind("message")]


@dataclass
class Channel:
    channel_id: str
    name: str
    description: str | None
    revision: int | None
    source_transport: str | None  # "TCP Listener", "Channel Reader"...
    destinations: dict[int, str]  # metaDataId -> name
    inbound_data_type: str | None


def channels(body: bytes) -> list[Channel]:
    """GET /channels: the channels, with their connectors' names."""
    root = parse(body)
    nodes = [root] if root.tag == "channel" else list(root.iterfind("channel"))
    out = []
    for node in nodes:
        destinations = {(_int(c, "metaDataId") or 0): _text(c, "name") or "" for c in node.iterfind("destinationConnectors/connector")}
        out.append(Channel(_text(node, "id") or "", _text(node, "name") or "", _text(node, "description"),
                           _int(node, "revision"), _text(node, "sourceConnector/transportName"), destinations,
                           _text(node, "sourceConnector/transformer/inboundDataType")))
    return out


@dataclass
class Statistics:
    received: int = 0
    filtered: int = 0
    queued: int = 0
    sent: int = 0
    errored: int = 0


def statistics(body: bytes) -> dict[str, Statistics]:
    """GET /channels/statistics: channel id -> its counts."""
    root = parse(body)
    nodes = [root] if root.tag == "channelStatistics" else list(root.iterfind("channelStatistics"))
    return {_text(n, "channelId") or "": Statistics(_int(n, "received") or 0, _int(n, "filtered") or 0,
                                                    _int(n, "queued") or 0, _int(n, "sent") or 0, _int(n, "error") or 0)
            for n in nodes}


@dataclass
class Status:
    channel_id: str
    name: str
    state: str | None  # STARTED, PAUSED, STOPPED, DEPLOYING, UNDEPLOYING, STARTING, STOPPING, PAUSING
    queued: int
    statistics: Statistics


def _counts(node) -> Statistics:
    by = {(_text(e, STATUS_TAG) or ""): _int(e, "long") or 0 for e in node.iterfind("entry")} if node is not None else {}
    return Statistics(by.get("RECEIVED", 0), by.get("FILTERED", 0), by.get("QUEUED", 0), by.get("SENT", 0), by.get("ERROR", 0))


def statuses(body: bytes) -> dict[str, Status]:
    """GET /channels/statuses (the dashboard): channel id -> state and counts."""
    root = parse(body)
    nodes = [root] if root.tag == "dashboardStatus" else list(root.iterfind("dashboardStatus"))
    return {_text(n, "channelId") or "": Status(_text(n, "channelId") or "", _text(n, "name") or "", _text(n, "state"),
                                                _int(n, "queued") or 0, _counts(n.find("statistics"))) for n in nodes}


def login_status(body: bytes) -> tuple[str, str]:
    """A LoginStatus: (status, message); status SUCCESS, SUCCESS_GRACE_PERIOD or FAIL..."""
    root = parse(body)
    return (_text(root, "status") or ""), (_text(root, "message") or "")


def scalar(body: bytes) -> str | None:
    """<long>2</long>, <int>1</int>, <boolean>true</boolean>: the value."""
    return parse(body).text
