"""SIP over UDP (RFC 3261 §18): one datagram is one message."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Self, cast

from ..message import DEFAULT_LIMITS, Limits, Request, Response
from ..transport_port import Destination, SipTransportError
from .base import MessageHandler, SipTransport

__all__ = ["MAX_DATAGRAM", "UdpTransport"]

logger = logging.getLogger(__name__)

# The largest UDP payload over IPv6 without jumbograms; IPv4 allows 65507.
MAX_DATAGRAM = 65535


def _is_keepalive(data: bytes) -> bool:
    # CRLF (RFC 5626 §4.4.1 style, sent by many phones over UDP) or zero bytes: NAT keep-alives, not messages.
    return data.strip(b"\r\n\x00 ") == b""


class UdpTransport(SipTransport):
    """A bound UDP socket: parses each datagram, answers malformed requests, and sends messages as datagrams."""

    name = "UDP"
    reliable = False

    def __init__(self, handler: MessageHandler, *, limits: Limits = DEFAULT_LIMITS, sent_by: str | None = None) -> None:
        super().__init__(handler, limits=limits, sent_by=sent_by)
        self._transport: asyncio.DatagramTransport | None = None
        self._closed: asyncio.Future[None] | None = None

    @classmethod
    async def open(
        cls,
        handler: MessageHandler,
        host: str = "0.0.0.0",
        port: int = 5060,
        *,
        limits: Limits = DEFAULT_LIMITS,
        sent_by: str | None = None,
    ) -> Self:
        """Binds `host`:`port` (0 picks a free port) and starts serving."""
        self = cls(handler, limits=limits, sent_by=sent_by)
        loop = asyncio.get_running_loop()
        self._closed = loop.create_future()
        transport, _ = await loop.create_datagram_endpoint(lambda: _UdpProtocol(self), local_addr=(host, port))
        if hasattr(transport, "max_size"):
            # CPython's selector transport reads 256 KiB per recvfrom; no SIP datagram exceeds 64 KiB (uvloop has
            # no such attribute and sizes its own buffer).
            cast(Any, transport).max_size = MAX_DATAGRAM
        self._transport = transport
        sockname = transport.get_extra_info("sockname")
        self._local = (sockname[0], sockname[1])
        return self

    @property
    def closed(self) -> bool:
        return self._transport is None

    def send(self, message: Request | Response, destination: Destination) -> None:
        if self._transport is None or self._transport.is_closing():
            self.counters.send_errors += 1
            raise SipTransportError("UDP transport is closed", destination=destination)
        data = bytes(message)
        if len(data) > MAX_DATAGRAM:
            self.counters.send_errors += 1
            raise SipTransportError(f"{len(data)} bytes do not fit a UDP datagram", destination=destination)
        self._transport.sendto(data, destination)
        self.counters.sent += 1

    async def close(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()
        if self._closed is not None:
            await self._closed  # connection_lost has run: the socket is closed

    def _datagram(self, data: bytes, address: Any) -> None:
        source = (str(address[0]), int(address[1]))
        if _is_keepalive(data):
            self.counters.keepalives += 1
            return
        self._receive(data, source, stream=False)


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, owner: UdpTransport) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.owner._datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        # An ICMP error for an earlier datagram (§18.4): the destination is unknown here; timers will notice.
        self.owner.counters.send_errors += 1
        logger.info("UDP transport: %s", exc)

    def connection_lost(self, exc: Exception | None) -> None:
        closed = self.owner._closed
        if closed is not None and not closed.done():
            closed.set_result(None)
