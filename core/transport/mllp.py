"""MLLP over asyncio: a server and a client, byte-exact framing, optional TLS.

A frame is 0x0B, the message, 0x1C 0x0D. Bytes outside a frame are reported and skipped,
never glued to a message; a frame larger than `max_size` is refused and the connection
closed; a peer silent for `idle_timeout` in the middle of a frame is dropped, and so is one
whose frame is not complete within `frame_deadline` however slowly its bytes trickle in
(slowloris). The server bounds what hostile peers can hold: at most `max_connections`, and
at most `max_buffered` bytes of unfinished frames across all of them. Frames are assembled
in linear time (a 15 MB frame is not rescanned or recopied per read), so a half-open, slow
or parked client never holds anything up: each connection is its own task.
"""
from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.labels import connection_problem

log = logging.getLogger(__name__)

SB, EB, CR = b"\x0b", b"\x1c", b"\x0d"
END = EB + CR
MAX_SIZE = 16 << 20
MAX_BUFFERED = 64 << 20  # unfinished frames held for all peers together
MAX_CONNECTIONS = 64
FRAME_DEADLINE_S = 120.0  # a frame's start block to its end block, however its bytes arrive
READ = 64 << 10
PROBE_S = 0.05  # after the first answer: time for a receiver that closes after each answer to do so


class MllpError(Exception):
    """A framing problem, a timeout or a lost connection, in words for the person."""


def frame(message: bytes) -> bytes:
    return SB + message + END


@dataclass
class Problem:
    peer: str
    text: str  # never the message's content: it may be PHI


class Budget:
    """Bytes of unfinished frames the server holds for all its peers together."""

    def __init__(self, limit: int = MAX_BUFFERED) -> None:
        self.limit, self.used = limit, 0

    def take(self, n: int) -> bool:
        if self.used + n > self.limit:
            return False
        self.used += n
        return True

    def give(self, n: int) -> None:
        self.used -= n


class FrameReader:
    """Reads frames from a stream; what lies between frames is reported, not returned.

    The buffer is a bytearray consumed from the front, and the end block is searched for
    only in what arrived since the last look: linear in the frame's size."""

    def __init__(self, reader: asyncio.StreamReader, max_size: int = MAX_SIZE, *, budget: Budget | None = None,
                 frame_deadline: float | None = None) -> None:
        self.reader, self.max_size, self.budget, self.frame_deadline = reader, max_size, budget, frame_deadline
        self.buf = bytearray()
        self.held = 0  # bytes of this buffer counted against the budget
        self.searched = 1  # where the search for the end block resumes (past the start block)
        self.skipped = 0  # bytes outside any frame since the last report
        self.started: float | None = None  # when the frame now being read began

    def release(self) -> None:
        if self.budget and self.held:
            self.budget.give(self.held)
        self.held = 0

    async def read(self, idle_timeout: float | None) -> bytes | None:
        """The next message, or None when the peer closed between frames."""
        loop = asyncio.get_running_loop()
        while True:
            if self.started is None:
                start = self.buf.find(SB)
                if start < 0:
                    self.skipped += len(self.buf)
                    self.buf.clear()
                else:
                    self.skipped += start
                    del self.buf[:start]
                    self.started, self.searched = loop.time(), 1
            if self.started is not None:
                end = self.buf.find(END, max(self.searched - 1, 1))
                if end >= 0:
                    message = bytes(self.buf[1:end])
                    del self.buf[:end + 2]
                    self.started = None
                    self._account()
                    return message
                self.searched = len(self.buf)
                if len(self.buf) > self.max_size + 3:
                    raise MllpError(f"a frame grew past the {self.max_size:,}-byte limit without its end block")
            try:
                chunk = await asyncio.wait_for(self.reader.read(READ), self._wait(loop, idle_timeout))
            except TimeoutError:
                if self.started is not None and self.frame_deadline is not None and \
                        loop.time() - self.started >= self.frame_deadline - 0.01:
                    raise MllpError(self._late()) from None
                raise
            if not chunk:
                if self.buf.strip(b"\r\n\x00 \t"):
                    raise MllpError(f"the connection closed in the middle of a frame ({len(self.buf):,} bytes kept back)")
                return None
            self.buf += chunk
            self._account()

    def _wait(self, loop, idle_timeout: float | None) -> float | None:
        """How long the next read may take: the idle timeout, or less when the frame's deadline nears."""
        if self.started is None or self.frame_deadline is None:
            return idle_timeout
        left = self.frame_deadline - (loop.time() - self.started)
        if left <= 0:
            raise MllpError(self._late())
        return min(left, idle_timeout) if idle_timeout else left

    def _late(self) -> str:
        return (f"a frame was not complete within {self.frame_deadline:g} s of its start ({len(self.buf):,} bytes so far, "
                "a slow or stalled sender); the connection was closed")

    def _account(self) -> None:
        """Hold the buffer against the server's budget; a peer that would overrun it is refused."""
        if self.budget is None:
            return
        grow = len(self.buf) - self.held
        if grow > 0 and not self.budget.take(grow):
            raise MllpError(f"the tap already holds {self.budget.used / 2**20:.0f} MiB of unfinished frames from its "
                            "peers; this peer's frame was refused and the connection closed")
        if grow < 0:
            self.budget.give(-grow)
        self.held = len(self.buf)


def _peer(writer: asyncio.StreamWriter) -> str:
    info = writer.get_extra_info("peername")
    return f"{info[0]}:{info[1]}" if isinstance(info, tuple) else str(info)


Handler = Callable[[bytes, str], Awaitable[bytes | None]]  # (message, peer) -> the answer to frame, or None


