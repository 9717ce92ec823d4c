"""A browser line's ICE with a STUN server configured: a small RFC 5389 Binding responder on 127.0.0.1 plays the
STUN server of a node behind a 1:1 NAT (it answers every request with the NAT's public address, 203.0.113.7),
and the line's SDP answer must carry that server-reflexive candidate; a STUN server that never answers delays
the answer by aioice's bound, not forever."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import pytest
from aioice import stun
from aioice.ice import get_host_addresses
from aiortc import RTCConfiguration, RTCPeerConnection

from callboard.voice.calls.media import MediaSettings
from callboard.voice.calls.webrtc_line import IceServer, WebRtcLine
from callboard.voice.calls.webrtc_lines import WebRtcLines
from callboard.voice.media.clock import VirtualMediaClock
from callboard.voice.media.ports import RtpPortPool

PUBLIC = "203.0.113.7"  # the 1:1 NAT's public address, as the STUN server sees the node
CANDIDATE = re.compile(
    r"a=candidate:\S+ 1 udp \d+ (?P<host>\S+) (?P<port>\d+) typ (?P<type>\w+)( raddr (?P<raddr>\S+))?"
)


@pytest.fixture(autouse=True)
def _needs_an_interface() -> None:
    if not get_host_addresses(use_ipv4=True, use_ipv6=False):
        pytest.skip("aioice gathers no host candidate on the loopback interface: this host has no other")


class BindingResponder(asyncio.DatagramProtocol):
    """A STUN server (RFC 5389): each Binding request is answered with XOR-MAPPED-ADDRESS PUBLIC and the port it
    came from, as a 1:1 NAT maps it; with `silent`, requests are counted and never answered."""

    def __init__(self, silent: bool = False) -> None:
        self.silent = silent
        self.requests: list[tuple[str, int]] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        request = stun.parse_message(data)
        if request.message_method != stun.Method.BINDING or request.message_class != stun.Class.REQUEST:
            return
        self.requests.append((addr[0], addr[1]))
        if self.silent or self.transport is None:
            return
        response = stun.Message(stun.Method.BINDING, stun.Class.RESPONSE, transaction_id=request.transaction_id)
        response.attributes["XOR-MAPPED-ADDRESS"] = (PUBLIC, addr[1])
        self.transport.sendto(bytes(response), addr)


@asynccontextmanager
async def stun_server(silent: bool = False) -> AsyncIterator[tuple[str, BindingResponder]]:
    """The responder on 127.0.0.1 and its `stun:` URL."""
    loop = asyncio.get_running_loop()
    transport, responder = await loop.create_datagram_endpoint(
        lambda: BindingResponder(silent), local_addr=("127.0.0.1", 0)
    )
    try:
        yield f"stun:127.0.0.1:{transport.get_extra_info('sockname')[1]}", responder
    finally:
        transport.close()


async def browser_offer(pc: RTCPeerConnection) -> str:
    pc.addTransceiver("audio", direction="sendrecv")
    await pc.setLocalDescription(await pc.createOffer())
    return str(pc.localDescription.sdp)


def candidates(sdp: str) -> list[dict[str, str | None]]:
    return [m.groupdict() for m in CANDIDATE.finditer(sdp)]


def settings() -> MediaSettings:
    return MediaSettings(RtpPortPool(22200, 22300, host="127.0.0.1"), VirtualMediaClock(), "127.0.0.1")


async def test_a_line_with_a_stun_server_offers_its_server_reflexive_address() -> None:
    browser = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    async with stun_server() as (url, responder):
        line, answer = await WebRtcLine.open("WK1", await browser_offer(browser), settings(),
                                             ice_servers=[IceServer((url,))])  # fmt: skip
        try:
            found = candidates(answer)
            hosts = {(c["host"], c["port"]) for c in found if c["type"] == "host"}
            reflexive = [c for c in found if c["type"] == "srflx"]
            assert reflexive, answer
            assert {c["host"] for c in reflexive} == {PUBLIC}
            # each one maps a host candidate of the line, from whose socket the Binding request came
            assert {(c["raddr"], c["port"]) for c in reflexive} <= hosts
            assert {port for _, port in responder.requests} == {int(str(c["port"])) for c in reflexive}
        finally:
            await line.close()
            await browser.close()


async def test_the_lines_of_a_node_gather_from_its_ice_servers() -> None:
    lines = WebRtcLines(settings())
    browser = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        assert "typ srflx" not in await lines.open_line("WK1", await browser_offer(browser))  # none configured
        async with stun_server() as (url, responder):
            lines.ice_servers = (IceServer((url,)),)
            second = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            try:
                answer = await lines.open_line("WK1", await browser_offer(second))
            finally:
                await second.close()
        assert f"{PUBLIC} " in answer and "typ srflx" in answer and responder.requests
    finally:
        await lines.close()
        await browser.close()


async def test_a_stun_server_that_never_answers_leaves_the_host_candidates() -> None:
    browser = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    async with stun_server(silent=True) as (url, responder):
        line, answer = await WebRtcLine.open("WK1", await browser_offer(browser), settings(),
                                             ice_servers=[IceServer((url,))])  # fmt: skip
        try:
            types = {c["type"] for c in candidates(answer)}
            assert types == {"host"} and responder.requests  # asked, gave up after aioice's bound, answered
        finally:
            await line.close()
            await browser.close()
