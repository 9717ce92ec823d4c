"""RFC 4733 telephone-events for DTMF: the payload (§2.3), a receiver that reports each digit once (§2.5.2),
and a sender that produces the packet sequence of one digit (§2.5.1)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from callboard.voice.media.rtp import RtpPacket, timestamp_diff

DTMF_DIGITS = "0123456789*#ABCD"
END_RETRANSMISSIONS = 3  # §2.5.1.4: the final packet is sent three times

_PAYLOAD = struct.Struct("!BBH")


class TelephoneEventParseError(ValueError):
    """A payload that is not an RFC 4733 telephone-event; names the field and byte offset."""

    def __init__(self, field: str, offset: int, message: str) -> None:
        super().__init__(f"invalid telephone-event {field} at offset {offset}: {message}")
        self.field = field
        self.offset = offset


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    """The 4-byte telephone-event payload (RFC 4733 §2.3); `volume` is -dBm0 (0-63), `duration` in clock units."""

    event: int
    end: bool = False
    volume: int = 10
    duration: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.event <= 0xFF or not 0 <= self.volume <= 0x3F or not 0 <= self.duration <= 0xFFFF:
            raise ValueError(f"telephone-event fields out of range: {self}")

    @classmethod
    def parse(cls, data: bytes) -> TelephoneEvent:
        # A receiver ignores the R bit (§2.3.4); more than 4 bytes would be RFC 2198 redundancy, not this payload.
        if len(data) != _PAYLOAD.size:
            raise TelephoneEventParseError("payload", min(len(data), _PAYLOAD.size), f"{len(data)} bytes, need 4")
        event, flags, duration = _PAYLOAD.unpack(data)
        return cls(event, bool(flags & 0x80), flags & 0x3F, duration)

    def __bytes__(self) -> bytes:
        return _PAYLOAD.pack(self.event, (0x80 if self.end else 0) | self.volume, self.duration)

    @property
    def digit(self) -> str | None:
        return DTMF_DIGITS[self.event] if self.event < len(DTMF_DIGITS) else None


@dataclass(frozen=True, slots=True)
class DtmfDigit:
    """One received digit: its RTP timestamp (the event start) and duration in clock units."""

    digit: str
    timestamp: int
    duration: int
    ended: bool = True  # False when no end packet arrived and the next event or `flush()` closed it


class DtmfReceiver:
    """Turns telephone-event packets into digits, each reported once (RFC 4733 §2.5.2).

    An event is identified by its RTP timestamp: retransmitted end packets and repeated start packets
    share it and are dropped; a new timestamp is a new event even when its start packet was lost.
    A digit is reported at its first end packet, or when the next event starts without one having arrived.
    """

    def __init__(self) -> None:
        self._timestamp: int | None = None
        self._event = 0
        self._duration = 0
        self._reported = True

    def receive(self, event: TelephoneEvent, timestamp: int, marker: bool = False) -> list[DtmfDigit]:
        """Feed one packet's payload, RTP timestamp and marker bit; return the digits it completes."""
        digits: list[DtmfDigit] = []
        if event.digit is None:
            return digits  # not DTMF (e.g. flash, event 16)
        if self._timestamp is not None and timestamp == self._timestamp:
            if self._reported:
                return digits  # end retransmission, or an update arriving after the end
            self._duration = max(self._duration, event.duration)
            if event.end:
                digits.append(self._close(ended=True))
            return digits
        if self._timestamp is not None and timestamp_diff(timestamp, self._timestamp) < 0 and not marker:
            return digits  # a late packet of an earlier event
        if not self._reported:
            digits.append(self._close(ended=False))
        self._timestamp, self._event, self._duration, self._reported = timestamp, event.event, event.duration, False
        if event.end:
            digits.append(self._close(ended=True))
        return digits

    def receive_packet(self, packet: RtpPacket) -> list[DtmfDigit]:
        """Feed an RTP packet whose payload type is the negotiated telephone-event type."""
        return self.receive(TelephoneEvent.parse(packet.payload), packet.timestamp, packet.marker)

    def flush(self) -> list[DtmfDigit]:
        """Report a digit whose end packets never came (call when the event stream stops, e.g. after a timeout)."""
        return [] if self._reported else [self._close(ended=False)]

    def _close(self, *, ended: bool) -> DtmfDigit:
        self._reported = True
        assert self._timestamp is not None
        return DtmfDigit(DTMF_DIGITS[self._event], self._timestamp, self._duration, ended)


@dataclass(frozen=True, slots=True)
class TelephoneEventPacket:
    """One packet of an outgoing event: send it `send_offset` clock units after the event starts."""

    send_offset: int
    timestamp: int
    marker: bool
    payload: TelephoneEvent

    def to_rtp(self, *, payload_type: int, sequence_number: int, ssrc: int) -> RtpPacket:
        return RtpPacket(
            payload_type=payload_type,
            sequence_number=sequence_number,
            timestamp=self.timestamp,
            ssrc=ssrc,
            payload=bytes(self.payload),
            marker=self.marker,
        )


class DtmfSender:
    """Produces the RFC 4733 §2.5.1 packets of one digit: a start packet with the marker bit, an update every
    packet interval with the duration so far, all carrying the event's start timestamp, then three end packets."""

    def __init__(self, *, clock_rate: int = 8000, packet_interval: int = 160, volume: int = 10) -> None:
        self.clock_rate = clock_rate
        self.packet_interval = packet_interval
        self.volume = volume

    def packets(self, digit: str, *, timestamp: int, duration: int | None = None) -> list[TelephoneEventPacket]:
        """The packets for `digit` starting at RTP `timestamp`; `duration` in clock units (default 100 ms)."""
        if len(digit) != 1 or digit.upper() not in DTMF_DIGITS:
            raise ValueError(f"not a DTMF digit: {digit!r}")
        event = DTMF_DIGITS.index(digit.upper())
        if duration is None:
            duration = self.clock_rate // 10
        if not 0 < duration <= 0xFFFF:
            raise ValueError(f"duration {duration} must be 1..65535 clock units (§2.5.1.3 segments are not sent)")
        out: list[TelephoneEventPacket] = []
        elapsed = self.packet_interval
        while elapsed < duration:
            payload = TelephoneEvent(event, False, self.volume, elapsed)
            out.append(TelephoneEventPacket(elapsed - self.packet_interval, timestamp, not out, payload))
            elapsed += self.packet_interval
        final = TelephoneEvent(event, True, self.volume, duration)
        first_end = len(out) * self.packet_interval
        for i in range(END_RETRANSMISSIONS):
            out.append(TelephoneEventPacket(first_end + i * self.packet_interval, timestamp, not out, final))
        return out
