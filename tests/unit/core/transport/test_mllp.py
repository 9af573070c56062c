"""MLLP framing and the client against misbehaving receivers: each ends in a clear error."""
from __future__ import annotations

import asyncio

import pytest

from core.transport.mllp import Client, FrameReader, MllpError, Server, frame


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


async def reader_of(data: bytes) -> FrameReader:
    r = asyncio.StreamReader()
    r.feed_data(data)
    r.feed_eof()
    return FrameReader(r, max_size=100)


def test_frames_are_byte_exact_and_junk_is_counted():
    async def go():
        fr = await reader_of(b"xx" + frame(b"MSH|a\rPID|\x1c|b") + b"\r\n" + frame(b"MSH|2"))
        assert await fr.read(1) == b"MSH|a\rPID|\x1c|b"  # a lone 0x1C inside is data
        assert fr.skipped == 2
        assert await fr.read(1) == b"MSH|2" and fr.skipped == 4
        assert await fr.read(1) is None
        with pytest.raises(MllpError, match="limit"):
            await (await reader_of(b"\x0b" + b"x" * 200)).read(1)
        with pytest.raises(MllpError, match="middle of a frame"):
            await (await reader_of(b"\x0bMSH|half")).read(1)
    run(go())


async def receiver(behaviour: str):
    async def handle(message: bytes, peer: str):
        if behaviour == "silent":
            await asyncio.sleep(5)
        if behaviour == "slow":
            await asyncio.sleep(0.3)
        return b"MSH|^~\\&|R|R|S|S|2026||ACK|A1|P|2.5\rMSA|AA|C1\r"

    server = Server(handle)
    await server.start()
    return server


@pytest.mark.parametrize(("behaviour", "outcome"), [("slow", "answer"), ("silent", "no answer within")])
def test_client_waits_for_the_answer_or_times_out(behaviour, outcome):
    async def go():
        server = await receiver(behaviour)
        client = Client("127.0.0.1", server.port, ack_timeout=1.0)
        try:
            if outcome == "answer":
                assert b"MSA|AA|C1" in await client.send(b"MSH|^~\\&|S|S|R|R|2026||ADT^A01|C1|P|2.5\r")
            else:
                with pytest.raises(MllpError, match=outcome):
                    await client.send(b"MSH|^~\\&|S|S|R|R|2026||ADT^A01|C1|P|2.5\r")
        finally:
            await client.close()
            await server.close()
    run(go())


def test_receiver_that_closes_mid_answer_or_resets():
    async def go():
        async def half(reader, writer):
            await reader.read(100)
            writer.write(b"\x0bMSH|^~\\&|half an ACK")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(half, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = Client("127.0.0.1", port, ack_timeout=2.0, retries=0)
        with pytest.raises(MllpError, match="middle of a frame"):
            await client.send(b"MSH|^~\\&|S|S|R|R|2026||ADT^A01|C1|P|2.5\r")
        server.close()
        await server.wait_closed()
        with pytest.raises(MllpError, match="could not connect"):
            await Client("127.0.0.1", port, retries=1, backoff=0.05).send(b"MSH|x")
    run(go())


def test_tls_verifies_the_receiver_by_default(certificate):
    from core.transport.mllp import client_tls, server_tls

    cert, key = certificate

    async def go():
        async def answer(message, peer):
            return b"MSH|^~\\&|R|R|S|S|2026||ACK|A1|P|2.5\rMSA|AA|C1\r"

        server = Server(answer, tls=server_tls(cert, key))
        await server.start()
        try:
            trusted = Client("127.0.0.1", server.port, tls=client_tls(ca=cert), ack_timeout=5)
            assert b"MSA|AA|C1" in await trusted.send(b"MSH|^~\\&|S|S|R|R|2026||ADT^A01|C1|P|2.5\r")
            await trusted.close()
            stranger = Client("127.0.0.1", server.port, tls=client_tls(), retries=0, ack_timeout=5)
            with pytest.raises(MllpError, match="could not connect"):  # its certificate is not one we trust
                await stranger.send(b"MSH|x")
        finally:
            await server.close()
    run(go())
