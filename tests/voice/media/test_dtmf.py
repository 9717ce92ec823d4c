"""RFC 4733 telephone-events: payload round trips, the receiver's once-only digits, the sender's packet train."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callboard.voice.media.dtmf import (
    DtmfDigit,
    DtmfReceiver,
    DtmfSender,
    TelephoneEvent,
    TelephoneEventParseError,
)
from callboard.voice.media.rtp import RtpPacket


def test_payload_known_bytes() -> None:
    # Digit 1, end bit, volume 10, 800 units (100 ms at 8 kHz).
    assert bytes(TelephoneEvent(1, True, 10, 800)).hex() == "018a0320"
    assert TelephoneEvent.parse(bytes.fromhex("01ca0320")) == TelephoneEvent(1, True, 10, 800)  # R bit ignored


@given(st.builds(TelephoneEvent, st.integers(0, 255), st.booleans(), st.integers(0, 63), st.integers(0, 0xFFFF)))
def test_payload_round_trip(event: TelephoneEvent) -> None:
    assert TelephoneEvent.parse(bytes(event)) == event


@pytest.mark.parametrize("data", [b"", b"\x01\x8a\x03", b"\x01\x8a\x03\x20\x00"])
def test_malformed_payload(data: bytes) -> None:
    with pytest.raises(TelephoneEventParseError) as caught:
        TelephoneEvent.parse(data)
    assert caught.value.field == "payload"


def feed(receiver: DtmfReceiver, packets: list[tuple[int, int, bool, int, bool]]) -> list[DtmfDigit]:
    """(event, timestamp, marker, duration, end) tuples -> digits."""
    digits: list[DtmfDigit] = []
    for event, timestamp, marker, duration, end in packets:
        digits += receiver.receive(TelephoneEvent(event, end, 10, duration), timestamp, marker)
    return digits


def test_sender_packet_train() -> None:
    packets = DtmfSender().packets("5", timestamp=16000, duration=800)
    assert [p.payload.duration for p in packets] == [160, 320, 480, 640, 800, 800, 800]
    assert [p.payload.end for p in packets] == [False] * 4 + [True] * 3
    assert [p.marker for p in packets] == [True] + [False] * 6
    assert {p.timestamp for p in packets} == {16000}
    assert [p.send_offset for p in packets] == [0, 160, 320, 480, 640, 800, 960]
    assert {p.payload.event for p in packets} == {5}
    rtp = packets[0].to_rtp(payload_type=101, sequence_number=7, ssrc=9)
    assert (rtp.marker, rtp.payload_type, rtp.timestamp, rtp.payload) == (True, 101, 16000, bytes(packets[0].payload))


def test_sender_short_digit_and_letters() -> None:
    packets = DtmfSender().packets("d", timestamp=0, duration=100)
    assert [(p.marker, p.payload.end, p.payload.duration) for p in packets] == [(True, True, 100)] + [
        (False, True, 100)
    ] * 2
    assert packets[0].payload.event == 15
    with pytest.raises(ValueError, match="DTMF digit"):
        DtmfSender().packets("E", timestamp=0)
    with pytest.raises(ValueError, match="duration"):
        DtmfSender().packets("1", timestamp=0, duration=70000)


def test_sender_output_is_received_once_per_digit() -> None:
    sender, receiver = DtmfSender(), DtmfReceiver()
    digits: list[DtmfDigit] = []
    for i, digit in enumerate("19*#0A"):
        for packet in sender.packets(digit, timestamp=8000 * i):
            rtp = RtpPacket.parse(bytes(packet.to_rtp(payload_type=101, sequence_number=i, ssrc=1)))
            digits += receiver.receive_packet(rtp)
    assert "".join(d.digit for d in digits) == "19*#0A"
    assert {d.duration for d in digits} == {800} and all(d.ended for d in digits)


def test_retransmitted_end_and_repeated_start_are_deduplicated() -> None:
    digits = feed(
        DtmfReceiver(),
        [
            (3, 1000, True, 160, False),
            (3, 1000, True, 160, False),  # start sent twice
            (3, 1000, False, 320, False),
            (3, 1000, False, 480, True),
            (3, 1000, False, 480, True),
            (3, 1000, False, 480, True),
            (3, 1000, False, 320, False),  # a late update after the end
        ],
    )
    assert digits == [DtmfDigit("3", 1000, 480)]


def test_lost_start_packets_still_give_the_digit() -> None:
    digits = feed(DtmfReceiver(), [(7, 5000, False, 480, False), (7, 5000, False, 640, True)])
    assert digits == [DtmfDigit("7", 5000, 640)]
    only_end = feed(DtmfReceiver(), [(8, 9000, False, 800, True), (8, 9000, False, 800, True)])
    assert only_end == [DtmfDigit("8", 9000, 800)]


def test_same_digit_twice_is_two_events() -> None:
    packets = [(2, ts, m, d, e) for ts in (100, 2000) for m, d, e in ((True, 160, False), (False, 400, True))]
    assert [d.digit for d in feed(DtmfReceiver(), packets)] == ["2", "2"]


def test_lost_end_packets_close_the_digit_when_the_next_starts() -> None:
    receiver = DtmfReceiver()
    digits = feed(receiver, [(1, 100, True, 160, False), (1, 100, False, 320, False), (2, 900, True, 160, False)])
    assert digits == [DtmfDigit("1", 100, 320, ended=False)]
    assert receiver.flush() == [DtmfDigit("2", 900, 160, ended=False)]
    assert receiver.flush() == []


def test_late_packets_of_an_earlier_event_are_ignored() -> None:
    digits = feed(
        DtmfReceiver(),
        [
            (4, 3000, True, 160, False),
            (4, 3000, False, 320, True),
            (6, 4000, True, 160, True),
            (4, 3000, False, 320, True),
        ],
    )
    assert [d.digit for d in digits] == ["4", "6"]


def test_events_across_timestamp_wrap_and_non_dtmf_events() -> None:
    digits = feed(
        DtmfReceiver(),
        [(9, 0xFFFFFF00, True, 160, True), (16, 0x100, True, 160, True), (0, 0x200, True, 160, True)],
    )
    assert [d.digit for d in digits] == ["9", "0"]  # event 16 (flash) is not a digit
