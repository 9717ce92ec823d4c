"""Helpers for RTP session tests: a listener that records what a session reports, and a raw UDP peer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from callboard.voice.media.dtmf import DtmfDigit
from callboard.voice.media.rtcp import RtcpCompoundPacket
from callboard.voice.media.rtp import RtpPacket
from callboard.voice.media.session import RtpSession, RtpSessionConfig, RtpTimeoutCause

LOOPBACK = "127.0.0.1"


class Recorder:
    """An `RtpSessionListener` keeping everything in queues."""

    def __init__(self) -> None:
        self.packets: asyncio.Queue[RtpPacket] = asyncio.Queue()
        self.digits: asyncio.Queue[DtmfDigit] = asyncio.Queue()
        self.rtcp: asyncio.Queue[RtcpCompoundPacket] = asyncio.Queue()
        self.timeouts: asyncio.Queue[RtpTimeoutCause] = asyncio.Queue()

    def rtp_received(self, packet: RtpPacket) -> None:
        self.packets.put_nowait(packet)

    def dtmf_received(self, digit: DtmfDigit) -> None:
        self.digits.put_nowait(digit)

    def rtcp_received(self, packet: RtcpCompoundPacket) -> None:
        self.rtcp.put_nowait(packet)

    def rtp_timeout(self, cause: RtpTimeoutCause) -> None:
        self.timeouts.put_nowait(cause)


async def get(queue: asyncio.Queue[Any], wait: float = 5.0) -> Any:
    return await asyncio.wait_for(queue.get(), wait)


@asynccontextmanager
async def session_pair(
    config: RtpSessionConfig | None = None,
) -> AsyncIterator[tuple[RtpSession, Recorder, RtpSession, Recorder]]:
    """Two open sessions on loopback, each pointed at the other's RTP and RTCP ports."""
    rec_a, rec_b = Recorder(), Recorder()
    a, b = RtpSession(config, rec_a), RtpSession(config, rec_b)
    await a.open(host=LOOPBACK)
    try:
        await b.open(host=LOOPBACK)
        try:
            assert a.local_rtp and a.local_rtcp and b.local_rtp and b.local_rtcp
            a.set_remote(LOOPBACK, b.local_rtp[1], b.local_rtcp[1])
            b.set_remote(LOOPBACK, a.local_rtp[1], a.local_rtcp[1])
            yield a, rec_a, b, rec_b
        finally:
            await b.close()
    finally:
        await a.close()


class _Raw(asyncio.DatagramProtocol):
    def __init__(self, queue: asyncio.Queue[tuple[bytes, tuple[str, int]]], closed: asyncio.Future[None]) -> None:
        self.queue = queue
        self.closed = closed

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.queue.put_nowait((data, (addr[0], addr[1])))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set_result(None)


@asynccontextmanager
async def raw_peer() -> AsyncIterator[tuple[asyncio.DatagramTransport, asyncio.Queue[tuple[bytes, tuple[str, int]]]]]:
    """A plain UDP socket on loopback and the queue of what it receives."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue()
    closed: asyncio.Future[None] = loop.create_future()
    transport, _ = await loop.create_datagram_endpoint(lambda: _Raw(queue, closed), local_addr=(LOOPBACK, 0))
    try:
        yield transport, queue
    finally:
        transport.close()
        await closed
