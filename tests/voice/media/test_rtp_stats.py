"""RFC 3550 A.1 / A.3 / A.8 receiver statistics on synthetic streams with known loss and jitter."""

from __future__ import annotations

from callboard.voice.media.rtcp import SenderReport
from callboard.voice.media.rtp import RtpPacket
from callboard.voice.media.rtp_stats import RtpReceiveStats

SSRC = 0x5EED


def packet(seq: int, timestamp: int) -> RtpPacket:
    return RtpPacket(sequence_number=seq & 0xFFFF, timestamp=timestamp & 0xFFFFFFFF, ssrc=SSRC, payload=bytes(160))


def test_loss_across_sequence_wrap() -> None:
    stats = RtpReceiveStats()
    first = 65000
    for i in range(1000):
        if i % 10 == 5:
            continue  # 100 packets lost, none of them the first two
        stats.receive(packet(first + i, 160 * i), 160 * i)
    (block,) = stats.report_blocks()
    # The first packet is the A.1 probation packet: the count starts at the second one (base_seq = 65001).
    assert block.ssrc == SSRC
    assert block.extended_highest_sequence == 65536 + (first + 999 - 65536)
    assert block.cumulative_lost == 100
    assert block.fraction_lost == (100 << 8) // 999
    assert block.jitter == 0

    for i in range(1000, 1100):
        stats.receive(packet(first + i, 160 * i), 160 * i)
    (block,) = stats.report_blocks()
    assert (block.fraction_lost, block.cumulative_lost) == (0, 100)  # the new interval lost nothing


def test_jitter_follows_a8_integer_form() -> None:
    stats = RtpReceiveStats()
    # Transit alternates 0 / 80 units: every |D| is 80, so J = J + (80 - J)/16 converges to 80.
    arrivals = [160 * i + (80 if i % 2 else 0) for i in range(400)]
    for i, arrival in enumerate(arrivals[:3]):
        stats.receive(packet(i, 160 * i), arrival)
    # Packet 0 is on probation; packet 1 sets the transit; packet 2 gives J = 80/16 = 5.
    assert stats.sources[SSRC].jitter == 5
    assert stats.sources[SSRC].jitter_q4 == 80
    for i, arrival in enumerate(arrivals[3:], 3):
        stats.receive(packet(i, 160 * i), arrival)
    # A.8's integer estimator stops where (J16 + 8) >> 4 == 80, i.e. J16 = 1272 when approached from below,
    # and the report carries J16 >> 4: 79, one below the real-valued limit.
    assert stats.sources[SSRC].jitter_q4 == 1272
    assert stats.report_blocks()[0].jitter == 79


def test_jitter_matches_the_floating_point_estimator() -> None:
    delays = [0, 30, 10, 90, 45, 0, 200, 160, 20, 5] * 20
    stats = RtpReceiveStats()
    reference = 0.0
    previous_transit = None
    for i, delay in enumerate(delays):
        stats.receive(packet(i, 160 * i), 160 * i + delay)
        if i >= 1:  # packets counted by A.1
            if previous_transit is not None:
                reference += (abs(delay - previous_transit) - reference) / 16
            previous_transit = delay
    assert abs(stats.sources[SSRC].jitter - reference) <= 1


def test_jitter_survives_rtp_timestamp_wrap() -> None:
    stats = RtpReceiveStats()
    base = 0xFFFFFFFF - 800
    for i in range(20):
        stats.receive(packet(i, base + 160 * i), 1000 + 160 * i)
    assert stats.sources[SSRC].jitter == 0


def test_duplicates_make_cumulative_loss_negative_and_reordering_is_not_loss() -> None:
    stats = RtpReceiveStats()
    for seq in [10, 11, 13, 12, 14, 14, 14]:
        stats.receive(packet(seq, 160 * seq), 160 * seq)
    source = stats.sources[SSRC]
    assert source.expected == 4  # 11..14
    assert source.received == 6
    assert source.cumulative_lost == -2
    assert stats.report_blocks()[0].fraction_lost == 0


def test_large_jump_needs_two_sequential_packets_to_resync() -> None:
    stats = RtpReceiveStats()
    assert not stats.receive(packet(99, 0), 0)  # probation
    for seq in range(100, 105):
        assert stats.receive(packet(seq, 0), 0)
    assert not stats.receive(packet(20000, 0), 0)  # beyond MAX_DROPOUT: held as bad_seq
    assert stats.receive(packet(20001, 0), 0)  # sequential with it: the source restarted
    source = stats.sources[SSRC]
    assert (source.base_seq, source.received, source.cumulative_lost) == (20001, 1, 0)


def test_probation_hides_a_source_until_two_sequential_packets() -> None:
    stats = RtpReceiveStats()
    assert not stats.receive(packet(7, 0), 0)
    assert stats.report_blocks() == []
    assert not stats.receive(packet(9, 0), 0)  # not sequential: probation starts again
    assert stats.receive(packet(10, 0), 0)
    assert stats.report_blocks()[0].extended_highest_sequence == 10


def test_lsr_and_dlsr_from_the_last_sender_report() -> None:
    stats = RtpReceiveStats()
    for seq in range(3):
        stats.receive(packet(seq, 0), 0)
    stats.receive_sender_report(SenderReport(SSRC, ntp_timestamp=0x0123456789ABCDEF), arrival=100.0)
    (block,) = stats.report_blocks(now=100.5)
    assert (block.lsr, block.dlsr) == (0x456789AB, 32768)
    stats.receive_sender_report(SenderReport(0x999, ntp_timestamp=1), arrival=1.0)  # unknown source: ignored
    assert set(stats.sources) == {SSRC}
