"""RTCP packets (RFC 3550 §6): round trips, known bytes, compound validity checks (A.2), random input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callboard.voice.media.rtcp import (
    Bye,
    ReceiverReport,
    ReportBlock,
    RtcpCompoundPacket,
    RtcpParseError,
    SdesChunk,
    SenderReport,
    SourceDescription,
    UnknownRtcpPacket,
)

BLOCK = ReportBlock(
    ssrc=0x11223344, fraction_lost=25, cumulative_lost=-3, extended_highest_sequence=65999, jitter=80, lsr=7, dlsr=9
)


def test_report_block_known_bytes() -> None:
    data = bytes(BLOCK)
    assert data.hex() == "1122334419fffffd000101cf000000500000000700000009"
    assert ReportBlock.parse(data, 0) == BLOCK


def test_sender_report_and_sdes_compound_known_bytes() -> None:
    compound = RtcpCompoundPacket(
        [
            SenderReport(ssrc=1, ntp_timestamp=0x0123456789ABCDEF, rtp_timestamp=160, packet_count=2, octet_count=320),
            SourceDescription.for_cname(1, "ab"),
        ]
    )
    data = bytes(compound)
    assert data[:4].hex() == "80c80006"
    assert data[28:].hex() == "81ca0003000000010102616200000000"
    assert RtcpCompoundPacket.parse(data) == compound
    sdes = RtcpCompoundPacket.parse(data).packets[1]
    assert isinstance(sdes, SourceDescription) and sdes.chunks[0].cname == "ab"


@pytest.mark.parametrize(
    "packet",
    [
        SenderReport(1, 2, 3, 4, 5, [BLOCK, ReportBlock(9)], extension=b"\x00\x01\x02\x03"),
        ReceiverReport(0xFFFFFFFF, [BLOCK] * 31),
        ReceiverReport(7),
        SourceDescription([SdesChunk(1, ((1, b"user@host"), (2, b"Agent 7"))), SdesChunk(2, ((1, b"abc"),))]),
        SourceDescription([SdesChunk(3)]),
        Bye([1, 2], "call ended"),
        Bye([1]),
        Bye([], ""),
        UnknownRtcpPacket(205, 15, b"\x00\x00\x00\x01\x00\x00\x00\x02"),
    ],
)
def test_round_trip_each_packet_type(packet: object) -> None:
    compound = RtcpCompoundPacket([ReceiverReport(1), packet])  # type: ignore[list-item]
    assert RtcpCompoundPacket.parse(bytes(compound)) == compound


blocks = st.builds(
    ReportBlock,
    ssrc=st.integers(0, 0xFFFFFFFF),
    fraction_lost=st.integers(0, 255),
    cumulative_lost=st.integers(-0x800000, 0x7FFFFF),
    extended_highest_sequence=st.integers(0, 0xFFFFFFFF),
    jitter=st.integers(0, 0xFFFFFFFF),
    lsr=st.integers(0, 0xFFFFFFFF),
    dlsr=st.integers(0, 0xFFFFFFFF),
)
words = st.binary(max_size=12).map(lambda b: b + bytes(-len(b) % 4))
u32 = st.integers(0, 0xFFFFFFFF)
rtcp_packets = st.one_of(
    st.builds(SenderReport, u32, st.integers(0, 2**64 - 1), u32, u32, u32, st.lists(blocks, max_size=4), words),
    st.builds(ReceiverReport, u32, st.lists(blocks, max_size=4), words),
    st.builds(
        SourceDescription,
        st.lists(
            st.builds(
                SdesChunk, u32, st.lists(st.tuples(st.integers(1, 8), st.binary(max_size=20)), max_size=3).map(tuple)
            ),
            max_size=3,
        ),
    ),
    st.builds(Bye, st.lists(u32, max_size=4), st.none() | st.text(max_size=20).filter(lambda t: len(t.encode()) < 256)),
    st.builds(UnknownRtcpPacket, st.integers(204, 210), st.integers(0, 31), words),
)


@given(st.lists(rtcp_packets, min_size=1, max_size=4))
@settings(deadline=None)
def test_round_trip_property(packets: list[SenderReport]) -> None:
    compound = RtcpCompoundPacket(packets)  # type: ignore[arg-type]
    assert RtcpCompoundPacket.parse(bytes(compound)) == compound


@given(st.binary(max_size=80))
@settings(max_examples=500, deadline=None)
def test_random_bytes_parse_or_raise_rtcp_parse_error(data: bytes) -> None:
    try:
        compound = RtcpCompoundPacket.parse(data)
    except RtcpParseError as exc:
        assert exc.field and 0 <= exc.offset <= len(data)
    else:
        assert compound.packets


@given(st.lists(rtcp_packets, min_size=1, max_size=3), st.integers(0, 200))
@settings(deadline=None)
def test_truncated_compound_raises_rtcp_parse_error(packets: list[SenderReport], cut: int) -> None:
    data = bytes(RtcpCompoundPacket(packets))  # type: ignore[arg-type]
    last = len(bytes(RtcpCompoundPacket(packets[-1:])))  # type: ignore[arg-type]
    truncated = data[: -(1 + cut % (last - 1))]  # cut inside the last packet, never on a packet boundary
    with pytest.raises(RtcpParseError):
        RtcpCompoundPacket.parse(truncated)


@pytest.mark.parametrize(
    ("data", "field", "offset"),
    [
        (b"", "header", 0),
        (bytes.fromhex("80c9"), "header", 0),
        (bytes.fromhex("40c9000100000001"), "version", 0),
        (bytes.fromhex("80c9000200000001"), "length", 2),
        (bytes.fromhex("81c9000100000001"), "receiver report", 4),
        (bytes.fromhex("80c8000100000001"), "sender report", 4),
        (bytes.fromhex("a0c900010000000180c90000"), "padding", 0),
        (bytes.fromhex("a0c9000100000009"), "padding", 7),
        (bytes.fromhex("81ca000100000001"), "sdes item", 8),
        (bytes.fromhex("81ca0002000000010109aaaa"), "sdes item", 8),
        (bytes.fromhex("82cb000100000001"), "bye", 4),
        (bytes.fromhex("81cb00020000000109aabbcc"), "bye reason", 8),
    ],
)
def test_malformed_compounds_name_field_and_offset(data: bytes, field: str, offset: int) -> None:
    with pytest.raises(RtcpParseError) as caught:
        RtcpCompoundPacket.parse(data)
    assert (caught.value.field, caught.value.offset) == (field, offset)


def test_padding_on_last_packet_is_removed() -> None:
    data = bytes.fromhex("80c9000100000001a1cb00020000000200000004")
    assert RtcpCompoundPacket.parse(data).packets == [ReceiverReport(1), Bye([2])]


def test_cumulative_lost_must_fit_signed_24_bits() -> None:
    with pytest.raises(ValueError, match="24 bits"):
        ReportBlock(1, cumulative_lost=0x800000)
