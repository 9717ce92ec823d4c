"""Test helpers for the asyncio transports: a recording handler, a 200-answering UAS, raw UDP/TCP peers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, cast

from callboard.voice.sip.headers import Headers
from callboard.voice.sip.message import Request, Response
from callboard.voice.sip.transport_port import Destination, Transport
from callboard.voice.sip.transports import response_destination
from callboard.voice.sip.uri import SipUri

Received = tuple[Request | Response, Destination, Transport]


@dataclass
class Recorder:
    """Records what a transport hands up; `answer` makes it a tiny UAS replying 200 OK to every request."""

    answer: bool = False
    messages: list[Received] = field(default_factory=list)
    arrived: asyncio.Queue[Received] = field(default_factory=asyncio.Queue)

    def on_message(self, message: Request | Response, source: Destination, transport: Transport) -> None:
        self.messages.append((message, source, transport))
        self.arrived.put_nowait((message, source, transport))
        if self.answer and isinstance(message, Request) and message.method != "ACK":
            response = Response.for_request(message, 200, to_tag="uas1")
            via = message.headers.via[0]
            transport.send(response, source if transport.reliable else response_destination(via, source))

    async def next(self, seconds: float = 2.0) -> Received:
        return await asyncio.wait_for(self.arrived.get(), seconds)


def request(
    method: str = "OPTIONS", *, via: str | None = None, call_id: str = "a84b4c76e66710", cseq: int = 1
) -> Request:
    """A request without a Via unless `via` is given (a transport's add_via puts its own)."""
    headers = Headers()
    if via is not None:
        headers.add("Via", via)
    headers.add("Max-Forwards", "70")
    headers.add("From", "Alice <sip:alice@atlanta.example>;tag=1928301774")
    headers.add("To", "Bob <sip:bob@biloxi.example>")
    headers.add("Call-ID", "a84b4c76e66710")
    headers.add("CSeq", f"{cseq} {method}")
    return Request(method, SipUri("biloxi.example", "bob"), headers)


def raw(method: str = "OPTIONS", *, via: str, extra: str = "", length: bool = True, cseq: str = "1 OPTIONS") -> bytes:
    """The bytes of a request written by hand, so that tests can break any part of it."""
    lines = [
        f"{method} sip:bob@biloxi.example SIP/2.0",
        f"Via: {via}",
        "Max-Forwards: 70",
        "From: Alice <sip:alice@atlanta.example>;tag=1928301774",
        "To: Bob <sip:bob@biloxi.example>",
        "Call-ID: a84b4c76e66710",
        f"CSeq: {cseq}",
    ]
    if extra:
        lines.append(extra)
    if length:
        lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class RawUdpPeer(asyncio.DatagramProtocol):
    """A bare UDP socket for sending crafted datagrams and reading what comes back."""

    def __init__(self) -> None:
        self.datagrams: asyncio.Queue[tuple[bytes, Destination]] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @classmethod
    async def open(cls) -> RawUdpPeer:
        loop = asyncio.get_running_loop()
        _, peer = await loop.create_datagram_endpoint(cls, local_addr=("127.0.0.1", 0))
        return peer

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # not a subclass on CPython 3.11

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.datagrams.put_nowait((data, (addr[0], addr[1])))

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.set_result(None)

    def send(self, data: bytes, destination: Destination) -> None:
        assert self.transport is not None
        self.transport.sendto(data, destination)

    async def next(self, seconds: float = 2.0) -> bytes:
        return (await asyncio.wait_for(self.datagrams.get(), seconds))[0]

    async def close(self) -> None:
        assert self.transport is not None
        self.transport.close()
        await self.lost
