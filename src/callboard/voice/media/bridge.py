"""Bridging two call legs' RTP sessions: packets from one leg are forwarded out of the other as they arrive.

Each leg keeps its own SSRC, sequence numbers and timestamps toward its far end. The sequence number is the
outgoing session's own counter (one per packet sent); the timestamp follows the source by an offset that is
recomputed whenever the source restarts (a new SSRC, or a sequence/timestamp jump outside the RFC 3550 A.1
windows), so the far end sees one continuous stream across re-INVITEs, transfers and media-server switches.
A restart advances the outgoing timestamp by the wall-clock time since the last packet and sets the marker.

Rewriting goes through the public `send_frame`/`skip` of the outgoing session, which has two consequences:
a forward gap in the source timestamps (silence suppression or loss) becomes `skip`, which also marks the next
packet as a talkspurt start; a packet older than the last one forwarded (reordered or duplicated) is dropped,
since the session cannot send a timestamp behind its cursor.

Codecs: the same codec on both legs is forwarded byte for byte (G.722 too, so two wideband phones keep their
wideband audio); PCMU <-> PCMA is transcoded with the direct G.711 conversion tables (no linear step); G.722 <->
G.711 goes through 8 kHz linear PCM, with one G.722 decoder per direction and the target stream's own encoder
(`codecs.stream_encoder`), which its prompts and music share. Payload types other than these are refused at
construction. A rewriter works out its conversion again when its target is swapped (the conference mixer's inlet).

Telephone events (RFC 4733): the session consumes them and reports whole digits (`dtmf_received`), so the
bridge cannot relay the raw event packets. In `DtmfMode.REGENERATE` (the default) each digit is played out
of the other leg with `send_dtmf`, carrying that leg's own SSRC, sequence and timestamps (a re-timestamped
relay that starts once the digit has ended); in `DtmfMode.HAND_UP` digits only go to `on_dtmf`, for a B2BUA
that interprets them (feature codes). `on_dtmf` sees every digit in both modes.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from callboard.core.errors import InvalidStateError
from callboard.voice.media.codecs import Convert, codec, direct_conversion, stream_encoder
from callboard.voice.media.dtmf import DtmfDigit
from callboard.voice.media.rtcp import RtcpCompoundPacket
from callboard.voice.media.rtp import RtpPacket, seq_diff, timestamp_diff
from callboard.voice.media.session import RtpSessionListener, RtpTimeoutCause

logger = logging.getLogger(__name__)

CLOCK_RATE = 8000
MAX_DROPOUT = 3000  # RFC 3550 A.1: a sequence jump this far ahead is a restarted source
MAX_MISORDER = 100  # RFC 3550 A.1: this far behind is a late packet; further is a restart
MAX_TIMESTAMP_LEAD = CLOCK_RATE  # samples a source may run ahead of wall-clock time before it counts as a jump


class BridgeSide(enum.Enum):
    A = "a"  # by convention the caller's leg
    B = "b"  # by convention the agent's leg


class BridgeState(enum.Enum):
    NEW = "new"
    BRIDGED = "bridged"
    UNBRIDGED = "unbridged"


_TRANSITIONS = {
    BridgeState.NEW: {BridgeState.BRIDGED, BridgeState.UNBRIDGED},
    BridgeState.BRIDGED: {BridgeState.UNBRIDGED},
    BridgeState.UNBRIDGED: set(),
}


class DtmfMode(enum.Enum):
    REGENERATE = "regenerate"  # play each digit out of the other leg as RFC 4733 events
    HAND_UP = "hand_up"  # only report digits to `on_dtmf`


class BridgeLeg(Protocol):
    """The parts of an `RtpSession` a bridge uses."""

    listener: RtpSessionListener | None

    @property
    def payload_type(self) -> int: ...
    def send_frame(self, payload: bytes, *, marker: bool = False, samples: int | None = None) -> None: ...
    def skip(self, samples: int) -> None: ...
    async def send_dtmf(self, digit: str, *, duration: int | None = None) -> None: ...


class BridgeTap(Protocol):
    """Sees every audio packet a bridge receives, as it arrived (before rewriting); e.g. a recorder."""

    def tapped(self, side: BridgeSide, packet: RtpPacket) -> None: ...


@dataclass(slots=True)
class BridgeCounters:
    forwarded: int = 0
    transcoded: int = 0
    late: int = 0  # dropped: older than the last packet forwarded from the same source
    restarts: int = 0  # source changes (new SSRC or a jump) that moved the timestamp offset
    dtmf_digits: int = 0
    dtmf_failures: int = 0


class StreamRewriter:
    """One direction of a bridge: maps the source's timestamps onto the target session's by an offset, and the
    source's codec onto the target's."""

    def __init__(self, target: BridgeLeg, source_payload_type: int, counters: BridgeCounters) -> None:
        self.target = target
        self.source_payload_type = source_payload_type
        self.counters = counters
        self._decode: Convert | None = None  # this direction's decoder, made when a conversion first needs it
        # An unsupported pair fails here, at construction.
        self._conversion = (target, target.payload_type, self._convert_to(target, target.payload_type))
        self._ssrc: int | None = None
        self._next_seq = 0  # the source sequence number expected next
        self._next_ts = 0  # the source timestamp at which the target's timestamp cursor stands
        self._last_arrival = 0.0
        self._last_samples = 0

    @property
    def convert(self) -> Convert | None:
        """The payload conversion towards the current target; None when the bytes pass unchanged."""
        target, target_pt = self.target, self.target.payload_type
        conversion = self._conversion
        if conversion[0] is not target or conversion[1] != target_pt:
            conversion = self._conversion = (target, target_pt, self._convert_to(target, target_pt))
        return conversion[2]

    def _convert_to(self, target: BridgeLeg, target_pt: int) -> Convert | None:
        source_pt = self.source_payload_type
        if source_pt == target_pt:
            return None
        direct = direct_conversion(source_pt, target_pt)
        if direct is not None:
            return direct
        if self._decode is None:
            self._decode = codec(source_pt).decoder()
        decode, encode = self._decode, stream_encoder(target, target_pt)
        return lambda payload: encode(decode(payload))

    def forward(self, packet: RtpPacket, now: float) -> None:
        samples = len(packet.payload)  # G.711, and G.722 at 64 kbit/s on its 8 kHz RTP clock: one byte a sample
        marker = packet.marker
        if self._ssrc is None:
            marker = True
        elif (
            packet.sequence_number != self._next_seq or packet.timestamp != self._next_ts or packet.ssrc != self._ssrc
        ):  # not simply the next packet of the same source (which needs no skip: nearly every packet)
            gap = self._source_gap(packet, now)
            if gap is None:
                self.counters.late += 1
                return
            if gap < 0:
                # A restarted source: keep the target's timestamps moving with real time since the last packet.
                self.counters.restarts += 1
                elapsed = round((now - self._last_arrival) * CLOCK_RATE)
                gap = max(0, elapsed - self._last_samples)
                marker = True
            if gap:
                self.target.skip(gap)
        convert = self.convert
        payload = packet.payload if convert is None else convert(packet.payload)
        self.target.send_frame(payload, marker=marker, samples=samples)
        self._ssrc = packet.ssrc
        self._next_seq = (packet.sequence_number + 1) & 0xFFFF
        self._next_ts = (packet.timestamp + samples) & 0xFFFFFFFF
        self._last_arrival, self._last_samples = now, samples
        self.counters.forwarded += 1
        if convert is not None:
            self.counters.transcoded += 1

    def _source_gap(self, packet: RtpPacket, now: float) -> int | None:
        """Samples to skip before this packet; -1 for a restarted source; None for a late packet."""
        if packet.ssrc != self._ssrc:
            return -1
        seq_ahead = seq_diff(packet.sequence_number, self._next_seq)
        ts_ahead = timestamp_diff(packet.timestamp, self._next_ts)
        if not -MAX_MISORDER <= seq_ahead < MAX_DROPOUT:
            return -1
        if seq_ahead < 0:
            return None if ts_ahead < 0 else -1
        wall = round((now - self._last_arrival) * CLOCK_RATE)
        if ts_ahead < 0 or ts_ahead > wall + MAX_TIMESTAMP_LEAD:
            return -1
        return ts_ahead


class _LegListener:
    """Stands in as one leg's session listener while bridged; passes non-media events on to the old one."""

    def __init__(self, bridge: Bridge, side: BridgeSide, previous: RtpSessionListener | None) -> None:
        self.bridge = bridge
        self.side = side
        self.previous = previous

    def rtp_received(self, packet: RtpPacket) -> None:
        self.bridge._received(self.side, packet)

    def dtmf_received(self, digit: DtmfDigit) -> None:
        self.bridge._dtmf(self.side, digit)

    def rtcp_received(self, packet: RtcpCompoundPacket) -> None:
        if self.previous is not None:
            self.previous.rtcp_received(packet)

    def rtp_timeout(self, cause: RtpTimeoutCause) -> None:
        if self.previous is not None:
            self.previous.rtp_timeout(cause)


