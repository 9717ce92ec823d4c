"""SIP over TCP and TLS on loopback: framing across segments, keep-alives, reuse, idle timeout, errors, TLS."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sip_transport_peers import Recorder, raw, request

from callboard.voice.sip.message import DEFAULT_LIMITS, Limits, Request, Response, parse_message, split_stream
from callboard.voice.sip.transport_port import Destination, Transport
from callboard.voice.sip.transports import TcpTransport, TlsTransport

LOOPBACK = "127.0.0.1"


@pytest.fixture
async def uas() -> AsyncIterator[tuple[TcpTransport, Recorder]]:
    recorder = Recorder(answer=True)
    transport = await TcpTransport.open(recorder, LOOPBACK, 0)
    try:
        yield transport, recorder
    finally:
        await transport.close()


class RawTcpPeer:
    """A plain TCP connection for writing crafted bytes and reading the responses framed."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer, self.buffer = reader, writer, b""

    @classmethod
    async def connect(cls, address: Destination) -> RawTcpPeer:
        return cls(*await asyncio.open_connection(*address))

    @property
    def port(self) -> int:
        return int(self.writer.get_extra_info("sockname")[1])

    async def write(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def response(self, seconds: float = 2.0) -> Response:
        async with asyncio.timeout(seconds):
            while True:
                messages, rest = split_stream(self.buffer, DEFAULT_LIMITS)
                if messages:
                    self.buffer = rest + b"".join(messages[1:])
                    message = parse_message(messages[0], stream=True)
                    assert isinstance(message, Response)
                    return message
                chunk = await self.reader.read(4096)
                assert chunk, "connection closed"
                self.buffer += chunk

    async def closed_by_peer(self, seconds: float = 2.0) -> bytes:
        """Everything until the other side closes; fails if it does not within `seconds`."""
        async with asyncio.timeout(seconds):
            return self.buffer + await self.reader.read()

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


@pytest.fixture
async def peer(uas: tuple[TcpTransport, Recorder]) -> AsyncIterator[RawTcpPeer]:
    peer = await RawTcpPeer.connect(uas[0].local_address)
    try:
        yield peer
    finally:
        await peer.close()


def via(peer: RawTcpPeer, branch: str) -> str:
    return f"SIP/2.0/TCP {LOOPBACK}:{peer.port};branch=z9hG4bK{branch}"


async def test_framing_across_arbitrary_chunk_boundaries(uas: tuple[TcpTransport, Recorder], peer: RawTcpPeer) -> None:
    _, log = uas
    body = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n"
    first = raw("MESSAGE", via=via(peer, "c1"), cseq="1 MESSAGE", length=False, extra=f"Content-Length: {len(body)}")
    stream = b"\r\n" + first + body + raw(via=via(peer, "c2"), cseq="2 OPTIONS")
    for size in (1, 7, 64):
        # Boundaries inside the start line, a header, the CRLFCRLF, the body, and between messages.
        for at in range(0, len(stream), size * 13):
            chunk = stream[at : at + size * 13]
            for piece in range(0, len(chunk), size):
                await peer.write(chunk[piece : piece + size])
            await asyncio.sleep(0.001)
        assert [(await log.next())[0].start_line.split()[0] for _ in range(2)] == ["MESSAGE", "OPTIONS"]
        assert [(await peer.response()).status_code for _ in range(2)] == [200, 200]
    message = log.messages[0][0]
    assert message.body == body


async def test_two_messages_in_one_segment(uas: tuple[TcpTransport, Recorder], peer: RawTcpPeer) -> None:
    server, log = uas
    await peer.write(raw(via=via(peer, "s1")) + raw(via=via(peer, "s2"), cseq="2 OPTIONS"))
    branches = [(await log.next())[0].headers.via[0].branch for _ in range(2)]
    assert branches == ["z9hG4bKs1", "z9hG4bKs2"]
    assert [(await peer.response()).status_code for _ in range(2)] == [200, 200]
    assert server.counters.received == 2 and len(server.connections) == 1


async def test_crlf_keepalive_gets_a_pong_and_the_connection_stays(
    uas: tuple[TcpTransport, Recorder], peer: RawTcpPeer
) -> None:
    server, _ = uas
    await peer.write(b"\r\n\r\n")
    async with asyncio.timeout(2):
        assert await peer.reader.readexactly(2) == b"\r\n"
    await peer.write(b"\r\n")
    await asyncio.sleep(0.01)
    await peer.write(b"\r\n")  # a ping in two pieces
    async with asyncio.timeout(2):
        assert await peer.reader.readexactly(2) == b"\r\n"
    await peer.write(raw(via=via(peer, "after")))
    assert (await peer.response()).status_code == 200
    assert server.counters.keepalives == 2


async def test_framing_error_answers_400_then_closes(uas: tuple[TcpTransport, Recorder], peer: RawTcpPeer) -> None:
    server, log = uas
    await peer.write(raw(via=via(peer, "nolen"), length=False))
    rest = await peer.closed_by_peer()
    answer = parse_message(rest, stream=True)
    assert isinstance(answer, Response) and (answer.status_code, answer.reason) == (400, "Bad Content-Length")
    assert server.counters.malformed == 1 and log.messages == []
    await asyncio.sleep(0.01)
    assert server.connections == {}


async def test_unreadable_stream_is_closed_without_an_answer() -> None:
    transport = await TcpTransport.open(Recorder(), LOOPBACK, 0, limits=Limits(max_message_size=1024))
    peer = await RawTcpPeer.connect(transport.local_address)
    try:
        await peer.write(b"x" * 2000)
        assert await peer.closed_by_peer() == b""
        assert (transport.counters.malformed, transport.counters.dropped) == (1, 1)
    finally:
        await peer.close()
        await transport.close()


async def test_malformed_message_that_frames_gets_400_and_the_connection_stays(
    uas: tuple[TcpTransport, Recorder], peer: RawTcpPeer
) -> None:
    await peer.write(raw(via=via(peer, "bad"), extra="Expires: soon"))
    answer = await peer.response()
    assert (answer.status_code, answer.reason) == (400, "Bad Expires")
    await peer.write(raw(via=via(peer, "good")))
    assert (await peer.response()).status_code == 200


async def test_idle_connections_are_closed() -> None:
    transport = await TcpTransport.open(Recorder(answer=True), LOOPBACK, 0, idle_timeout=0.2)
    peer = await RawTcpPeer.connect(transport.local_address)
    try:
        await peer.write(raw(via=via(peer, "idle")))
        assert (await peer.response()).status_code == 200
        assert await peer.closed_by_peer() == b""
        assert transport.connections == {}
    finally:
        await peer.close()
        await transport.close()


async def test_client_connection_is_reused_and_responses_come_back_on_it(uas: tuple[TcpTransport, Recorder]) -> None:
    server, server_log = uas
    client_log = Recorder()
    client = await TcpTransport.open(client_log, LOOPBACK, 0)
    try:
        port: Transport = client
        assert port.reliable
        for number in (1, 2):
            options = request(cseq=number)
            assert client.add_via(options).transport == "TCP"
            client.send(options, server.local_address)
            response, _, _ = await client_log.next()
            assert isinstance(response, Response) and response.status_code == 200
        assert list(client.connections) == [server.local_address]
        assert len(server.connections) == 1
        received, source, _ = server_log.messages[0]
        assert isinstance(received, Request) and source != client.local_address  # an ephemeral port
        assert received.headers.via[0].rport == source[1]
    finally:
        await client.close()


async def test_a_failed_connection_is_reported() -> None:
    errors: list[tuple[Destination, Exception]] = []
    listener = await TcpTransport.open(Recorder(), LOOPBACK, 0)
    nobody = listener.local_address
    await listener.close()
    client = await TcpTransport.open(Recorder(), LOOPBACK, 0, on_connection_error=lambda d, e: errors.append((d, e)))
    try:
        client.send(request(), nobody)
        with pytest.raises(OSError):
            await client.connect(nobody)
        await asyncio.sleep(0.05)
        assert [d for d, _ in errors][:1] == [nobody] and client.counters.send_errors >= 1
        assert client.connections == {}
    finally:
        await client.close()


def _self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"),
            *("-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed to make a test certificate")
async def test_tls_request_and_response(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))  # verifies the certificate and its IP address
    server_log, client_log = Recorder(answer=True), Recorder()
    server = await TlsTransport.open(server_log, LOOPBACK, 0, ssl=server_ctx, client_ssl=client_ctx)
    client = await TlsTransport.open(client_log, LOOPBACK, 0, ssl=server_ctx, client_ssl=client_ctx)
    try:
        options = request()
        assert client.add_via(options).transport == "TLS"
        client.send(options, server.local_address)
        received, _, transport = await server_log.next()
        assert transport is server and received.headers.via[0].transport == "TLS"
        response, _, _ = await client_log.next()
        assert isinstance(response, Response) and response.status_code == 200
    finally:
        await client.close()
        await server.close()
    with pytest.raises(ValueError):
        await TlsTransport.open(server_log, LOOPBACK, 0)


async def test_a_response_whose_connection_is_gone_goes_to_the_sent_by_port() -> None:
    server_log, listener_log = Recorder(), Recorder()
    server = await TcpTransport.open(server_log, LOOPBACK, 0)
    listener = await TcpTransport.open(listener_log, LOOPBACK, 0)
    peer = await RawTcpPeer.connect(server.local_address)
    try:
        await peer.write(raw(via=f"SIP/2.0/TCP {LOOPBACK}:{listener.local_address[1]};branch=z9hG4bKgone"))
        received, source, _ = await server_log.next()
        assert isinstance(received, Request)
        await peer.close()
        await asyncio.sleep(0.05)
        server.send(Response.for_request(received, 200, to_tag="t"), source)  # §18.2.2: a new connection
        response, _, _ = await listener_log.next()
        assert isinstance(response, Response) and response.status_code == 200
    finally:
        await server.close()
        await listener.close()
