"""A fixed-depth jitter buffer for 20 ms frames (decoded linear PCM, or G.711 as received): reorders by sequence
number within a window, drops late and duplicate packets, and yields exactly one frame per media-clock tick.

Concealment is deliberately simple: a missing frame is replaced by the previous frame once (a repeat hides a
single loss well for G.711), then by silence. When the buffer runs dry the playout point holds (the sender may
simply have stopped: silence suppression keeps sequence numbers contiguous) and playback waits for `prefetch`
frames again, which adds back the latency that the underrun took away.
"""

from __future__ import annotations

from dataclasses import dataclass

from callboard.voice.media.codecs import CODECS, PCMA, PCMU
from callboard.voice.media.rtp import RtpPacket, seq_diff

PCMU_SILENCE = CODECS[PCMU].silence
PCMA_SILENCE = CODECS[PCMA].silence


@dataclass(slots=True)
class JitterBufferCounters:
    received: int = 0  # packets accepted into the buffer
    played: int = 0  # real frames handed out
    late: int = 0  # arrived after their playout time
    duplicate: int = 0
    overflow: int = 0  # buffered frames dropped because a packet arrived too far ahead of the playout point
    lost: int = 0  # sequence numbers that were never there when their turn came
    concealed: int = 0  # frames replaced by a repeat of the previous frame
    silence: int = 0  # silence frames handed out (losses after the first, underruns and prefetch)
    underruns: int = 0


class JitterBuffer:
    """Reorder window of `capacity` frames; playback starts once `prefetch` frames are buffered."""

    def __init__(self, *, capacity: int = 10, prefetch: int = 2, silence: bytes = PCMU_SILENCE) -> None:
        if not 1 <= prefetch <= capacity:
            raise ValueError(f"prefetch {prefetch} must be within 1..capacity ({capacity})")
        self.capacity = capacity
        self.prefetch = prefetch
        self.silence = silence
        self.counters = JitterBufferCounters()
        self._frames: dict[int, bytes] = {}
        self._next: int | None = None  # the sequence number due at the next pop
        self._buffering = True
        self._last: bytes | None = None
        self._repeated = False

    @property
    def depth(self) -> int:
        return len(self._frames)

    def put(self, packet: RtpPacket) -> bool:
        """Offer a packet; return False when it is dropped as late or duplicate."""
        seq = packet.sequence_number
        if self._next is None:
            self._next = seq
        ahead = seq_diff(seq, self._next)
        if ahead < 0:
            self.counters.late += 1
            return False
        if seq in self._frames:
            self.counters.duplicate += 1
            return False
        if ahead >= self.capacity:
            # The sender is further ahead than the window: move the playout point so this packet fits,
            # dropping what falls behind it (a sequence jump or a long stall on our side).
            new_next = (seq - self.capacity + 1) & 0xFFFF
            for old in [s for s in self._frames if seq_diff(s, new_next) < 0]:
                del self._frames[old]
                self.counters.overflow += 1
            self._next = new_next
        self._frames[seq] = packet.payload
        self.counters.received += 1
        return True

    def pop(self) -> bytes:
        """The frame for this tick: a real one, a concealment repeat, or silence."""
        if self._buffering:
            if len(self._frames) < self.prefetch:
                return self._silence()
            self._buffering = False
        if not self._frames:
            self.counters.underruns += 1
            self._buffering = True
            return self._conceal()
        assert self._next is not None
        seq, self._next = self._next, (self._next + 1) & 0xFFFF
        frame = self._frames.pop(seq, None)
        if frame is None:
            self.counters.lost += 1
            return self._conceal()
        self.counters.played += 1
        self._last, self._repeated = frame, False
        return frame

    def _conceal(self) -> bytes:
        if self._last is not None and not self._repeated:
            self._repeated = True
            self.counters.concealed += 1
            return self._last
        return self._silence()

    def _silence(self) -> bytes:
        self.counters.silence += 1
        return self.silence
