"""RTP data packets (RFC 3550 §5.1) and sequence-number arithmetic (RFC 3550 Appendix A.1)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

RTP_VERSION = 2
RTP_HEADER_SIZE = 12
RTP_SEQ_MOD = 1 << 16
RTP_TIMESTAMP_MOD = 1 << 32

_HEADER = struct.Struct("!BBHII")
_EXTENSION_HEADER = struct.Struct("!HH")


class RtpParseError(ValueError):
    """A datagram that is not a valid RTP packet; names the offending field and its byte offset."""

    def __init__(self, field: str, offset: int, message: str) -> None:
        super().__init__(f"invalid RTP {field} at offset {offset}: {message}")
        self.field = field
        self.offset = offset


@dataclass(frozen=True, slots=True)
class RtpHeaderExtension:
    """The one header extension of RFC 3550 §5.3.1: a 16-bit profile tag and data in whole 32-bit words."""

    profile: int
    data: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.profile <= 0xFFFF:
            raise ValueError(f"extension profile {self.profile} does not fit 16 bits")
        if len(self.data) % 4 or len(self.data) > 0xFFFF * 4:
            raise ValueError(f"extension data must be whole 32-bit words, got {len(self.data)} bytes")


@dataclass(slots=True)
class RtpPacket:
    """One RTP data packet (RFC 3550 §5.1). `padding` is the number of padding octets (0: P bit clear)."""

    payload_type: int = 0
    sequence_number: int = 0
    timestamp: int = 0
    ssrc: int = 0
    payload: bytes = b""
    marker: bool = False
    csrc: tuple[int, ...] = ()
    extension: RtpHeaderExtension | None = None
    padding: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.payload_type <= 0x7F:
            raise ValueError(f"payload type {self.payload_type} does not fit 7 bits")
        if not 0 <= self.sequence_number <= 0xFFFF:
            raise ValueError(f"sequence number {self.sequence_number} does not fit 16 bits")
        if not 0 <= self.timestamp <= 0xFFFFFFFF or not 0 <= self.ssrc <= 0xFFFFFFFF:
            raise ValueError("timestamp and SSRC must fit 32 bits")
        if len(self.csrc) > 15 or any(not 0 <= c <= 0xFFFFFFFF for c in self.csrc):
            raise ValueError("at most 15 CSRCs of 32 bits each")
        if not 0 <= self.padding <= 0xFF:
            raise ValueError(f"padding {self.padding} does not fit the 8-bit padding count")

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        """Parse one datagram; raise `RtpParseError` on anything RFC 3550 §5.1 does not allow."""
        if len(data) < RTP_HEADER_SIZE:
            raise RtpParseError("header", len(data), f"{len(data)} bytes, need at least {RTP_HEADER_SIZE}")
        first, second, sequence_number, timestamp, ssrc = _HEADER.unpack_from(data)
        if first == 0x80:
            # Version 2 and nothing but the fixed header: nearly every voice packet. Every field fits by
            # construction, so the checks of `__post_init__` are skipped (this runs for each packet received).
            payload = bytes(data[RTP_HEADER_SIZE:])
            return _unchecked(cls, second & 0x7F, sequence_number, timestamp, ssrc, payload, second > 0x7F, (), None, 0)
        version = first >> 6
        if version != RTP_VERSION:
            raise RtpParseError("version", 0, f"version {version}, expected {RTP_VERSION}")
        csrc_count = first & 0x0F
        offset = RTP_HEADER_SIZE
        end = len(data)
        if offset + 4 * csrc_count > end:
            raise RtpParseError("csrc", offset, f"CSRC count {csrc_count} runs past the end of the packet")
        csrc = struct.unpack_from(f"!{csrc_count}I", data, offset)
        offset += 4 * csrc_count
        extension = None
        if first & 0x10:
            if offset + 4 > end:
                raise RtpParseError("extension", offset, "extension header runs past the end of the packet")
            profile, words = _EXTENSION_HEADER.unpack_from(data, offset)
            if offset + 4 + 4 * words > end:
                raise RtpParseError("extension", offset + 2, f"extension length {words} words runs past the end")
            extension = RtpHeaderExtension(profile, bytes(data[offset + 4 : offset + 4 + 4 * words]))
            offset += 4 + 4 * words
        padding = 0
        if first & 0x20:
            padding = data[-1]
            if padding == 0 or offset + padding > end:
                raise RtpParseError("padding", end - 1, f"padding count {padding} with {end - offset} bytes left")
        return cls(
            payload_type=second & 0x7F,
            sequence_number=sequence_number,
            timestamp=timestamp,
            ssrc=ssrc,
            payload=bytes(data[offset : end - padding]),
            marker=bool(second & 0x80),
            csrc=csrc,
            extension=extension,
            padding=padding,
        )

    def with_payload(self, payload: bytes) -> RtpPacket:
        """The same packet carrying another payload (a decoded or transcoded one)."""
        return _unchecked(
            type(self), self.payload_type, self.sequence_number, self.timestamp, self.ssrc, payload, self.marker,
            self.csrc, self.extension, self.padding,
        )  # fmt: skip

    def __bytes__(self) -> bytes:
        first = (RTP_VERSION << 6) | len(self.csrc)
        if self.padding:
            first |= 0x20
        if self.extension is not None:
            first |= 0x10
        second = (0x80 if self.marker else 0) | self.payload_type
        parts = [_HEADER.pack(first, second, self.sequence_number, self.timestamp, self.ssrc)]
        if self.csrc:
            parts.append(struct.pack(f"!{len(self.csrc)}I", *self.csrc))
        if self.extension is not None:
            parts.append(_EXTENSION_HEADER.pack(self.extension.profile, len(self.extension.data) // 4))
            parts.append(self.extension.data)
        parts.append(self.payload)
        if self.padding:
            parts.append(bytes(self.padding - 1) + bytes((self.padding,)))
        return b"".join(parts)


def _unchecked(
    cls: type[RtpPacket], payload_type: int, sequence_number: int, timestamp: int, ssrc: int, payload: bytes,
    marker: bool, csrc: tuple[int, ...], extension: RtpHeaderExtension | None, padding: int,
) -> RtpPacket:  # fmt: skip
    """A packet from fields already known to fit, without `__post_init__`'s checks."""
    packet = object.__new__(cls)
    packet.payload_type = payload_type
    packet.sequence_number = sequence_number
    packet.timestamp = timestamp
    packet.ssrc = ssrc
    packet.payload = payload
    packet.marker = marker
    packet.csrc = csrc
    packet.extension = extension
    packet.padding = padding
    return packet


def seq_diff(a: int, b: int) -> int:
    """Signed distance from sequence number `b` to `a` modulo 2^16, in [-32768, 32767]."""
    return ((a - b + 0x8000) & 0xFFFF) - 0x8000


def seq_newer(a: int, b: int) -> bool:
    """True when sequence number `a` comes after `b` allowing for wrap-around (RFC 3550 A.1 / RFC 1982)."""
    return seq_diff(a, b) > 0


def timestamp_diff(a: int, b: int) -> int:
    """Signed distance from RTP timestamp `b` to `a` modulo 2^32."""
    return ((a - b + 0x80000000) & 0xFFFFFFFF) - 0x80000000


def extend_seq(seq: int, highest_extended: int) -> int:
    """The extended (cycle-counted) sequence number of `seq` nearest to an extended reference (RFC 3550 A.1)."""
    extended = highest_extended + seq_diff(seq, highest_extended & 0xFFFF)
    return max(extended, 0)
