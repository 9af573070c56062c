"""Resend fixtures: NAKed lab orders on one interface, and MLLP receivers on their own
threads (python-hl7's server, or a raw one that misbehaves on purpose)."""
from __future__ import annotations

import asyncio
import socket
import struct
import threading

import hl7
from hl7.mllp import start_hl7_server

from core.commands.context import Context
from core.commands.resend import Configure
from core.hl7.ack import build
from core.ingest import Ingestor
from core.store import messages, queue

MSG = ("MSH|^~\\&|ECW|NFM|QUEST|QUEST_LAB|20260101120000||ORM^O01^ORM_O01|{cid}|P|2.5.1\r"
       "PID|1||MRN1^^^NFM^MR||DOE^JANE\rORC|NW|O{cid}\rOBR|1|O{cid}||GLU^Glucose\r")


def nak(cid: str) -> str:
    return (f"MSH|^~\\&|QUEST|QUEST_LAB|ECW|NFM|20260101120001||ACK^O01^ACK|N{cid}|P|2.5.1\r"
            f"MSA|AE|{cid}|Provider not on file\rERR||ORC^1^12|103^Table value not found^HL70357|E\r")


def setup(store, n=1):
    """n NAKed lab orders on one interface; returns their queue items and the interface id."""
    raws = []
    for i in range(n):
        raws += [MSG.format(cid=f"C{i}").encode(), nak(f"C{i}").encode()]
    Ingestor(store).ingest_messages("engine", raws, transport="mllp", peer="10.0.0.9")
    items = queue.items(store, kinds=["nak_error"])
    iface = messages.get(store, items[0]["message_id"])["interface_id"]
    return sorted(items, key=lambda i: i["id"]), iface


def ctx(store, who="alice@ws1", now=None):
    """A command context acting as `who` (and, given `now`, on a fixed clock)."""
    return Context(store, actor=who, **({"now": lambda: now} if now else {}))


class Receiver:
    """A receiving system on its own thread: python-hl7's asyncio server or a raw one."""

    def __init__(self, behaviour: str = "AA", kind: str = "python-hl7") -> None:
        self.behaviour, self.received = behaviour, []
        self.writers: set = set()  # every connection, closed for sure when the receiver stops
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        start = self._python_hl7 if kind == "python-hl7" else self._raw
        self.server = asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _python_hl7(self):
        async def client(reader, writer):
            self.writers.add(writer)
            try:
                while not writer.is_closing():
                    message = await reader.readmessage()
                    self.received.append(str(message))
                    writer.writemessage(message.create_ack(ack_code=self.behaviour))
                    await writer.drain()
            except asyncio.IncompleteReadError:
                writer.close()
        return await start_hl7_server(client, "127.0.0.1", 0)

    async def _raw(self):
        async def client(reader, writer):
            self.writers.add(writer)
            try:
                await self._answer(reader, writer)
            finally:
                writer.close()
        return await asyncio.start_server(client, "127.0.0.1", 0)

    async def _answer(self, reader, writer):
        data = await reader.readuntil(b"\x1c\x0d") if self.behaviour != "close_mid" else await reader.read(10)
        self.received.append(data)
        if self.behaviour == "close_mid":
            return
        if self.behaviour == "silent":
            await asyncio.sleep(5)
        if self.behaviour == "reset":  # RST instead of FIN
            writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return
        ack = build(data[1:-2], "AA", control_id="X", timestamp="2026")
        if self.behaviour == "wrong_id":
            cid = hl7.parse(data[1:-2].decode()).segment("MSH")[10][0]
            ack = ack.replace(f"MSA|AA|{cid}".encode(), b"MSA|AA|SOMEONE_ELSE")
        if self.behaviour == "slow":
            await asyncio.sleep(0.4)
        writer.write(b"\x0b" + ack + b"\x1c\r")
        await writer.drain()
        await asyncio.sleep(0.2)

    def stop(self):
        async def close():
            self.server.close()
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in others:
                t.cancel()
            await asyncio.gather(*others, return_exceptions=True)
            for writer in self.writers:  # a connection its task left open would leak past the closed loop
                writer.close()
            for _ in range(3):  # transports finish closing on the next turns of the loop
                await asyncio.sleep(0)
            await self.server.wait_closed()
        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def enable(store, iface, port):
    Configure(ctx(store)).run(iface, host="127.0.0.1", port=port, write_class="clinical", write_enabled=True)


def at_once(consoles, plans, ack_timeout: float = 5) -> list:
    """Run each console's plan in its own thread, started together; every outcome."""
    from core.commands.resend import Resend

    barrier, outcomes = threading.Barrier(len(plans)), []

    def go(s, plan, n):
        barrier.wait()
        outcomes.extend(Resend(ctx(s, f"op{n}@ws"), ack_timeout=ack_timeout).run(plan))

    threads = [threading.Thread(target=go, args=(s, p, n)) for n, (s, p) in enumerate(zip(consoles, plans))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


class TlsReceiver:
    """A receiver that speaks MLLP over TLS only (our server, with a self-signed certificate)."""

    def __init__(self, cert: str, key: str) -> None:
        from core.transport.mllp import Server, server_tls

        async def answer(message: bytes, peer: str) -> bytes:
            self.received.append(message)
            return build(message, "AA", control_id="T", timestamp="2026")

        self.received: list[bytes] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = Server(answer, tls=server_tls(cert, key))
        self.port = asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
