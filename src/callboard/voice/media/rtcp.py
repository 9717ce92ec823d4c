"""RTCP packets (RFC 3550 §6.4-6.6): SR, RR with report blocks, SDES, BYE, and compound packets (§6.1, A.2)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

RTCP_SR = 200
RTCP_RR = 201
RTCP_SDES = 202
RTCP_BYE = 203
SDES_CNAME = 1

_COMMON_HEADER = struct.Struct("!BBH")
_REPORT_BLOCK = struct.Struct("!IB3sIIII")
_SENDER_INFO = struct.Struct("!IQIII")


class RtcpParseError(ValueError):
    """A datagram that is not a valid RTCP compound packet; names the offending field and its byte offset."""

    def __init__(self, field: str, offset: int, message: str) -> None:
        super().__init__(f"invalid RTCP {field} at offset {offset}: {message}")
        self.field = field
        self.offset = offset


@dataclass(frozen=True, slots=True)
class ReportBlock:
    """One reception report (RFC 3550 §6.4.1). `cumulative_lost` is signed 24-bit; `lsr`/`dlsr` as on the wire."""

    ssrc: int
    fraction_lost: int = 0
    cumulative_lost: int = 0
    extended_highest_sequence: int = 0
    jitter: int = 0
    lsr: int = 0
    dlsr: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.fraction_lost <= 0xFF:
            raise ValueError(f"fraction lost {self.fraction_lost} does not fit 8 bits")
        if not -0x800000 <= self.cumulative_lost <= 0x7FFFFF:
            raise ValueError(f"cumulative lost {self.cumulative_lost} does not fit signed 24 bits")

    @classmethod
    def parse(cls, data: bytes, offset: int) -> ReportBlock:
        ssrc, fraction, lost, highest, jitter, lsr, dlsr = _REPORT_BLOCK.unpack_from(data, offset)
        return cls(ssrc, fraction, int.from_bytes(lost, "big", signed=True), highest, jitter, lsr, dlsr)

    def __bytes__(self) -> bytes:
        lost = self.cumulative_lost.to_bytes(3, "big", signed=True)
        return _REPORT_BLOCK.pack(
            self.ssrc, self.fraction_lost, lost, self.extended_highest_sequence, self.jitter, self.lsr, self.dlsr
        )


@dataclass(slots=True)
class SenderReport:
    """SR (RFC 3550 §6.4.1): sender info plus reception reports; `extension` is the profile-specific tail."""

    ssrc: int
    ntp_timestamp: int = 0
    rtp_timestamp: int = 0
    packet_count: int = 0
    octet_count: int = 0
    reports: list[ReportBlock] = field(default_factory=list)
    extension: bytes = b""

    packet_type = RTCP_SR

    @property
    def count(self) -> int:
        return len(self.reports)

    def body(self) -> bytes:
        info = _SENDER_INFO.pack(self.ssrc, self.ntp_timestamp, self.rtp_timestamp, self.packet_count, self.octet_count)
        return info + b"".join(bytes(r) for r in self.reports) + self.extension


@dataclass(slots=True)
class ReceiverReport:
    """RR (RFC 3550 §6.4.2): reception reports from a participant that is not sending."""

    ssrc: int
    reports: list[ReportBlock] = field(default_factory=list)
    extension: bytes = b""

    packet_type = RTCP_RR

    @property
    def count(self) -> int:
        return len(self.reports)

    def body(self) -> bytes:
        return struct.pack("!I", self.ssrc) + b"".join(bytes(r) for r in self.reports) + self.extension


@dataclass(frozen=True, slots=True)
class SdesChunk:
    """The SDES items of one source; items are (type, value) pairs, CNAME being type 1."""

    ssrc: int
    items: tuple[tuple[int, bytes], ...] = ()

    @property
    def cname(self) -> str | None:
        return next((v.decode("utf-8", "replace") for t, v in self.items if t == SDES_CNAME), None)


@dataclass(slots=True)
class SourceDescription:
    """SDES (RFC 3550 §6.5): one chunk per source."""

    chunks: list[SdesChunk] = field(default_factory=list)

    packet_type = RTCP_SDES

    @classmethod
    def for_cname(cls, ssrc: int, cname: str) -> SourceDescription:
        return cls([SdesChunk(ssrc, ((SDES_CNAME, cname.encode()),))])

    @property
    def count(self) -> int:
        return len(self.chunks)

    def body(self) -> bytes:
        out = bytearray()
        for chunk in self.chunks:
            out += struct.pack("!I", chunk.ssrc)
            for kind, value in chunk.items:
                if not 1 <= kind <= 0xFF or len(value) > 0xFF:
                    raise ValueError(f"SDES item type {kind} with {len(value)} bytes does not fit")
                out += bytes((kind, len(value))) + value
            out += bytes(4 - len(out) % 4)  # the null item ending the list, then padding to 32 bits (§6.5)
        return bytes(out)


@dataclass(slots=True)
class Bye:
    """BYE (RFC 3550 §6.6): sources leaving, with an optional reason."""

    sources: list[int] = field(default_factory=list)
    reason: str | None = None

    packet_type = RTCP_BYE

    @property
    def count(self) -> int:
        return len(self.sources)

    def body(self) -> bytes:
        out = b"".join(struct.pack("!I", s) for s in self.sources)
        if self.reason is not None:
            text = self.reason.encode()
            if len(text) > 0xFF:
                raise ValueError("BYE reason longer than 255 bytes")
            out += bytes((len(text),)) + text
            out += bytes(-len(out) % 4)
        return out


@dataclass(slots=True)
class UnknownRtcpPacket:
    """Any other RTCP packet (APP, RTPFB, PSFB, XR...), kept as its count field and body."""

    packet_type: int
    count: int = 0
    payload: bytes = b""

    def body(self) -> bytes:
        return self.payload


RtcpPacket = SenderReport | ReceiverReport | SourceDescription | Bye | UnknownRtcpPacket


@dataclass(slots=True)
class RtcpCompoundPacket:
    """A compound RTCP datagram (RFC 3550 §6.1): packets back to back, each with its own common header."""

    packets: list[RtcpPacket] = field(default_factory=list)

    @classmethod
    def parse(cls, data: bytes) -> RtcpCompoundPacket:
        """Parse with the validity checks of RFC 3550 A.2 (version, lengths, padding only on the last packet)."""
        if not data:
            raise RtcpParseError("header", 0, "empty datagram")
        packets: list[RtcpPacket] = []
        offset = 0
        while offset < len(data):
            if offset + 4 > len(data):
                raise RtcpParseError("header", offset, "truncated common header")
            first, packet_type, words = _COMMON_HEADER.unpack_from(data, offset)
            if first >> 6 != 2:
                raise RtcpParseError("version", offset, f"version {first >> 6}, expected 2")
            end = offset + 4 * (words + 1)
            if end > len(data):
                raise RtcpParseError("length", offset + 2, f"length {words} words runs past the end of the datagram")
            body_end = end
            if first & 0x20:
                if end != len(data):
                    raise RtcpParseError("padding", offset, "padding bit set on a packet that is not the last")
                padding = data[end - 1]
                if padding == 0 or padding > end - offset - 4:
                    raise RtcpParseError("padding", end - 1, f"padding count {padding} does not fit the packet")
                body_end -= padding
            packets.append(_parse_packet(data, packet_type, first & 0x1F, offset + 4, body_end))
            offset = end
        return cls(packets)

    def __bytes__(self) -> bytes:
        out = bytearray()
        for packet in self.packets:
            body = packet.body()
            if len(body) % 4 or packet.count > 0x1F:
                raise ValueError(f"RTCP packet type {packet.packet_type} body is not whole 32-bit words")
            out += _COMMON_HEADER.pack(0x80 | packet.count, packet.packet_type, len(body) // 4) + body
        return bytes(out)


def _parse_packet(data: bytes, packet_type: int, count: int, start: int, end: int) -> RtcpPacket:
    if packet_type == RTCP_SR:
        if end - start < _SENDER_INFO.size + 24 * count:
            raise RtcpParseError("sender report", start, f"{end - start} bytes too short for {count} report blocks")
        ssrc, ntp, rtp_ts, packets, octets = _SENDER_INFO.unpack_from(data, start)
        blocks_end = start + _SENDER_INFO.size + 24 * count
        blocks = [ReportBlock.parse(data, start + _SENDER_INFO.size + 24 * i) for i in range(count)]
        return SenderReport(ssrc, ntp, rtp_ts, packets, octets, blocks, bytes(data[blocks_end:end]))
    if packet_type == RTCP_RR:
        if end - start < 4 + 24 * count:
            raise RtcpParseError("receiver report", start, f"{end - start} bytes too short for {count} report blocks")
        blocks = [ReportBlock.parse(data, start + 4 + 24 * i) for i in range(count)]
        (ssrc,) = struct.unpack_from("!I", data, start)
        return ReceiverReport(ssrc, blocks, bytes(data[start + 4 + 24 * count : end]))
    if packet_type == RTCP_SDES:
        return SourceDescription(_parse_sdes_chunks(data, count, start, end))
    if packet_type == RTCP_BYE:
        if end - start < 4 * count:
            raise RtcpParseError("bye", start, f"{end - start} bytes too short for {count} sources")
        sources = list(struct.unpack_from(f"!{count}I", data, start))
        reason = None
        offset = start + 4 * count
        if offset < end:
            length = data[offset]
            if offset + 1 + length > end:
                raise RtcpParseError("bye reason", offset, f"reason length {length} runs past the packet")
            reason = bytes(data[offset + 1 : offset + 1 + length]).decode("utf-8", "replace")
        return Bye(sources, reason)
    return UnknownRtcpPacket(packet_type, count, bytes(data[start:end]))


def _parse_sdes_chunks(data: bytes, count: int, start: int, end: int) -> list[SdesChunk]:
    chunks: list[SdesChunk] = []
    offset = start
    for _ in range(count):
        if offset + 4 > end:
            raise RtcpParseError("sdes chunk", offset, "chunk runs past the packet")
        (ssrc,) = struct.unpack_from("!I", data, offset)
        offset += 4
        items: list[tuple[int, bytes]] = []
        while True:
            if offset >= end:
                raise RtcpParseError("sdes item", offset, "item list not ended by a null item")
            kind = data[offset]
            if kind == 0:
                offset += 1
                offset += -(offset - start) % 4
                break
            if offset + 2 > end or offset + 2 + data[offset + 1] > end:
                raise RtcpParseError("sdes item", offset, "item runs past the packet")
            length = data[offset + 1]
            items.append((kind, bytes(data[offset + 2 : offset + 2 + length])))
            offset += 2 + length
        chunks.append(SdesChunk(ssrc, tuple(items)))
    return chunks
