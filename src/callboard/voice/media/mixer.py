"""A conference mixer for three or more parties, paced by the shared media clock.

Every tick takes one decoded frame per participant (from a small jitter buffer of linear frames), sums the
frames heard by everyone, and sends each participant that sum minus their own contribution (N-1 mixing), plus
any whisper addressed to them, clamped to 16 bits and encoded in their own codec. The subtraction is done on the
unclamped sum, so a loud conference never leaks a participant's own voice back through saturation.

Roles, for supervisor features:
- `NORMAL` (alias `BARGE`): heard by everyone, hears everyone else.
- `LISTEN`: hears everyone, is heard by no one (silent monitoring).
- `WHISPER`: hears everyone, is heard only by `whisper_to` (coaching the agent without the caller hearing).

Outputs that hear the same thing in the same G.711 law share one encoded frame per tick (every listener, and
every party of a conference when all but one are silent), so the cost per tick is one sum plus one encode per
distinct mix. G.722 keeps state: each G.722 party's audio has its own decoder here, and its mix is encoded by its
stream's one encoder (`codecs.stream_encoder`, shared with its prompts and bridge), never shared with another.
Pure-Python arithmetic on 160 samples a party: fine for small conferences, not for hundreds.
"""

from __future__ import annotations

import enum
import logging
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from callboard.voice.media.clock import MediaClock
from callboard.voice.media.codecs import CODECS, Convert, stream_encoder
from callboard.voice.media.jitter import JitterBuffer
from callboard.voice.media.playback import FrameSink
from callboard.voice.media.rtp import RtpPacket

logger = logging.getLogger(__name__)

FRAME_SAMPLES = 160
SILENCE = bytes(2 * FRAME_SAMPLES)


class Role(enum.Enum):
    NORMAL = "normal"
    BARGE = "normal"  # a supervisor barging in is an ordinary party
    LISTEN = "listen"
    WHISPER = "whisper"


@dataclass(slots=True)
class Participant:
    """One party of a conference: where their mix goes, what they contribute, and to whom."""

    id: str
    output: FrameSink
    role: Role = Role.NORMAL
    whisper_to: str | None = None
    jitter: JitterBuffer = field(default_factory=lambda: JitterBuffer(silence=SILENCE))
    decoders: dict[int, Convert] = field(default_factory=dict)  # by payload type: G.722's keep state
    unsupported: int = 0
    frames_sent: int = 0
    _last_tick: int | None = None


@dataclass(slots=True)
class MixerCounters:
    ticks: int = 0
    encodes: int = 0  # distinct mixes encoded (shared by the outputs that hear the same thing)
    clipped: int = 0  # output frames where saturation clamped at least one sample


class ConferenceMixer:
    """N-1 mixing of its participants on every media-clock tick while started."""

    def __init__(self, clock: MediaClock) -> None:
        self.clock = clock
        self.counters = MixerCounters()
        self._participants: dict[str, Participant] = {}

    @property
    def participants(self) -> list[Participant]:
        return list(self._participants.values())

    def start(self) -> None:
        self.clock.register(self)

    def stop(self) -> None:
        self.clock.unregister(self)

    def add(
        self, id: str, output: FrameSink, *, role: Role = Role.NORMAL, whisper_to: str | None = None
    ) -> Participant:
        """Join a party; `output` (an `RtpSession`) gets one mixed frame per tick in its own codec."""
        if id in self._participants:
            raise ValueError(f"participant {id!r} is already in the conference")
        if output.payload_type not in CODECS:
            raise ValueError(f"participant {id!r}: payload type {output.payload_type} is not PCMU, PCMA or G.722")
        participant = Participant(id, output)
        self._participants[id] = participant
        self.set_role(id, role, whisper_to=whisper_to)
        return participant

    def remove(self, id: str) -> None:
        self._participants.pop(id, None)

    def set_role(self, id: str, role: Role, *, whisper_to: str | None = None) -> None:
        """Change what a party is heard by (listen -> whisper -> barge as a supervisor steps in)."""
        if (role is Role.WHISPER) != (whisper_to is not None):
            raise ValueError("a whisper needs exactly one target, and only a whisper has one")
        if whisper_to == id:
            raise ValueError(f"participant {id!r} cannot whisper to themselves")
        participant = self._participants[id]
        participant.role, participant.whisper_to = role, whisper_to

    def put(self, id: str, packet: RtpPacket) -> None:
        """Offer a party's received audio packet (G.711, G.722); decoded now, mixed on a tick."""
        participant = self._participants.get(id)
        if participant is None:
            return
        decode = participant.decoders.get(packet.payload_type)
        if decode is None:
            codec = CODECS.get(packet.payload_type)
            if codec is None:
                participant.unsupported += 1
                return
            decode = participant.decoders[packet.payload_type] = codec.decoder()
        participant.jitter.put(replace(packet, payload=decode(packet.payload)))

    def tick(self, n: int) -> None:
        self.counters.ticks += 1
        public: dict[str, array[int]] = {}
        whispers: dict[str, list[tuple[str, array[int]]]] = {}
        for p in self._participants.values():
            frame = p.jitter.pop()  # drained whatever the role, so a role change starts with fresh audio
            if p.role is Role.LISTEN or frame is SILENCE or len(frame) != len(SILENCE):
                continue
            samples = array("h", frame)
            if p.role is Role.WHISPER:
                assert p.whisper_to is not None
                whispers.setdefault(p.whisper_to, []).append((p.id, samples))
            else:
                public[p.id] = samples
        total = _sum(public.values())
        encoded: dict[tuple[str | None, tuple[str, ...], int | str], bytes] = {}
        for p in self._participants.values():
            own = p.id if p.id in public else None
            heard_whispers = [(wid, s) for wid, s in whispers.get(p.id, ()) if wid != p.id]
            payload_type = p.output.payload_type
            # A stateful codec's frame is its own stream's: keyed by the party, it is never shared.
            stream: int | str = p.id if CODECS[payload_type].stateful else payload_type
            key = (own, tuple(wid for wid, _ in heard_whispers), stream)
            payload = encoded.get(key)
            if payload is None:
                mix = total
                if own is not None:
                    mix = [a - b for a, b in zip(mix, public[own], strict=True)]
                for _, samples in heard_whispers:
                    mix = [a + b for a, b in zip(mix, samples, strict=True)]
                payload = encoded[key] = stream_encoder(p.output, payload_type)(self._clamp(mix))
                self.counters.encodes += 1
            self._send(p, n, payload)

    def _send(self, p: Participant, n: int, payload: bytes) -> None:
        if p._last_tick is not None and n - p._last_tick > 1:
            p.output.skip((n - p._last_tick - 1) * FRAME_SAMPLES)
        p._last_tick = n
        p.output.send_frame(payload)
        p.frames_sent += 1

    def _clamp(self, mix: list[int]) -> bytes:
        if max(mix) <= 32767 and min(mix) >= -32768:
            return array("h", mix).tobytes()
        self.counters.clipped += 1
        return array("h", [32767 if v > 32767 else -32768 if v < -32768 else v for v in mix]).tobytes()


def _sum(frames: Iterable[array[int]]) -> list[int]:
    frames = list(frames)
    if not frames:
        return [0] * FRAME_SAMPLES
    if len(frames) == 1:
        return list(frames[0])
    return [sum(column) for column in zip(*frames, strict=True)]
