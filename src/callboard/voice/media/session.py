"""One RTP session (RFC 3550) of a call leg: an RTP and an RTCP socket on asyncio datagram endpoints.

Sending is driven from outside (a `Player` on the shared media clock calls `send_frame` every 20 ms); the
session keeps sequence number, timestamp and SSRC continuous and sets the marker bit on the first packet of
each talkspurt (RFC 3551 §4.1). Received packets go through symmetric RTP (RFC 4961), RFC 3550 statistics and,
for the telephone-event payload type, a `DtmfReceiver`.

Symmetric RTP: see `latch.py` for when the session latches onto a source address.

Per-session timers: one for the RTCP interval, one for the RTP timeout, both at second scale; media pacing
is never done here.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

from callboard.core.errors import InvalidStateError
from callboard.voice.media.dtmf import DtmfDigit, DtmfReceiver, DtmfSender, TelephoneEventParseError
from callboard.voice.media.latch import Address, SymmetricLatch
from callboard.voice.media.ports import PortLease
from callboard.voice.media.rtcp import (
    Bye,
    ReceiverReport,
    ReportBlock,
    RtcpCompoundPacket,
    RtcpPacket,
    RtcpParseError,
    SenderReport,
    SourceDescription,
)
from callboard.voice.media.rtp import RtpPacket, RtpParseError
from callboard.voice.media.rtp_stats import RtpReceiveStats

logger = logging.getLogger(__name__)

_RTP_HEADER = struct.Struct("!BBHII")  # version 2 and no CSRC (0x80), marker and payload type, seq, timestamp, SSRC
MAX_DATAGRAM = 2048  # RTP/RTCP for voice stays far below the path MTU; stock asyncio would read 256 KiB a packet
NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 (NTP) to 1970-01-01 (Unix)


class RtpSessionState(enum.Enum):
    NEW = "new"
    OPEN = "open"
    CLOSED = "closed"


_TRANSITIONS = {
    RtpSessionState.NEW: {RtpSessionState.OPEN, RtpSessionState.CLOSED},
    RtpSessionState.OPEN: {RtpSessionState.CLOSED},
    RtpSessionState.CLOSED: set(),
}


class RtpTimeoutCause(enum.Enum):
    NO_MEDIA = "no_media"  # nothing valid ever arrived
    MEDIA_STOPPED = "media_stopped"  # packets arrived, then stopped


class RtpSessionListener(Protocol):
    """What an RTP session reports to its call leg. Called on the event loop; must not block."""

    def rtp_received(self, packet: RtpPacket) -> None: ...
    def dtmf_received(self, digit: DtmfDigit) -> None: ...
    def rtcp_received(self, packet: RtcpCompoundPacket) -> None: ...
    def rtp_timeout(self, cause: RtpTimeoutCause) -> None: ...


@dataclass(frozen=True, slots=True)
class RtpSessionConfig:
    payload_type: int = 0  # the negotiated audio codec (0 PCMU, 8 PCMA)
    clock_rate: int = 8000
    samples_per_frame: int = 160  # 20 ms at 8 kHz
    telephone_event_type: int | None = 101
    rtp_timeout: float | None = 30.0  # seconds without valid RTP before `rtp_timeout` (None: never)
    rtcp_interval: float = 5.0  # RFC 3550 §6.2 minimum; randomised by 0.5-1.5 as §6.3.1 does
    latch_any_source: bool = False
    relatch_after: float = 2.0
    cname: str = ""


@dataclass(slots=True)
class RtpSessionCounters:
    packets_sent: int = 0
    octets_sent: int = 0
    packets_received: int = 0
    octets_received: int = 0
    parse_errors: int = 0
    foreign_source: int = 0  # valid packets from an address other than the latched/expected one
    unknown_payload_type: int = 0
    unsent_no_remote: int = 0
    suppressed_during_dtmf: int = 0
    latches: int = 0  # first latch and every re-latch
    rtcp_sent: int = 0
    rtcp_received: int = 0
    rtcp_parse_errors: int = 0


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Any, closed: asyncio.Future[None]) -> None:
        self.on_datagram = on_datagram
        self.closed = closed

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.on_datagram(data, addr if len(addr) == 2 else (addr[0], addr[1]))  # IPv6 adds flow info and scope

    def error_received(self, exc: Exception) -> None:
        logger.debug("RTP endpoint: %s", exc)  # ICMP unreachable for an earlier packet; the timeout will notice

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


class RtpSession:
    """The RTP/RTCP endpoints of one call leg; `open` binds them, `close` sends BYE and releases them."""

    def __init__(self, config: RtpSessionConfig | None = None, listener: RtpSessionListener | None = None) -> None:
        self.config = config or RtpSessionConfig()
        self.listener = listener
        self.state = RtpSessionState.NEW
        self.ssrc = random.getrandbits(32)
        self.cname = self.config.cname or f"{self.ssrc:08x}@{socket.gethostname()}"
        self.counters = RtpSessionCounters()
        self.stats = RtpReceiveStats()
        self.remote_reports: dict[int, ReportBlock] = {}  # the peer's report blocks about our SSRC, by reporter
        self.round_trip_time: float | None = None
        self._sequence = random.getrandbits(16)  # random initial values, RFC 3550 §5.1
        self._timestamp = random.getrandbits(32)
        self._marker_pending = True
        self._dtmf_receiver = DtmfReceiver()
        self._dtmf_sender = DtmfSender(clock_rate=self.config.clock_rate, packet_interval=self.config.samples_per_frame)
        self._dtmf_lock = asyncio.Lock()
        self._dtmf_active = False
        self._rtp_latch = SymmetricLatch()
        self._rtcp_latch = SymmetricLatch()
        self._rtp: asyncio.DatagramTransport | None = None
        self._rtcp: asyncio.DatagramTransport | None = None
        self._closed: list[asyncio.Future[None]] = []
        self._rtcp_timer: asyncio.TimerHandle | None = None
        self._timeout_timer: asyncio.TimerHandle | None = None
        self._last_received: float | None = None
        self._time: Callable[[], float] = time.monotonic  # the loop's clock once open
        self._timeout_reported = False
        self._sent_since_report = False
        self.local_rtp: Address | None = None
        self.local_rtcp: Address | None = None

    # -- lifecycle

    async def open(self, lease: PortLease | None = None, *, host: str = "127.0.0.1", rtp_port: int = 0) -> None:
        """Bind on a pool lease (RTCP = RTP + 1), or on `host`:`rtp_port` with RTCP on any free port."""
        loop = asyncio.get_running_loop()
        if lease is not None:
            rtp_kw: dict[str, Any] = {"sock": lease.rtp_socket}
            rtcp_kw: dict[str, Any] = {"sock": lease.rtcp_socket}
        else:
            rtp_kw, rtcp_kw = {"local_addr": (host, rtp_port)}, {"local_addr": (host, 0)}
        self._rtp = await self._endpoint(loop, self._rtp_datagram, rtp_kw)
        try:
            self._rtcp = await self._endpoint(loop, self._rtcp_datagram, rtcp_kw)
        except BaseException:
            self._rtp.close()
            raise
        self.local_rtp = cast(Address, tuple(self._rtp.get_extra_info("sockname")[:2]))
        self.local_rtcp = cast(Address, tuple(self._rtcp.get_extra_info("sockname")[:2]))
        self._set_state(RtpSessionState.OPEN)
        self._time = loop.time
        self._last_received = loop.time()
        self._arm_timeout(loop)
        self._schedule_rtcp(loop)

    async def _endpoint(self, loop: asyncio.AbstractEventLoop, handler: Any, kw: dict[str, Any]) -> Any:
        closed: asyncio.Future[None] = loop.create_future()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Endpoint(handler, closed), **kw)
        if hasattr(transport, "max_size"):
            # CPython's selector transport reads 256 KiB per recvfrom; uvloop has no such attribute.
            cast(Any, transport).max_size = MAX_DATAGRAM
        self._closed.append(closed)
        return transport

    async def close(self, reason: str | None = None) -> None:
        """Send an RTCP BYE (when the peer is known), stop the timers and close both sockets. Idempotent."""
        if self.state is RtpSessionState.CLOSED:
            return
        if self.state is RtpSessionState.OPEN:
            self._send_rtcp(extra=Bye([self.ssrc], reason))
        self._set_state(RtpSessionState.CLOSED)
        for timer in (self._rtcp_timer, self._timeout_timer):
            if timer is not None:
                timer.cancel()
        for transport in (self._rtp, self._rtcp):
            if transport is not None:
                transport.close()
        self._rtp = self._rtcp = None
        await asyncio.gather(*self._closed)

    def _set_state(self, new: RtpSessionState) -> None:
        if new not in _TRANSITIONS[self.state]:
            raise InvalidStateError(f"RTP session is {self.state.value}, cannot become {new.value}", state=self.state)
        logger.debug("RTP session %08x: %s -> %s", self.ssrc, self.state.value, new.value)
        self.state = new

    def set_remote(self, host: str | None, rtp_port: int = 0, rtcp_port: int | None = None) -> None:
        """The signalled remote address (from SDP); `None` host when it is unknown. Resets the latch."""
        self._rtp_latch = SymmetricLatch()
        self._rtcp_latch = SymmetricLatch()
        any_source = host is None or self.config.latch_any_source
        self._rtp_latch.any_source = self._rtcp_latch.any_source = any_source
        if host is not None:
            self._rtp_latch.expected = (host, rtp_port)
            self._rtcp_latch.expected = (host, rtcp_port if rtcp_port is not None else rtp_port + 1)

    @property
    def remote_rtp(self) -> Address | None:
        """Where RTP goes now: the latched source, else the signalled address."""
        return self._rtp_latch.destination

    @property
    def remote_rtcp(self) -> Address | None:
        if self._rtcp_latch.destination is not None:
            return self._rtcp_latch.destination
        rtp = self._rtp_latch.latched
        return (rtp[0], rtp[1] + 1) if rtp is not None else None

    # -- sending

    @property
    def payload_type(self) -> int:
        return self.config.payload_type

    def send_frame(self, payload: bytes, *, marker: bool = False, samples: int | None = None) -> None:
        """Send one audio frame and advance the timestamp by `samples` (default one frame)."""
        if self.state is not RtpSessionState.OPEN:
            raise InvalidStateError(f"RTP session is {self.state.value}", state=self.state)
        samples = self.config.samples_per_frame if samples is None else samples
        if self._dtmf_active:
            self.counters.suppressed_during_dtmf += 1  # RFC 4733 §2.5.1: the event replaces the audio
            return
        marker = marker or self._marker_pending
        self._marker_pending = False
        self._send_rtp(self.config.payload_type, payload, self._timestamp, marker)
        self._timestamp = (self._timestamp + samples) & 0xFFFFFFFF

    def skip(self, samples: int) -> None:
        """Let `samples` of time pass without sending (silence, no player); the next frame starts a talkspurt."""
        self._timestamp = (self._timestamp + samples) & 0xFFFFFFFF
        self._marker_pending = True

    async def send_dtmf(self, digit: str, *, duration: int | None = None) -> None:
        """Send one digit as RFC 4733 events, paced at the frame interval; audio frames are held meanwhile."""
        if self.config.telephone_event_type is None:
            raise InvalidStateError("no telephone-event payload type was negotiated", state=self.state)
        loop = asyncio.get_running_loop()
        async with self._dtmf_lock:
            start = self._timestamp
            packets = self._dtmf_sender.packets(digit, timestamp=start, duration=duration)
            self._dtmf_active = True
            began = loop.time()
            try:
                for packet in packets:
                    delay = began + packet.send_offset / self.config.clock_rate - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    if self.state is not RtpSessionState.OPEN:
                        return
                    self._send_rtp(
                        self.config.telephone_event_type, bytes(packet.payload), packet.timestamp, packet.marker
                    )
            finally:
                self._dtmf_active = False
                frame = self.config.samples_per_frame
                elapsed = packets[-1].send_offset + frame
                self._timestamp = (start + -(-elapsed // frame) * frame) & 0xFFFFFFFF
                self._marker_pending = True

    def _send_rtp(self, payload_type: int, payload: bytes, timestamp: int, marker: bool) -> None:
        sequence = self._sequence
        self._sequence = (sequence + 1) & 0xFFFF
        destination = self._rtp_latch.latched or self._rtp_latch.expected
        if destination is None or self._rtp is None or not destination[1]:
            self.counters.unsent_no_remote += 1
            return
        # Packed here rather than through `RtpPacket` (same bytes: no CSRC, extension or padding): this runs for
        # every 20 ms frame of every call, and the dataclass's checks and `__bytes__` took about half its time.
        second = (0x80 | payload_type) if marker else payload_type
        self._rtp.sendto(_RTP_HEADER.pack(0x80, second, sequence, timestamp, self.ssrc) + payload, destination)
        self.counters.packets_sent += 1
        self.counters.octets_sent += len(payload)
        self._sent_since_report = True

    # -- receiving

    def _rtp_datagram(self, data: bytes, source: Address) -> None:
        try:
            packet = RtpPacket.parse(data)
        except RtpParseError:
            self.counters.parse_errors += 1
            return
        pt = packet.payload_type
        config, counters = self.config, self.counters
        if pt != config.payload_type and pt != config.telephone_event_type:
            counters.unknown_payload_type += 1  # also keeps RTCP (PT 72-76 when muxed) from latching
            return
        now = self._time()
        latch = self._rtp_latch
        if latch.latched == source:
            latch.last_heard = now  # the common case of `SymmetricLatch.accept`, inline: this runs for every packet
        else:
            verdict = latch.accept(source, now, config.relatch_after)
            if verdict is False:
                counters.foreign_source += 1
                return
            counters.latches += 1
            logger.debug("RTP session %08x latched onto %s:%d", self.ssrc, *source)
        counters.packets_received += 1
        counters.octets_received += len(packet.payload)
        self._last_received = now
        self._timeout_reported = False
        self.stats.receive(packet, int(now * config.clock_rate))
        if pt == config.telephone_event_type and pt != config.payload_type:
            try:
                digits = self._dtmf_receiver.receive_packet(packet)
            except TelephoneEventParseError:
                self.counters.parse_errors += 1
                return
            if self.listener is not None:
                for digit in digits:
                    self.listener.dtmf_received(digit)
        elif self.listener is not None:
            self.listener.rtp_received(packet)

    def _rtcp_datagram(self, data: bytes, source: Address) -> None:
        try:
            compound = RtcpCompoundPacket.parse(data)
        except RtcpParseError:
            self.counters.rtcp_parse_errors += 1
            return
        now = asyncio.get_running_loop().time()
        if self._rtcp_latch.accept(source, now, self.config.relatch_after) is False:
            self.counters.foreign_source += 1
            return
        self.counters.rtcp_received += 1
        for packet in compound.packets:
            if isinstance(packet, SenderReport):
                self.stats.receive_sender_report(packet, now)
            if isinstance(packet, SenderReport | ReceiverReport):
                self._remote_blocks(packet.ssrc, packet.reports)
        if self.listener is not None:
            self.listener.rtcp_received(compound)

    def _remote_blocks(self, reporter: int, blocks: list[ReportBlock]) -> None:
        for block in blocks:
            if block.ssrc != self.ssrc:
                continue
            self.remote_reports[reporter] = block
            if block.lsr:
                # RFC 3550 §6.4.1: RTT = A - LSR - DLSR in 1/65536 s, A being the arrival time in NTP middle bits.
                rtt = (_ntp_middle(_ntp_now()) - block.lsr - block.dlsr) & 0xFFFFFFFF
                self.round_trip_time = rtt / 65536 if rtt < 0x80000000 else None

    # -- timers

    def _arm_timeout(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.config.rtp_timeout is None or self._last_received is None:
            return
        self._timeout_timer = loop.call_at(self._last_received + self.config.rtp_timeout, self._check_timeout)

    def _check_timeout(self) -> None:
        if self.state is not RtpSessionState.OPEN or self.config.rtp_timeout is None:
            return
        loop = asyncio.get_running_loop()
        assert self._last_received is not None
        if loop.time() - self._last_received >= self.config.rtp_timeout and not self._timeout_reported:
            self._timeout_reported = True
            cause = RtpTimeoutCause.MEDIA_STOPPED if self.counters.packets_received else RtpTimeoutCause.NO_MEDIA
            if self.listener is not None:
                for digit in self._dtmf_receiver.flush():
                    self.listener.dtmf_received(digit)
                self.listener.rtp_timeout(cause)
            # Check again one period later: a peer that stays silent is reported once per silence.
            self._last_received = loop.time()
        self._arm_timeout(loop)

    def _schedule_rtcp(self, loop: asyncio.AbstractEventLoop) -> None:
        delay = self.config.rtcp_interval * random.uniform(0.5, 1.5)
        self._rtcp_timer = loop.call_later(delay, self._rtcp_due)

    def _rtcp_due(self) -> None:
        if self.state is not RtpSessionState.OPEN:
            return
        self._send_rtcp()
        self._schedule_rtcp(asyncio.get_running_loop())

    def send_rtcp_report(self) -> None:
        """Send an SR/RR now (the timer does it every interval; call control may want one at hold or transfer)."""
        self._send_rtcp()

    def _send_rtcp(self, extra: RtcpPacket | None = None) -> None:
        destination = self.remote_rtcp
        if destination is None or self._rtcp is None or not destination[1]:
            return
        now = asyncio.get_running_loop().time()
        blocks = self.stats.report_blocks(now)[:31]
        report: RtcpPacket
        if self._sent_since_report:
            ntp = _ntp_now()
            report = SenderReport(
                self.ssrc, ntp, self._timestamp, self.counters.packets_sent & 0xFFFFFFFF,
                self.counters.octets_sent & 0xFFFFFFFF, blocks,
            )  # fmt: skip
        else:
            report = ReceiverReport(self.ssrc, blocks)
        self._sent_since_report = False
        packets: list[RtcpPacket] = [report, SourceDescription.for_cname(self.ssrc, self.cname)]
        if extra is not None:
            packets.append(extra)
        self._rtcp.sendto(bytes(RtcpCompoundPacket(packets)), destination)
        self.counters.rtcp_sent += 1


def _ntp_now() -> int:
    now = time.time() + NTP_EPOCH_OFFSET
    return (int(now) << 32) | int((now % 1) * (1 << 32))


def _ntp_middle(ntp: int) -> int:
    return (ntp >> 16) & 0xFFFFFFFF