class Bridge:
    """Connects leg `a` and leg `b` both ways until `unbridge`; taps see both directions."""

    def __init__(
        self,
        a: BridgeLeg,
        b: BridgeLeg,
        *,
        dtmf_mode: DtmfMode = DtmfMode.REGENERATE,
        on_dtmf: Callable[[BridgeSide, DtmfDigit], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.legs = {BridgeSide.A: a, BridgeSide.B: b}
        self.dtmf_mode = dtmf_mode
        self.on_dtmf = on_dtmf
        self.clock = clock
        self.state = BridgeState.NEW
        self.counters = BridgeCounters()
        self.taps: list[BridgeTap] = []
        self._rewriters = {
            BridgeSide.A: StreamRewriter(b, a.payload_type, self.counters),
            BridgeSide.B: StreamRewriter(a, b.payload_type, self.counters),
        }
        self._listeners: dict[BridgeSide, _LegListener] = {}
        self._dtmf_tasks: set[asyncio.Task[None]] = set()

    def add_tap(self, tap: BridgeTap) -> None:
        self.taps.append(tap)

    def remove_tap(self, tap: BridgeTap) -> None:
        if tap in self.taps:
            self.taps.remove(tap)

    def bridge(self) -> None:
        """Start forwarding: the bridge becomes both sessions' listener (their old listeners keep RTCP/timeouts)."""
        self._set_state(BridgeState.BRIDGED)
        for side, leg in self.legs.items():
            listener = _LegListener(self, side, leg.listener)
            self._listeners[side] = listener
            leg.listener = listener

    def unbridge(self) -> None:
        """Stop forwarding, give each session its old listener back and cancel digits being regenerated."""
        if self.state is BridgeState.UNBRIDGED:
            return
        self._set_state(BridgeState.UNBRIDGED)
        for side, listener in self._listeners.items():
            leg = self.legs[side]
            if leg.listener is listener:  # leave it alone if someone re-pointed the session meanwhile
                leg.listener = listener.previous
        self._listeners.clear()
        for task in list(self._dtmf_tasks):
            task.cancel()

    def _set_state(self, new: BridgeState) -> None:
        if new not in _TRANSITIONS[self.state]:
            raise InvalidStateError(f"bridge is {self.state.value}, cannot become {new.value}", state=self.state)
        logger.debug("bridge %x: %s -> %s", id(self), self.state.value, new.value)
        self.state = new

    def _received(self, side: BridgeSide, packet: RtpPacket) -> None:
        if self.state is not BridgeState.BRIDGED:
            return
        for tap in self.taps:
            tap.tapped(side, packet)
        self._rewriters[side].forward(packet, self.clock())

    def _dtmf(self, side: BridgeSide, digit: DtmfDigit) -> None:
        if self.state is not BridgeState.BRIDGED:
            return
        self.counters.dtmf_digits += 1
        if self.on_dtmf is not None:
            self.on_dtmf(side, digit)
        if self.dtmf_mode is DtmfMode.REGENERATE:
            other = self.legs[BridgeSide.B if side is BridgeSide.A else BridgeSide.A]
            task = asyncio.get_running_loop().create_task(other.send_dtmf(digit.digit, duration=digit.duration))
            self._dtmf_tasks.add(task)
            task.add_done_callback(self._dtmf_done)

    def _dtmf_done(self, task: asyncio.Task[None]) -> None:
        self._dtmf_tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            self.counters.dtmf_failures += 1
            logger.warning("bridge %x: could not regenerate a digit: %s", id(self), exc)
