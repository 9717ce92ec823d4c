"""The jitter buffer: reordering, late and duplicate drops, concealment, underrun and overflow."""

from __future__ import annotations

from callboard.voice.media.jitter import PCMU_SILENCE, JitterBuffer
from callboard.voice.media.rtp import RtpPacket


def pkt(seq: int) -> RtpPacket:
    return RtpPacket(0, seq & 0xFFFF, seq * 160 & 0xFFFFFFFF, 1, bytes([seq & 0xFF]) * 160)


def frame(seq: int) -> bytes:
    return bytes([seq & 0xFF]) * 160


def test_reorders_within_the_window() -> None:
    jb = JitterBuffer(prefetch=2)
    for seq in (10, 12, 11, 13):
        assert jb.put(pkt(seq))
    assert [jb.pop() for _ in range(4)] == [frame(10), frame(11), frame(12), frame(13)]
    assert jb.counters.played == 4


def test_prefetch_plays_silence_until_enough_frames() -> None:
    jb = JitterBuffer(prefetch=3)
    jb.put(pkt(1))
    assert jb.pop() == PCMU_SILENCE
    jb.put(pkt(2))
    jb.put(pkt(3))
    assert jb.pop() == frame(1)


def test_late_and_duplicate_packets_are_dropped() -> None:
    jb = JitterBuffer(prefetch=1)
    jb.put(pkt(5))
    jb.put(pkt(6))
    assert not jb.put(pkt(6))
    assert jb.pop() == frame(5)
    assert not jb.put(pkt(5))  # its turn has passed
    assert not jb.put(pkt(4))
    assert (jb.counters.duplicate, jb.counters.late) == (1, 2)


def test_a_lost_frame_is_repeated_once_then_silence() -> None:
    jb = JitterBuffer(prefetch=1, capacity=10)
    for seq in (1, 4):
        jb.put(pkt(seq))
    assert [jb.pop() for _ in range(4)] == [frame(1), frame(1), PCMU_SILENCE, frame(4)]
    assert (jb.counters.lost, jb.counters.concealed) == (2, 1)


def test_underrun_holds_the_playout_point() -> None:
    jb = JitterBuffer(prefetch=1)
    jb.put(pkt(1))
    assert jb.pop() == frame(1)
    assert jb.pop() == frame(1)  # underrun: one repeat
    assert jb.pop() == PCMU_SILENCE
    jb.put(pkt(2))  # the sender resumes with the next sequence number: not late
    assert jb.pop() == frame(2)
    assert jb.counters.underruns == 1 and jb.counters.late == 0


def test_sequence_wraps() -> None:
    jb = JitterBuffer(prefetch=2)
    for seq in (0xFFFF, 0x10000, 0xFFFE):
        jb.put(pkt(seq))
    assert jb.counters.late == 1  # 0xFFFE came after 0xFFFF set the playout point
    assert [jb.pop(), jb.pop()] == [frame(0xFFFF), frame(0)]


def test_packet_far_ahead_moves_the_window() -> None:
    jb = JitterBuffer(prefetch=1, capacity=4)
    jb.put(pkt(1))
    jb.put(pkt(2))
    jb.put(pkt(10))
    assert jb.counters.overflow == 2
    assert [jb.pop() for _ in range(4)][-1] == frame(10)
