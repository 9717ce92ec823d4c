"""The audio of an agent's browser line, on our side of the peer connection: what a bridge, a recorder or a player
sees as an RTP session (`payload_type`, `send_frame`, `skip`, `send_dtmf`, a listener), in PCMU.

Outbound, each 20 ms G.711 frame the bridge or a player sends is decoded to 8 kHz PCM and handed to aiortc as an
`AudioFrame` of the line's track (`LineTrack`), which encodes it with the codec the browser agreed to (PCMU or
PCMA: G.711 again; Opus: resampled to 48 kHz by aiortc's encoder). Inbound, the frames aiortc decodes from the
browser are resampled to 8 kHz mono (av's `AudioResampler`), cut into 20 ms and encoded to PCMU RTP packets for
the listener, so the bridge forwards them and the recorder taps them as it does a SIP phone's packets.

Digits from the page come through call control (`press`), not in-band: the listener hears them as RFC 4733
digits would be heard, and a bridge plays them to the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import os
from collections import deque

from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, AudioResampler

from callboard.voice.media.dtmf import DtmfDigit
from callboard.voice.media.g711 import ulaw_decode, ulaw_encode
from callboard.voice.media.rtp import RtpPacket
from callboard.voice.media.session import RtpSessionListener

__all__ = ["PCMU", "LineAudio", "LineTrack"]

logger = logging.getLogger(__name__)

PCMU = 0
RATE = 8000
SAMPLES = 160  # 20 ms at 8 kHz
TIME_BASE = fractions.Fraction(1, RATE)
SILENCE = b"\xff" * SAMPLES  # PCMU silence
MAX_QUEUED = 25  # frames (half a second) kept for a sender that does not read: older ones are dropped
DTMF_SAMPLES = 800  # a pressed key lasts 100 ms, as a desk phone's short press


class LineTrack(MediaStreamTrack):
    """The audio the server sends to the browser: the frames `LineAudio` queues, as aiortc's sender reads them."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._frames: deque[AudioFrame] = deque()
        self._ready = asyncio.Event()

    def put(self, frame: AudioFrame) -> None:
        if len(self._frames) >= MAX_QUEUED:
            self._frames.popleft()
        self._frames.append(frame)
        self._ready.set()

    async def recv(self) -> AudioFrame:
        # Paced by what is sent to it (the bridge, or a player on the shared 20 ms clock), not by a timer here.
        while not self._frames:
            if self.readyState != "live":
                raise MediaStreamError
            self._ready.clear()
            await self._ready.wait()
        return self._frames.popleft()

    def stop(self) -> None:
        super().stop()
        self._ready.set()


class LineAudio:
    """One line's audio as a bridge leg: G.711 frames out to the browser's track, its audio in as PCMU packets."""

    def __init__(self, track: LineTrack | None = None) -> None:
        self.track = track or LineTrack()
        self.listener: RtpSessionListener | None = None
        self.muted = False  # the agent's microphone: while muted, the far end hears silence
        self._pts = 0
        self._ssrc = int.from_bytes(os.urandom(4), "big")
        self._sequence = int.from_bytes(os.urandom(2), "big")
        self._timestamp = int.from_bytes(os.urandom(4), "big")
        self._pending = b""  # inbound PCM not yet a whole frame
        self._receiving: asyncio.Task[None] | None = None
        self.frames_in = 0
        self.frames_out = 0

    # -- what the bridge and players call (an RtpSession's sending side)

    @property
    def payload_type(self) -> int:
        return PCMU

    def send_frame(self, payload: bytes, *, marker: bool = False, samples: int | None = None) -> None:
        pcm = ulaw_decode(payload)
        count = samples if samples is not None else len(payload)
        frame = AudioFrame(format="s16", layout="mono", samples=len(payload))
        frame.planes[0].update(pcm)
        frame.sample_rate = RATE
        frame.pts = self._pts
        frame.time_base = TIME_BASE
        self._pts += count
        self.track.put(frame)
        self.frames_out += 1

    def skip(self, samples: int) -> None:
        self._pts += samples

    async def send_dtmf(self, digit: str, *, duration: int | None = None) -> None:
        """A digit the caller pressed, for the agent: the page is not a keypad that listens, so it is dropped
        here (the owner hears it as a `Dtmf` event of the caller's leg)."""

    # -- what the agent does on the page

    def press(self, digit: str) -> None:
        """A key of the page's keypad: heard by the listener as a whole RFC 4733 digit."""
        if self.listener is not None:
            self.listener.dtmf_received(DtmfDigit(digit, self._timestamp, DTMF_SAMPLES))

    # -- the browser's audio

    def receive(self, track: MediaStreamTrack) -> None:
        """Reads the browser's track until it ends (the line closes)."""
        self._receiving = asyncio.get_running_loop().create_task(self._receive(track), name="webrtc-line-receive")

    async def _receive(self, track: MediaStreamTrack) -> None:
        resampler = AudioResampler(format="s16", layout="mono", rate=RATE)
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            assert isinstance(frame, AudioFrame)
            for out in resampler.resample(frame):
                self.heard(bytes(out.planes[0])[: out.samples * 2])

    def heard(self, pcm: bytes) -> None:
        """8 kHz mono PCM from the browser: each whole 20 ms goes to the listener as one PCMU packet."""
        data = self._pending + pcm
        whole = len(data) - len(data) % (SAMPLES * 2)
        self._pending = data[whole:]
        for start in range(0, whole, SAMPLES * 2):
            payload = SILENCE if self.muted else ulaw_encode(data[start : start + SAMPLES * 2])
            packet = RtpPacket(PCMU, self._sequence, self._timestamp, self._ssrc, payload)
            self._sequence = (self._sequence + 1) & 0xFFFF
            self._timestamp = (self._timestamp + SAMPLES) & 0xFFFFFFFF
            self.frames_in += 1
            if self.listener is not None:
                self.listener.rtp_received(packet)

    async def close(self) -> None:
        self.track.stop()
        receiving, self._receiving = self._receiving, None
        if receiving is not None:
            receiving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await receiving
