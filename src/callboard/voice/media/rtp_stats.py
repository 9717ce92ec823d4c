"""Receiver statistics per source: RFC 3550 A.1 (sequence validation), A.3 (loss) and A.8 (interarrival jitter)."""

from __future__ import annotations

from callboard.voice.media.rtcp import ReportBlock, SenderReport
from callboard.voice.media.rtp import RTP_SEQ_MOD, RTP_TIMESTAMP_MOD, RtpPacket

MAX_DROPOUT = 3000
MAX_MISORDER = 100
MIN_SEQUENTIAL = 2


class RtpSourceStats:
    """The `source` state of RFC 3550 A.1 for one SSRC, with A.3 loss and A.8 jitter; times in timestamp units."""

    def __init__(self, ssrc: int, first_seq: int) -> None:
        self.ssrc = ssrc
        self.max_seq = (first_seq - 1) & 0xFFFF
        self.probation = MIN_SEQUENTIAL
        self.cycles = 0
        self.base_seq = first_seq
        self.bad_seq = RTP_SEQ_MOD + 1
        self.received = 0
        self.expected_prior = 0
        self.received_prior = 0
        self.transit: int | None = None
        self.jitter_q4 = 0  # the jitter estimate scaled by 16, as the integer form of A.8 keeps it
        self.last_sr = 0
        self.last_sr_arrival: float | None = None

    def _init_seq(self, seq: int) -> None:
        self.base_seq = seq
        self.max_seq = seq
        self.bad_seq = RTP_SEQ_MOD + 1
        self.cycles = 0
        self.received = 0
        self.received_prior = 0
        self.expected_prior = 0

    def update_seq(self, seq: int) -> bool:
        """A.1 `update_seq`: count the packet and return True, or False while on probation or after a big jump."""
        udelta = (seq - self.max_seq) & 0xFFFF
        if self.probation:
            # A.1 compares with max_seq + 1 in 16 bits; the C code's int promotion would miss the wrap at 65535.
            if seq == (self.max_seq + 1) & 0xFFFF:
                self.probation -= 1
                self.max_seq = seq
                if self.probation == 0:
                    self._init_seq(seq)
                    self.received += 1
                    return True
            else:
                self.probation = MIN_SEQUENTIAL - 1
                self.max_seq = seq
            return False
        if udelta < MAX_DROPOUT:
            if seq < self.max_seq:
                self.cycles += RTP_SEQ_MOD
            self.max_seq = seq
        elif udelta <= RTP_SEQ_MOD - MAX_MISORDER:
            if seq == self.bad_seq:
                self._init_seq(seq)  # the sender restarted: resynchronise on two sequential packets
            else:
                self.bad_seq = (seq + 1) & 0xFFFF
                return False
        self.received += 1  # in order, duplicate or reordered within MAX_MISORDER
        return True

    def update_jitter(self, rtp_timestamp: int, arrival: int) -> None:
        """A.8 integer form: J += |D| - ((J + 8) >> 4) with J scaled by 16; transit differences taken mod 2^32."""
        transit = (arrival - rtp_timestamp) & 0xFFFFFFFF
        if self.transit is not None:
            d = (transit - self.transit) & 0xFFFFFFFF  # `timestamp_diff`, inline: this runs for every packet
            d = d if d < 0x80000000 else RTP_TIMESTAMP_MOD - d
            self.jitter_q4 += d - ((self.jitter_q4 + 8) >> 4)
        self.transit = transit

    @property
    def extended_max(self) -> int:
        return self.cycles + self.max_seq

    @property
    def expected(self) -> int:
        return self.extended_max - self.base_seq + 1

    @property
    def cumulative_lost(self) -> int:
        """A.3: expected minus received (duplicates make it negative), clamped to the signed 24-bit field."""
        return max(-0x800000, min(0x7FFFFF, self.expected - self.received))

    @property
    def jitter(self) -> int:
        return self.jitter_q4 >> 4

    def report_block(self, now: float | None = None) -> ReportBlock:
        """A report block for this source; closes the A.3 reporting interval used for `fraction_lost`."""
        expected = self.expected
        expected_interval = expected - self.expected_prior
        self.expected_prior = expected
        received_interval = self.received - self.received_prior
        self.received_prior = self.received
        lost_interval = expected_interval - received_interval
        fraction = 0 if expected_interval == 0 or lost_interval <= 0 else (lost_interval << 8) // expected_interval
        dlsr = 0
        if self.last_sr_arrival is not None and now is not None:
            dlsr = max(0, min(0xFFFFFFFF, round((now - self.last_sr_arrival) * 65536)))
        return ReportBlock(
            ssrc=self.ssrc,
            fraction_lost=min(fraction, 0xFF),
            cumulative_lost=self.cumulative_lost,
            extended_highest_sequence=self.extended_max & 0xFFFFFFFF,
            jitter=self.jitter & 0xFFFFFFFF,
            lsr=self.last_sr,
            dlsr=dlsr,
        )


class RtpReceiveStats:
    """Reception statistics for every source heard on one RTP session, producing RR/SR report blocks."""

    def __init__(self) -> None:
        self.sources: dict[int, RtpSourceStats] = {}
        self._last: RtpSourceStats | None = None  # the source of the last packet: a session nearly always has one

    def receive(self, packet: RtpPacket, arrival: int) -> bool:
        """Account for one packet arriving at `arrival` (timestamp units); False if A.1 did not count it."""
        source = self._last
        if source is None or source.ssrc != packet.ssrc:
            source = self.sources.get(packet.ssrc)
            if source is None:
                source = self.sources[packet.ssrc] = RtpSourceStats(packet.ssrc, packet.sequence_number)
            self._last = source
        if not source.update_seq(packet.sequence_number):
            return False
        source.update_jitter(packet.timestamp, arrival)
        return True

    def receive_sender_report(self, report: SenderReport, arrival: float) -> None:
        """Remember an SR's middle 32 NTP bits and arrival time (seconds) for LSR/DLSR (RFC 3550 §6.4.1)."""
        source = self.sources.get(report.ssrc)
        if source is not None:
            source.last_sr = (report.ntp_timestamp >> 16) & 0xFFFFFFFF
            source.last_sr_arrival = arrival

    def report_blocks(self, now: float | None = None) -> list[ReportBlock]:
        """One block per validated source (RFC 3550 §6.4 allows at most 31 per packet; callers split)."""
        return [s.report_block(now) for s in self.sources.values() if not s.probation]
