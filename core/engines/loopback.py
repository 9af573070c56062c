"""An interface engine on this machine: a small HTTP server that answers the Mirth REST API
calls Lanewatch makes, in the XML shapes the API's own examples give (Mirth Connect 3.12,
`../shared/corpora/mirth/`), with HL7 content. The tests, the benchmark and the demo point
Lanewatch at it; nothing of it is a mock of Lanewatch's side.

It keeps sessions (a JSESSIONID cookie from `POST /api/users/_login`), refuses calls
without `X-Requested-With` as the engine does (400), lists messages newest first with
`minMessageId`, `maxMessageId`, `limit` and `offset`, and can be told to fail the next
calls (`fail_next`: a 401, a 500, a slow answer, a connection reset). Messages are made on
demand from their id, so a channel of 100,000 costs no memory until asked for.
"""
from __future__ import annotations

import secrets as token
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import cookies
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape as _escape

VERSION = "3.12.0"
BASE_TIME = datetime(2026, 11, 30, 7, 0)
SERVER_ID = "7d84c1f7-b598-41cc-b854-382e2c4e6d86"


@dataclass
class Destination:
    meta_data_id: int
    name: str
    status: str  # SENT, ERROR, QUEUED, FILTERED
    sent: str | None = None
    response: str | None = None
    error: str | None = None  # the processing error, as the engine words it
    data_type: str = "HL7V2"


@dataclass
class Made:
    received: str
    data_type: str
    at: datetime
    destinations: list[Destination]
    source_status: str = "TRANSFORMED"
    processed: bool = True
    original_id: int | None = None  # reprocessed from this message


@dataclass
class Channel:
    channel_id: str
    name: str
    destinations: dict[int, str]
    size: int  # messages 1..size exist (made by `make`)
    make: Callable[[Channel, int], Made]
    state: str = "STARTED"
    source_transport: str = "TCP Listener"
    data_type: str = "HL7V2"
    added: dict[int, Made] = field(default_factory=dict)  # reprocessed or sent through the API
    reprocessed: list[tuple[int, list[int]]] = field(default_factory=list)
    pruned_below: int = 0  # the data pruner removed messages with lower ids
    start: datetime = BASE_TIME  # when message 1 arrived; the rest follow

    def get(self, message_id: int) -> Made | None:
        if message_id in self.added:
            return self.added[message_id]
        if self.pruned_below <= message_id <= self.size:
            return self.make(self, message_id)
        return None

    @property
    def top(self) -> int:
        return max(self.added, default=self.size) if self.added else self.size

    def ids(self, low: int, high: int) -> list[int]:
        """The ids that exist in low..high, newest first."""
        made = range(min(high, self.size), max(low, self.pruned_below, 1) - 1, -1)
        extra = sorted((i for i in self.added if low <= i <= high), reverse=True)
        return extra + list(made)

    def add(self, made: Made) -> int:
        new_id = max(self.size, max(self.added, default=0)) + 1
        self.added[new_id] = made
        return new_id


# -- HL7 content -------------------------------------------------------------------------------
# invented patients (protocol code does not reach the demo's own generator, which reaches the store)
FAMILY = ("SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER", "DAVIS", "HERNANDEZ", "LOPEZ", "WILSON")
GIVEN = ("JAMES", "MARY", "ROBERT", "PATRICIA", "JOHN", "JENNIFER", "MICHAEL", "LINDA")
STEP_S = {"passthrough": 7, "troubled": 11, "filtering": 13, "documents": 17}  # seconds between a channel's messages


def escape(text: str) -> str:
    """XML text as XStream writes it: a CR is a character reference, so it survives parsing."""
    return _escape(text, {"\r": "&#xd;"})


def hl7_time(at: datetime) -> str:
    return at.strftime("%Y%m%d%H%M%S")


