"""RTP packets (RFC 3550 §5.1): round trips, known bytes, malformed input, sequence arithmetic."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callboard.voice.media.rtp import (
    RtpHeaderExtension,
    RtpPacket,
    RtpParseError,
    extend_seq,
    seq_diff,
    seq_newer,
    timestamp_diff,
)

# A PCMU packet as a SIP phone sends it: V=2, marker, PT 0, seq 0x1234, ts 0x10, SSRC 0xDEADBEEF.
PCMU_PACKET = bytes.fromhex("8080123400000010deadbeef") + bytes([0xFF] * 160)


def test_parse_known_packet() -> None:
    packet = RtpPacket.parse(PCMU_PACKET)
    assert packet == RtpPacket(
        payload_type=0, sequence_number=0x1234, timestamp=0x10, ssrc=0xDEADBEEF, payload=b"\xff" * 160, marker=True
    )
    assert bytes(packet) == PCMU_PACKET


def test_round_trip_with_every_header_feature() -> None:
    packet = RtpPacket(
        payload_type=101,
        sequence_number=65535,
        timestamp=0xFFFFFFFF,
        ssrc=1,
        payload=b"\x01\x8a\x03\x20",
        csrc=(10, 20, 30),
        extension=RtpHeaderExtension(0xBEDE, b"\x10\xff\x00\x00"),
        padding=4,
    )
    data = bytes(packet)
    assert data[0] == 0x80 | 0x20 | 0x10 | 3
    assert len(data) == 12 + 12 + 4 + 4 + 4 + 4
    assert RtpPacket.parse(data) == packet


packets = st.builds(
    RtpPacket,
    payload_type=st.integers(0, 127),
    sequence_number=st.integers(0, 0xFFFF),
    timestamp=st.integers(0, 0xFFFFFFFF),
    ssrc=st.integers(0, 0xFFFFFFFF),
    payload=st.binary(max_size=200),
    marker=st.booleans(),
    csrc=st.lists(st.integers(0, 0xFFFFFFFF), max_size=15).map(tuple),
    extension=st.none()
    | st.builds(
        RtpHeaderExtension, st.integers(0, 0xFFFF), st.binary(max_size=16).map(lambda b: b + bytes(-len(b) % 4))
    ),
    padding=st.integers(0, 255),
)


@given(packets)
@settings(deadline=None)
def test_round_trip_property(packet: RtpPacket) -> None:
    assert RtpPacket.parse(bytes(packet)) == packet


@given(st.binary(max_size=64))
@settings(max_examples=500, deadline=None)
def test_random_bytes_parse_or_raise_rtp_parse_error(data: bytes) -> None:
    try:
        packet = RtpPacket.parse(data)
    except RtpParseError as exc:
        assert exc.field and 0 <= exc.offset <= len(data)
    else:
        assert RtpPacket.parse(bytes(packet)) == packet


@pytest.mark.parametrize(
    ("data", "field", "offset"),
    [
        (b"", "header", 0),
        (bytes.fromhex("8000000100000000000000"), "header", 11),
        (bytes.fromhex("400000010000000000000000"), "version", 0),
        (bytes.fromhex("82000001000000000000000000000001"), "csrc", 12),
        (bytes.fromhex("900000010000000000000000bede"), "extension", 12),
        (bytes.fromhex("900000010000000000000000bede000200000000"), "extension", 14),
        (bytes.fromhex("a00000010000000000000000aabb00"), "padding", 14),
        (bytes.fromhex("a0000001000000000000000005"), "padding", 12),
    ],
)
def test_malformed_packets_name_field_and_offset(data: bytes, field: str, offset: int) -> None:
    with pytest.raises(RtpParseError) as caught:
        RtpPacket.parse(data)
    assert (caught.value.field, caught.value.offset) == (field, offset)
    assert isinstance(caught.value, ValueError)
    assert field in str(caught.value)


def test_padding_removed_from_payload() -> None:
    packet = RtpPacket.parse(bytes.fromhex("a00000010000000000000000aabb0003"))
    assert (packet.payload, packet.padding) == (b"\xaa", 3)


def test_out_of_range_fields_rejected() -> None:
    with pytest.raises(ValueError, match="payload type"):
        RtpPacket(payload_type=128)
    with pytest.raises(ValueError, match="sequence"):
        RtpPacket(sequence_number=65536)
    with pytest.raises(ValueError, match="CSRC"):
        RtpPacket(csrc=tuple(range(16)))
    with pytest.raises(ValueError, match="32-bit words"):
        RtpHeaderExtension(1, b"abc")


def test_sequence_arithmetic_wraps() -> None:
    assert seq_newer(1, 0) and not seq_newer(0, 1)
    assert seq_newer(0, 65535) and seq_newer(10, 65530)
    assert not seq_newer(5, 5)
    assert seq_diff(0, 65535) == 1 and seq_diff(65535, 0) == -1
    assert seq_diff(32767, 0) == 32767 and seq_diff(32768, 0) == -32768
    assert timestamp_diff(0, 0xFFFFFF60) == 160


def test_extend_seq_follows_the_nearest_cycle() -> None:
    assert extend_seq(5, 65530) == 65541
    assert extend_seq(65530, 65541) == 65530
    assert extend_seq(100, 3 * 65536 + 90) == 3 * 65536 + 100
    assert extend_seq(65535, 0) == 0  # nothing before the first cycle
