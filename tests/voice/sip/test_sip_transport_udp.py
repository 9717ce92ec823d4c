"""SIP over UDP on loopback: request/response, 400 for malformed requests, dropped garbage, Via stamping."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sip_transport_peers import RawUdpPeer, Recorder, raw, request

from callboard.voice.sip.message import Response, parse_message
from callboard.voice.sip.transport_port import SipTransportError, Transport
from callboard.voice.sip.transports import MAX_DATAGRAM, UdpTransport

LOOPBACK = "127.0.0.1"


@pytest.fixture
async def uas() -> AsyncIterator[tuple[UdpTransport, Recorder]]:
    recorder = Recorder(answer=True)
    transport = await UdpTransport.open(recorder, LOOPBACK, 0)
    try:
        yield transport, recorder
    finally:
        await transport.close()


@pytest.fixture
async def peer() -> AsyncIterator[RawUdpPeer]:
    peer = await RawUdpPeer.open()
    try:
        yield peer
    finally:
        await peer.close()


async def test_request_and_response_between_two_udp_transports(uas: tuple[UdpTransport, Recorder]) -> None:
    server, server_log = uas
    client_log = Recorder()
    client = await UdpTransport.open(client_log, LOOPBACK, 0)
    try:
        port: Transport = client  # the transaction layer's port
        assert not port.reliable
        options = request()
        via = client.add_via(options)
        assert via.transport == "UDP" and via.host == LOOPBACK and via.port == client.local_address[1]
        assert via.branch is not None and via.branch.startswith("z9hG4bK") and via.has_param("rport")
        client.send(options, server.local_address)
        received, source, transport = await server_log.next()
        assert source == client.local_address and transport is server
        # RFC 3581: the empty rport is filled, received added although it equals sent-by.
        top = received.headers.via[0]
        assert top.rport == client.local_address[1] and top.received == LOOPBACK
        response, source, _ = await client_log.next()
        assert isinstance(response, Response) and response.status_code == 200
        assert source == server.local_address
        assert (client.counters.sent, client.counters.received) == (1, 1)
        assert (server.counters.sent, server.counters.received) == (1, 1)
    finally:
        await client.close()


async def test_malformed_request_gets_400_and_the_next_request_is_served(
    uas: tuple[UdpTransport, Recorder], peer: RawUdpPeer
) -> None:
    server, log = uas
    via = f"SIP/2.0/UDP {LOOPBACK}:{peer.port};branch=z9hG4bKbad"
    peer.send(raw(via=via, extra="Max-Forwards: many"), server.local_address)
    answer = parse_message(await peer.next())
    assert isinstance(answer, Response)
    assert (answer.status_code, answer.reason) == (400, "Bad Max-Forwards")
    assert answer.headers.to is not None and answer.headers.to.tag  # §8.2.6.2
    assert server.counters.malformed == 1 and log.messages == []

    peer.send(raw(via=f"SIP/2.0/UDP {LOOPBACK}:{peer.port};branch=z9hG4bKgood"), server.local_address)
    good = parse_message(await peer.next())
    assert isinstance(good, Response) and good.status_code == 200
    assert server.counters.received == 1


async def test_unsupported_version_gets_505(uas: tuple[UdpTransport, Recorder], peer: RawUdpPeer) -> None:
    server, _ = uas
    data = raw(via=f"SIP/2.0/UDP {LOOPBACK}:{peer.port};branch=z9hG4bK505").replace(b"SIP/2.0\r\n", b"SIP/7.0\r\n", 1)
    peer.send(data, server.local_address)
    answer = parse_message(await peer.next())
    assert isinstance(answer, Response) and answer.status_code == 505


async def test_the_400_goes_to_received_and_rport_not_to_sent_by(
    uas: tuple[UdpTransport, Recorder], peer: RawUdpPeer
) -> None:
    server, _ = uas
    # sent-by names an address nobody listens on: only received/rport (the source) can reach the peer.
    peer.send(
        raw(via="SIP/2.0/UDP 192.0.2.1:5999;rport;branch=z9hG4bKnat", extra="Expires: soon"), server.local_address
    )
    answer = parse_message(await peer.next())
    assert isinstance(answer, Response) and (answer.status_code, answer.reason) == (400, "Bad Expires")
    top = answer.headers.via[0]
    assert (top.received, top.rport) == (LOOPBACK, peer.port)


async def test_garbage_and_malformed_responses_are_dropped_and_counted(
    uas: tuple[UdpTransport, Recorder], peer: RawUdpPeer
) -> None:
    server, log = uas
    peer.send(b"hello, is it me you are looking for?\r\n\r\n", server.local_address)
    peer.send(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP nowhere;branch=z9hG4bK1\r\n\r\n", server.local_address)
    peer.send(raw("ACK", via=f"SIP/2.0/UDP {LOOPBACK}:{peer.port}", cseq="1 BYE"), server.local_address)
    peer.send(raw(via=f"SIP/2.0/UDP {LOOPBACK}:{peer.port};branch=z9hG4bKok"), server.local_address)
    answer = parse_message(await peer.next())  # only the good request is answered
    assert isinstance(answer, Response) and answer.status_code == 200
    assert peer.datagrams.empty()
    assert (server.counters.malformed, server.counters.dropped, server.counters.received) == (3, 3, 1)
    assert len(log.messages) == 1


async def test_a_response_whose_via_is_not_ours_is_dropped(
    uas: tuple[UdpTransport, Recorder], peer: RawUdpPeer
) -> None:
    server, log = uas
    foreign = Response.for_request(request(via="SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx"), 200, to_tag="t")
    peer.send(bytes(foreign), server.local_address)
    host, port = server.local_address
    ours = Response.for_request(request(via=f"SIP/2.0/UDP {host}:{port};branch=z9hG4bKy"), 200, to_tag="t")
    peer.send(bytes(ours), server.local_address)
    received, _, _ = await log.next()
    assert isinstance(received, Response) and received.headers.via[0].branch == "z9hG4bKy"
    assert (server.counters.dropped, server.counters.received) == (1, 1)


async def test_crlf_keepalives_are_ignored(uas: tuple[UdpTransport, Recorder], peer: RawUdpPeer) -> None:
    server, _ = uas
    peer.send(b"\r\n\r\n", server.local_address)
    peer.send(raw(via=f"SIP/2.0/UDP {LOOPBACK}:{peer.port};branch=z9hG4bKok"), server.local_address)
    assert b"200 OK" in await peer.next()
    assert (server.counters.keepalives, server.counters.malformed) == (1, 0)


async def test_sending_fails_when_closed_or_too_large() -> None:
    transport = await UdpTransport.open(Recorder(), LOOPBACK, 0)
    big = request()
    big.body = b"x" * MAX_DATAGRAM
    with pytest.raises(SipTransportError):
        transport.send(big, ("127.0.0.1", 9))
    await transport.close()
    with pytest.raises(SipTransportError):
        transport.send(request(), ("127.0.0.1", 9))
    assert transport.counters.send_errors == 2


async def test_sent_by_is_required_on_a_wildcard_address() -> None:
    transport = await UdpTransport.open(Recorder(), "0.0.0.0", 0)
    try:
        with pytest.raises(RuntimeError):
            transport.add_via(request())
    finally:
        await transport.close()
    named = await UdpTransport.open(Recorder(), "0.0.0.0", 0, sent_by="sip.example.com")
    try:
        assert named.add_via(request()).host == "sip.example.com"
    finally:
        await named.close()