def _patient(i: int) -> tuple[str, str]:
    """A message number's invented patient: family and given name."""
    return FAMILY[i % len(FAMILY)], GIVEN[(i // len(FAMILY)) % len(GIVEN)]


def adt(i: int, at: datetime, *, sender=("MERCY_ADT", "MERCY"), receiver=("ECW", "NORTHSIDE_FM")) -> str:
    family, given = _patient(i)
    return "\r".join([
        f"MSH|^~\\&|{sender[0]}|{sender[1]}|{receiver[0]}|{receiver[1]}|{hl7_time(at)}||ADT^A04^ADT_A01|ENG{i:08d}|P|2.5.1|||AL|NE",
        f"EVN|A04|{hl7_time(at)}",
        f"PID|1||MRN{100000 + i % 50000}^^^MERCY^MR||{family}^{given}||19{50 + i % 50:02d}0{1 + i % 9}15|{'MF'[i % 2]}"
        f"|||{10 + i % 900} MAPLE AVE^^SPRINGFIELD^IL^62701",
        "PV1|1|O|CLINIC^^^NORTHSIDE_FM||||1234567893^WELBY^MARCUS^^^^^^NPI",
    ]) + "\r"


def order(i: int, at: datetime) -> str:
    family, given = _patient(i)
    return "\r".join([
        f"MSH|^~\\&|ECW|NORTHSIDE_FM|QUEST|QUEST_LAB|{hl7_time(at)}||ORM^O01^ORM_O01|ORD{i:08d}|P|2.3.1|||AL|NE",
        f"PID|1||MRN{200000 + i % 50000}^^^NORTHSIDE_FM^MR||{family}^{given}||19{50 + i % 50:02d}0{1 + i % 9}15|{'FM'[i % 2]}",
        f"ORC|NW|PO{i:08d}||||||||||1234567893^WELBY^MARCUS^^^^^^NPI",
        f"OBR|1|PO{i:08d}||80053^COMPREHENSIVE METABOLIC PANEL^CPT|||{hl7_time(at)}",
    ]) + "\r"


def vaccination(i: int, at: datetime) -> str:
    family, given = _patient(i)
    return "\r".join([
        f"MSH|^~\\&|ECW|NORTHSIDE_FM|IIS|STATE_IIS|{hl7_time(at)}||VXU^V04^VXU_V04|VXU{i:08d}|P|2.5.1|||ER|AL",
        f"PID|1||MRN{300000 + i % 50000}^^^NORTHSIDE_FM^MR||{family}^{given}||20{10 + i % 15:02d}0{1 + i % 9}15|{'MF'[i % 2]}",
        f"ORC|RE||IZ{i:08d}^NORTHSIDE_FM",
        f"RXA|0|1|{hl7_time(at)}|{hl7_time(at)}|08^Hep B, adolescent or pediatric^CVX|0.5|mL^mL^UCUM||00^New record^NIP001",
    ]) + "\r"


def ack(message: str, code: str = "AA", text: str = "", at: datetime | None = None) -> str:
    msh = message.split("\r", 1)[0].split("|")
    control = msh[9]
    err = f"\rERR|||207^Application internal error^HL70357|E||||{text}" if code != "AA" and text else ""
    return (f"MSH|^~\\&|{msh[4]}|{msh[5]}|{msh[2]}|{msh[3]}|{hl7_time(at or BASE_TIME)}||ACK^{msh[8].split('^')[1]}^ACK|"
            f"A{control}|P|{msh[11]}\rMSA|{code}|{control}" + (f"|{text}" if text else "") + err + "\r")


REFUSED = ("java.net.ConnectException: Connection refused (Connection refused)\n"
           "\tat java.base/java.net.PlainSocketImpl.socketConnect(Native Method)\n"
           "\tat com.mirth.connect.connectors.tcp.TcpDispatcher.send(TcpDispatcher.java:284)")
TIMEOUT = ("Timeout waiting for response\ncom.mirth.connect.connectors.tcp.TcpDispatcher: Timeout waiting for response "
           "from 10.20.0.15:6661")
SCRIPT = ("Error evaluating transformer\ncom.mirth.connect.server.MirthJavascriptTransformerException: \n"
          "CHANNEL:\t{channel}\nCONNECTOR:\t{connector}\nSCRIPT SOURCE:\tTransformer\nLINE NUMBER:\t12\n"
          "DETAILS:\tTypeError: Cannot read property \"OBR.4\" from undefined")


def passthrough(channel: Channel, i: int) -> Made:
    """An ADT feed: every message passed on and accepted."""
    at = channel.start + timedelta(seconds=STEP_S['passthrough'] * i)
    raw = adt(i, at)
    return Made(raw, "HL7V2", at, [Destination(1, channel.destinations[1], "SENT", raw, ack(raw, at=at))])


def troubled(channel: Channel, i: int) -> Made:
    """Lab orders to a lab whose link fails now and then: refused connections, NAKs, timeouts,
    a transformer bug, a queue that backs up."""
    at = channel.start + timedelta(seconds=STEP_S['troubled'] * i)
    raw = order(i, at)
    name = channel.destinations[1]
    if i % 97 == 0:
        return Made(raw, "HL7V2", at, [Destination(1, name, "ERROR", None, None, SCRIPT.format(channel=channel.name, connector=name))])
    if i % 41 == 0:
        return Made(raw, "HL7V2", at, [Destination(1, name, "ERROR", raw, None, REFUSED)])
    if i % 53 == 0:
        return Made(raw, "HL7V2", at, [Destination(1, name, "ERROR", raw, ack(raw, "AE", "Unknown ordering provider", at),
                                                   None)])
    if i % 61 == 0:
        return Made(raw, "HL7V2", at, [Destination(1, name, "ERROR", raw, None, TIMEOUT)])
    if i > channel.size - 3:
        return Made(raw, "HL7V2", at, [Destination(1, name, "QUEUED", raw, None, None)])
    return Made(raw, "HL7V2", at, [Destination(1, name, "SENT", raw, ack(raw, at=at))])


def filtering(channel: Channel, i: int) -> Made:
    """Immunisation updates: test patients are filtered out by the channel's filter."""
    at = channel.start + timedelta(seconds=STEP_S['filtering'] * i)
    raw = vaccination(i, at)
    if i % 5 == 0:  # the source filter drops it: no destination sees it
        return Made(raw, "HL7V2", at, [], source_status="FILTERED")
    return Made(raw, "HL7V2", at, [Destination(1, channel.destinations[1], "SENT", raw, ack(raw, at=at))])


def documents(channel: Channel, i: int) -> Made:
    """XML documents through a channel whose data type is XML: stored as text."""
    at = channel.start + timedelta(seconds=STEP_S['documents'] * i)
    xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<ClinicalDocument xmlns="urn:hl7-org:v3">\n  <id root="2.16.840.1.113883.19.5" '
           f'extension="DOC{i:06d}"/>\n  <title>Continuity of Care Document</title>\n</ClinicalDocument>')
    dest = Destination(1, channel.destinations[1], "SENT", xml, "<response><status>SENT</status></response>", data_type="XML")
    return Made(xml, "XML", at, [dest])


def demo_channels(scale: int = 1, *, end: datetime | None = None) -> list[Channel]:
    """A practice's engine: an ADT feed, lab orders to a lab whose link fails now and then, a
    paused immunisation channel with a filter, a stopped document channel. `end` is when each
    channel's last message arrived (the demo's: about now); else they start at BASE_TIME."""
    channels = _demo_channels(scale)
    if end is not None:
        for c in channels:
            c.start = end - timedelta(seconds=STEP_S[c.make.__name__] * c.size)
    return channels


def _demo_channels(scale: int) -> list[Channel]:
    return [
        Channel("5f1c8a7e-0001-4c2a-9d6e-1a2b3c4d5e01", "ADT from Mercy Hospital", {1: "To ECW ADT"}, 400 * scale, passthrough),
        Channel("5f1c8a7e-0002-4c2a-9d6e-1a2b3c4d5e02", "ECW lab orders to Quest", {1: "Quest LLP"}, 300 * scale, troubled),
        Channel("5f1c8a7e-0003-4c2a-9d6e-1a2b3c4d5e03", "Immunizations to state IIS", {1: "IIS SOAP"}, 120 * scale, filtering,
                state="PAUSED"),
        Channel("5f1c8a7e-0004-4c2a-9d6e-1a2b3c4d5e04", "CCD documents to HIE", {1: "HIE web service"}, 40 * scale, documents,
                state="STOPPED", source_transport="HTTP Listener", data_type="XML"),
    ]


# -- the XML, in the API's shapes ----------------------------------------------------------------
def _cal(at: datetime) -> str:
    ms = int(at.replace(tzinfo=UTC).timestamp() * 1000)
    return f"<time>{ms}</time><timezone>Etc/UTC</timezone>"


def _content(tag: str, channel_id: str, mid: int, meta: int, text: str | None, data_type: str | None) -> str:
    if text is None:
        return ""
    dt = f"<dataType>{data_type}</dataType>" if data_type else ""
    return (f"<{tag}><encrypted>false</encrypted><channelId>{channel_id}</channelId><messageId>{mid}</messageId>"
            f"<metaDataId>{meta}</metaDataId><contentType>{tag.upper()}</contentType><content>{escape(text)}</content>{dt}</{tag}>")


def _error(tag: str, text: str | None) -> str:
    return f"<{tag}><encrypted>false</encrypted>" + (f"<content>{escape(text)}</content>" if text else "") + f"</{tag}>"


def _connector(channel: Channel, mid: int, meta: int, name: str, status: str, at: datetime, *, raw=None, sent=None,
               response=None, error=None, data_type="HL7V2") -> str:
    response_map = ""
    if error or status == "SENT":
        response_map = (f"<entry><string>d{meta}</string><response><status>{'ERROR' if error else 'SENT'}</status><message></message>"
                        + (f"<error>{escape(error)}</error>" if error else "")
                        + f"<statusMessage>{escape((error or 'Message sent').splitlines()[0])}</statusMessage></response></entry>")
    return (f"<entry><int>{meta}</int><connectorMessage><messageId>{mid}</messageId><metaDataId>{meta}</metaDataId>"
            f"<channelId>{channel.channel_id}</channelId><channelName>{escape(channel.name)}</channelName>"
            f"<connectorName>{escape(name)}</connectorName><serverId>{SERVER_ID}</serverId>"
            f"<receivedDate>{_cal(at)}</receivedDate><status>{status}</status>"
            + _content("raw", channel.channel_id, mid, meta, raw, data_type)
            + _content("sent", channel.channel_id, mid, meta, sent, None)
            + _content("response", channel.channel_id, mid, meta, response, data_type)
            + '<sourceMapContent><encrypted>false</encrypted><content class="map" /></sourceMapContent>'
            + '<connectorMapContent><encrypted>false</encrypted><content class="map" /></connectorMapContent>'
            + '<channelMapContent><encrypted>false</encrypted><content class="map" /></channelMapContent>'
            + f'<responseMapContent><encrypted>false</encrypted><content class="map">{response_map}</content></responseMapContent>'
            + "<metaDataMap />" + _error("processingErrorContent", error) + _error("postProcessorErrorContent", None)
            + _error("responseErrorContent", None)
            + f"<errorCode>{1 if error else 0}</errorCode><sendAttempts>{1 if meta and status != 'FILTERED' else 0}</sendAttempts>"
            + f"<chainId>{meta}</chainId><orderId>{meta}</orderId></connectorMessage></entry>")


def message_xml(channel: Channel, mid: int, made: Made, *, content: bool = True) -> str:
    parts = [_connector(channel, mid, 0, "Source", made.source_status, made.at, raw=made.received if content else None,
                        data_type=made.data_type)]
    for d in made.destinations:
        parts.append(_connector(channel, mid, d.meta_data_id, d.name, d.status, made.at,
                                raw=made.received if content and d.status != "FILTERED" else None,
                                sent=d.sent if content else None, response=d.response if content else None, error=d.error,
                                data_type=d.data_type))
    return (f"<message><messageId>{mid}</messageId><serverId>{SERVER_ID}</serverId><channelId>{channel.channel_id}</channelId>"
            f"<receivedDate>{_cal(made.at)}</receivedDate><processed>{'true' if made.processed else 'false'}</processed>"
            + (f"<originalId>{made.original_id}</originalId>" if made.original_id is not None else "") +
            f'<connectorMessages class="linked-hash-map">{"".join(parts)}</connectorMessages></message>')


def channel_xml(c: Channel) -> str:
    def transformer(data_type: str) -> str:
        return (f'<transformer version="{VERSION}"><elements/><inboundDataType>{data_type}</inboundDataType>'
                f"<outboundDataType>{data_type}</outboundDataType></transformer>")
    dests = "".join(f'<connector version="{VERSION}"><metaDataId>{m}</metaDataId><name>{escape(n)}</name>{transformer(c.data_type)}'
                    f"<transportName>TCP Sender</transportName><mode>DESTINATION</mode><enabled>true</enabled></connector>"
                    for m, n in c.destinations.items())
    return (f'<channel version="{VERSION}"><id>{c.channel_id}</id><nextMetaDataId>{max(c.destinations) + 1}</nextMetaDataId>'
            f"<name>{escape(c.name)}</name><description></description><revision>3</revision>"
            f'<sourceConnector version="{VERSION}"><metaDataId>0</metaDataId><name>sourceConnector</name>{transformer(c.data_type)}'
            f"<transportName>{c.source_transport}</transportName><mode>SOURCE</mode><enabled>true</enabled></sourceConnector>"
            f"<destinationConnectors>{dests}</destinationConnectors></channel>")


def counts(c: Channel) -> dict[str, int]:
    out = {"RECEIVED": 0, "FILTERED": 0, "SENT": 0, "QUEUED": 0, "ERROR": 0}
    for i in range(max(c.pruned_below, 1), c.size + 1):
        made = c.make(c, i)
        out["RECEIVED"] += 1
        out["FILTERED"] += made.source_status == "FILTERED"
        for d in made.destinations:
            out[d.status] = out.get(d.status, 0) + 1
    return out


def statistics_xml(channels: list[Channel], stats: dict[str, dict[str, int]]) -> str:
    return "<list>" + "".join(
        f"<channelStatistics><serverId>{SERVER_ID}</serverId><channelId>{c.channel_id}</channelId>"
        f"<received>{stats[c.channel_id]['RECEIVED']}</received><sent>{stats[c.channel_id]['SENT']}</sent>"
        f"<error>{stats[c.channel_id]['ERROR']}</error><filtered>{stats[c.channel_id]['FILTERED']}</filtered>"
        f"<queued>{stats[c.channel_id]['QUEUED']}</queued></channelStatistics>" for c in channels) + "</list>"


def statuses_xml(channels: list[Channel], stats: dict[str, dict[str, int]]) -> str:
    def entries(s: dict[str, int]) -> str:
        return "".join(f"<entry><com.mirth.connect.donkey.model.message.Status>{k}</com.mirth.connect.donkey.model.message.Status>"
                       f"<long>{s.get(k, 0)}</long></entry>" for k in ("RECEIVED", "FILTERED", "TRANSFORMED", "SENT", "QUEUED",
                                                                         "ERROR", "PENDING"))
    out = []
    for c in channels:
        s = stats[c.channel_id]
        out.append(f"<dashboardStatus><channelId>{c.channel_id}</channelId><name>{escape(c.name)}</name><state>{c.state}</state>"
                   f"<deployedRevisionDelta>0</deployedRevisionDelta><deployedDate>{_cal(BASE_TIME)}</deployedDate>"
                   f'<statistics class="linked-hash-map">{entries(s)}</statistics>'
                   f'<lifetimeStatistics class="linked-hash-map">{entries(s)}</lifetimeStatistics><childStatuses/>'
                   f"<metaDataId>0</metaDataId><queueEnabled>false</queueEnabled><queued>{s['QUEUED']}</queued>"
                   f"<waitForPrevious>false</waitForPrevious><statusType>CHANNEL</statusType></dashboardStatus>")
    return "<list>" + "".join(out) + "</list>"


# -- the server ----------------------------------------------------------------------------------
class LoopbackEngine:
    """`with LoopbackEngine(channels) as engine:` serves on 127.0.0.1 (engine.url)."""

    def __init__(self, channels: list[Channel] | None = None, *, user: str = "admin", password: str = "admin",
                 version: str = VERSION, tls=None, port: int = 0) -> None:
        self.channels = {c.channel_id: c for c in (channels if channels is not None else demo_channels())}
        self.user, self.password, self.version = user, password, version
        self.sessions: set[str] = set()
        self.requests: list[tuple[str, str]] = []  # (method, path and query) of every call
        self.faults: list[str] = []  # what the next calls meet: "401", "500", "slow", "reset", "404"
        self.slow_s = 2.0
        self._stats: dict[str, dict[str, int]] = {}
        self.lock = threading.Lock()
        engine = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # a test's output is not the place for an access log
                pass

            def do_GET(self) -> None:
                engine._handle(self, "GET")

            def do_POST(self) -> None:
                engine._handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self._thread = threading.Thread(target=self.server.serve_forever, name="loopback-engine", daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> LoopbackEngine:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> LoopbackEngine:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def fail_next(self, *faults: str) -> None:
        with self.lock:
            self.faults.extend(faults)

    def statistics(self, channel_id: str) -> dict[str, int]:
        c = self.channels[channel_id]
        key = (c.size, len(c.added), c.pruned_below)
        cached = self._stats.get(channel_id)
        if cached is None or cached.get("_key") != key:
            cached = {**counts(c), "_key": key}
            for made in c.added.values():
                cached["RECEIVED"] += 1
                for d in made.destinations:
                    cached[d.status] = cached.get(d.status, 0) + 1
            self._stats[channel_id] = cached
        return cached

    # -- one request --------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        query = parse_qs(parts.query)
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        with self.lock:
            self.requests.append((method, h.path))
            fault = self.faults.pop(0) if self.faults else None
        if fault == "reset":
            h.close_connection = True
            h.connection.shutdown(2)
            return
        if fault == "slow":
            time.sleep(self.slow_s)
        if fault == "404":
            return self._send(h, 404, "<html><body>Not Found</body></html>", "text/html")
        if not h.headers.get("X-Requested-With"):
            return self._send(h, 400, "All requests must have 'X-Requested-With' header", "text/plain")
        path = parts.path
        if not path.startswith("/api/"):
            return self._send(h, 404, "<html><body>Not Found</body></html>", "text/html")
        path = path[4:]
        if path == "/users/_login" and method == "POST":
            return self._login(h, parse_qs(body.decode("utf-8")))
        session = cookies.SimpleCookie(h.headers.get("Cookie") or "").get("JSESSIONID")
        if fault == "401" or session is None or session.value not in self.sessions:
            if fault == "401" and session is not None:
                self.sessions.discard(session.value)
            return self._send(h, 401, "", "text/plain")
        if fault == "500":
            return self._send(h, 500, "An internal error occurred: java.lang.NullPointerException", "text/plain")
        try:
            self._route(h, method, path, query, body)
        except (KeyError, ValueError) as exc:
            self._send(h, 400, f"Bad request: {exc}", "text/plain")

    def _login(self, h, form: dict) -> None:
        if form.get("username", [""])[0] != self.user or form.get("password", [""])[0] != self.password:
            return self._send(h, 401, "<com.mirth.connect.model.LoginStatus><status>FAIL</status><message>Incorrect username "
                                      "or password.</message></com.mirth.connect.model.LoginStatus>")
        session = token.token_hex(16)
        self.sessions.add(session)
        self._send(h, 200, "<com.mirth.connect.model.LoginStatus><status>SUCCESS</status><message></message>"
                           f"<updatedUsername>{self.user}</updatedUsername></com.mirth.connect.model.LoginStatus>",
                   cookie=f"JSESSIONID={session}; Path=/api; HttpOnly")

    def _route(self, h, method: str, path: str, q: dict, body: bytes) -> None:
        one = lambda name, default=None: q.get(name, [default])[0]  # noqa: E731
        segments = path.strip("/").split("/")
        if path == "/server/version":
            return self._send(h, 200, self.version, "text/plain")
        if path == "/server/id":
            return self._send(h, 200, SERVER_ID, "text/plain")
        if path == "/users/_logout":
            return self._send(h, 204, "")
        if path == "/channels":
            return self._send(h, 200, "<list>" + "".join(channel_xml(c) for c in self.channels.values()) + "</list>")
        if path == "/channels/statistics":
            return self._send(h, 200, statistics_xml(list(self.channels.values()),
                                                      {i: self.statistics(i) for i in self.channels}))
        if path == "/channels/statuses":
            return self._send(h, 200, statuses_xml(list(self.channels.values()), {i: self.statistics(i) for i in self.channels}))
        if len(segments) >= 3 and segments[0] == "channels" and segments[2] == "messages":
            c = self.channels.get(segments[1])
            if c is None:
                return self._send(h, 404, "", "text/plain")
            rest = segments[3:]
            if not rest and method == "GET":
                low, high = int(one("minMessageId", 1)), int(one("maxMessageId", c.top))
                limit, offset = int(one("limit", 20)), int(one("offset", 0))
                content = one("includeContent", "false") == "true"
                ids = c.ids(low, high)[offset: offset + limit]
                return self._send(h, 200, "<list>" + "".join(message_xml(c, i, c.get(i), content=content) for i in ids) + "</list>")
            if not rest and method == "POST":
                destinations = [int(d) for d in q.get("destinationMetaDataId", [])] or list(c.destinations)
                original = one("originalMessageId")
                new_id = self._process(c, body.decode("utf-8"), destinations, int(original) if original else None)
                return self._send(h, 200, f"<long>{new_id}</long>")
            if rest == ["maxMessageId"]:
                return self._send(h, 200, f"<long>{c.top}</long>")
            if rest == ["count"]:
                return self._send(h, 200, f"<long>{len(c.ids(int(one('minMessageId', 1)), int(one('maxMessageId', c.top))))}</long>")
            if len(rest) == 1 and method == "GET":
                made = c.get(int(rest[0]))
                return self._send(h, 200, message_xml(c, int(rest[0]), made)) if made else self._send(h, 404, "", "text/plain")
            if len(rest) == 2 and rest[1] == "_reprocess" and method == "POST":
                made = c.get(int(rest[0]))
                if made is None:
                    return self._send(h, 404, "", "text/plain")
                destinations = [int(d) for d in q.get("metaDataId", [])] or list(c.destinations)
                with self.lock:
                    c.reprocessed.append((int(rest[0]), destinations))
                self._process(c, made.received, destinations, int(rest[0]))
                return self._send(h, 204, "")
        self._send(h, 404, "", "text/plain")

    def _process(self, c: Channel, raw: str, destinations: list[int], original_id: int | None) -> int:
        """A message through the channel now: its destinations accept it."""
        at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        is_hl7 = raw.startswith("MSH")
        dests = [Destination(d, c.destinations.get(d, f"Destination {d}"), "SENT", raw, ack(raw, at=at) if is_hl7 else None,
                             data_type="HL7V2" if is_hl7 else c.data_type) for d in destinations]
        with self.lock:
            return c.add(Made(raw, "HL7V2" if is_hl7 else c.data_type, at, dests, original_id=original_id))

    @staticmethod
    def _send(h, status: int, text: str, content_type: str = "application/xml", cookie: str | None = None) -> None:
        data = text.encode("utf-8")
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(data)))
        if cookie:
            h.send_header("Set-Cookie", cookie)
        h.end_headers()
        h.wfile.write(data)