class Server:
    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0, *, tls: ssl.SSLContext | None = None,
                 max_size: int = MAX_SIZE, idle_timeout: float = 60.0, frame_deadline: float = FRAME_DEADLINE_S,
                 max_connections: int = MAX_CONNECTIONS, max_buffered: int = MAX_BUFFERED,
                 on_problem: Callable[[Problem], None] | None = None) -> None:
        self.handler, self.host, self.port = handler, host, port
        self.tls, self.max_size, self.idle_timeout = tls, max_size, idle_timeout
        self.frame_deadline, self.max_connections = frame_deadline, max_connections
        self.budget = Budget(max_buffered)
        self.on_problem = on_problem or (lambda p: log.warning("mllp %s: %s", p.peer, p.text))
        self.peers: dict[str, int] = {}  # connected peer -> messages received on this connection
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[asyncio.Task] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._connection, self.host, self.port, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        """Stop listening and end every connection (a message mid-handling finishes first)."""
        if self._server:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server:
            await self._server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)
        peer = _peer(writer)
        if len(self._connections) > self.max_connections:
            self.on_problem(Problem(peer, f"refused: {self.max_connections} peers are connected already"))
            writer.close()
            return
        self.peers[peer] = 0
        frames = FrameReader(reader, self.max_size, budget=self.budget, frame_deadline=self.frame_deadline)
        try:
            while True:
                message = await frames.read(self.idle_timeout)
                if frames.skipped:
                    self.on_problem(Problem(peer, f"{frames.skipped:,} bytes outside any MLLP frame were skipped"))
                    frames.skipped = 0
                if message is None:
                    return
                self.peers[peer] += 1
                answer = await self.handler(message, peer)
                if answer is not None:
                    writer.write(frame(answer))
                    await writer.drain()
        except TimeoutError:
            self.on_problem(Problem(peer, f"no complete frame within {self.idle_timeout:g} s; the connection was closed"))
        except MllpError as exc:
            self.on_problem(Problem(peer, str(exc)))
        except (ConnectionError, ssl.SSLError) as exc:
            self.on_problem(Problem(peer, f"connection lost: {type(exc).__name__}"))
        except OSError as exc:  # the handler could not keep the message (a full disk): no ACK went out
            self.on_problem(Problem(peer, f"a message could not be kept ({exc.strerror or type(exc).__name__}); it was not "
                                          "acknowledged, so the sender still has it; the connection was closed"))
        finally:
            frames.release()
            self.peers.pop(peer, None)
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, ssl.SSLError, asyncio.CancelledError):
                pass


class Client:
    """One connection to a receiver; reconnects (with backoff) when it was lost."""

    def __init__(self, host: str, port: int, *, tls: ssl.SSLContext | None = None, connect_timeout: float = 10.0,
                 ack_timeout: float = 30.0, max_size: int = MAX_SIZE, retries: int = 3, backoff: float = 0.5) -> None:
        self.host, self.port, self.tls = host, port, tls
        self.connect_timeout, self.ack_timeout, self.max_size = connect_timeout, ack_timeout, max_size
        self.retries, self.backoff = retries, backoff
        # some receivers close the connection after every answer; learnt from the first answer,
        # so no message is ever written into a connection the receiver is closing
        self.closes_after_answer: bool | None = None
        self._reader: FrameReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                reader, self._writer = await asyncio.wait_for(
                    asyncio.open_connection(self.host, self.port, ssl=self.tls), self.connect_timeout)
                self._reader = FrameReader(reader, self.max_size)
                return
            except (OSError, TimeoutError) as exc:
                if attempt == self.retries:
                    raise MllpError(f"could not connect to {self.host}:{self.port}: {connection_problem(exc)}") from exc
                await asyncio.sleep(delay)
                delay *= 2

    async def ensure_connected(self) -> None:
        """Connect, or connect again when the receiver closed the last connection (some close
        after every answer): a message is never written into a connection already ended."""
        if self._writer is not None and (self._writer.is_closing() or self._reader.reader.at_eof()):
            await self.close()
        if self._writer is None:
            await self.connect()

    async def send(self, message: bytes) -> bytes:
        """Send one message and return the answer's bytes. Raises MllpError; the caller decides
        whether a message may be sent again (a lost answer does not mean a lost message)."""
        if self.closes_after_answer:
            await self.close()
        await self.ensure_connected()
        try:
            self._writer.write(frame(message))
            await self._writer.drain()
            answer = await self._reader.read(self.ack_timeout)
        except TimeoutError as exc:
            await self.close()
            raise MllpError(f"no answer within {self.ack_timeout:g} s") from exc
        except (ConnectionError, ssl.SSLError) as exc:
            await self.close()
            raise MllpError(f"the connection was lost: {type(exc).__name__}") from exc
        except MllpError:
            await self.close()
            raise
        if answer is None:
            await self.close()
            raise MllpError("the receiver closed the connection without answering")
        if self.closes_after_answer is None:
            await asyncio.sleep(PROBE_S)
            self.closes_after_answer = self._reader.reader.at_eof()
        return answer

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except (ConnectionError, ssl.SSLError):
                pass
            self._writer = None


def server_tls(cert: str, key: str, client_ca: str | None = None) -> ssl.SSLContext:
    """TLS for a listener; with client_ca, peers must present a certificate it signed."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    if client_ca:
        ctx.load_verify_locations(client_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def client_tls(ca: str | None = None, cert: str | None = None, key: str | None = None) -> ssl.SSLContext:
    """TLS for sending: the receiver's certificate is verified (against ca, else the system's)."""
    ctx = ssl.create_default_context(cafile=ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx
