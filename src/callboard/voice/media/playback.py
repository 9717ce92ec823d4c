"""Prompts encoded once at load time, and a `Player` that sends them frame by frame on the shared media clock.

A prompt is decoded from WAV and encoded to both PCMU and PCMA when it is loaded, so playing it to a
thousand callers costs one list index per caller per tick. Music on hold is one looping `Prompt` shared by
every player that plays it, each keeping its own position.

G.722 is the exception: an ADPCM encoder started afresh for each prompt would be heard as a burst at the start
of every prompt but a call's first (see `codecs`), so a prompt keeps its linear PCM frames too and a player
encodes them with its stream's one G.722 encoder as it sends them, about 5 us a frame in C.

WAV input: 16-bit PCM. Other channel counts are mixed down by averaging the channels; other sample rates are
converted by linear interpolation, with no anti-aliasing filter, so content above 4 kHz in a 44.1/48 kHz file
folds back as aliasing. That is acceptable for speech prompts; record them at 8 kHz for best quality.
"""

from __future__ import annotations

import logging
import sys
import wave
from array import array
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from callboard.core.errors import ValidationError
from callboard.voice.media.codecs import PCMA, PCMU, Convert, codec, stream_encoder

logger = logging.getLogger(__name__)

SAMPLE_RATE = 8000
FRAME_SAMPLES = 160  # 20 ms at 8 kHz


class PromptFormatError(ValidationError):
    """An audio file that cannot be turned into a prompt (not WAV, not 16-bit PCM, empty)."""

    error_id = "prompt_format"


def _samples(data: bytes) -> array[int]:
    samples = array("h", data)
    if sys.byteorder == "big":
        samples.byteswap()  # WAV is little-endian
    return samples


def _pcm_bytes(samples: array[int]) -> bytes:
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def mix_to_mono(samples: array[int], channels: int) -> array[int]:
    """Average interleaved channels into one."""
    if channels == 1:
        return samples
    frames = len(samples) // channels
    return array("h", (sum(samples[i * channels : (i + 1) * channels]) // channels for i in range(frames)))


def resample_linear(samples: array[int], rate: int, target: int = SAMPLE_RATE) -> array[int]:
    """Linear interpolation from `rate` to `target` Hz (no anti-aliasing filter, see the module docstring)."""
    if rate == target or not samples:
        return samples
    count = max(1, len(samples) * target // rate)
    last = len(samples) - 1
    out = array("h", bytes(2 * count))
    step = rate / target
    for i in range(count):
        position = i * step
        j = int(position)
        if j >= last:
            out[i] = samples[last]
            continue
        fraction = position - j
        out[i] = round(samples[j] + (samples[j + 1] - samples[j]) * fraction)
    return out


def read_wav(path: str | Path) -> bytes:
    """The file's audio as 8 kHz mono 16-bit little-endian PCM; raise `PromptFormatError` if unsupported."""
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            data = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise PromptFormatError(f"{path}: not a PCM WAV file ({exc})", path=str(path)) from exc
    if width != 2:
        raise PromptFormatError(f"{path}: {8 * width}-bit samples, only 16-bit PCM is supported", path=str(path))
    samples = resample_linear(mix_to_mono(_samples(data), channels), rate)
    if not samples:
        raise PromptFormatError(f"{path}: no audio", path=str(path))
    return _pcm_bytes(samples)


@dataclass(frozen=True, slots=True)
class Prompt:
    """One audio prompt as 20 ms frames: ready to send in both G.711 laws (160 bytes each), and as linear PCM
    (320 bytes each) for the stateful G.722, which a player encodes as it sends."""

    name: str
    pcm: tuple[bytes, ...]
    pcmu: tuple[bytes, ...]
    pcma: tuple[bytes, ...]

    @classmethod
    def from_pcm(cls, name: str, pcm: bytes) -> Prompt:
        """Encode 8 kHz mono 16-bit PCM; the last frame is padded with silence."""
        if not pcm:
            raise PromptFormatError(f"prompt {name!r} has no audio", name=name)
        frame_bytes = 2 * FRAME_SAMPLES
        pcm += bytes(-len(pcm) % frame_bytes)  # linear zero encodes to each law's silence code
        ulaw, alaw = codec(PCMU).encoder()(pcm), codec(PCMA).encoder()(pcm)
        starts = range(0, len(ulaw), FRAME_SAMPLES)
        return cls(
            name,
            tuple(pcm[2 * i : 2 * (i + FRAME_SAMPLES)] for i in starts),
            tuple(ulaw[i : i + FRAME_SAMPLES] for i in starts),
            tuple(alaw[i : i + FRAME_SAMPLES] for i in starts),
        )

    @classmethod
    def from_wav(cls, path: str | Path, name: str | None = None) -> Prompt:
        return cls.from_pcm(name or Path(path).stem, read_wav(path))

    @classmethod
    def join(cls, name: str, prompts: list[Prompt]) -> Prompt:
        """Several prompts played back to back as one (so that a digit can interrupt the whole message)."""
        return cls(
            name,
            sum((p.pcm for p in prompts), ()),
            sum((p.pcmu for p in prompts), ()),
            sum((p.pcma for p in prompts), ()),
        )

    def frames(self, payload_type: int) -> tuple[bytes, ...]:
        """The frames to send in a stateless codec, encoded at load; `pcm` for a stateful one (G.722)."""
        if payload_type == PCMU:
            return self.pcmu
        if payload_type == PCMA:
            return self.pcma
        if codec(payload_type).stateful:
            return self.pcm
        raise ValueError(f"prompts have no frames for payload type {payload_type}")

    @property
    def duration(self) -> float:
        return len(self.pcm) * FRAME_SAMPLES / SAMPLE_RATE


class FrameSink(Protocol):
    """Where a player sends frames: an `RtpSession` (or a bridge, a recorder, a test double)."""

    @property
    def payload_type(self) -> int: ...
    def send_frame(self, payload: bytes, *, marker: bool = False, samples: int | None = None) -> None: ...
    def skip(self, samples: int) -> None: ...


@dataclass(frozen=True, slots=True)
class PlaybackFinished:
    """A prompt left the player: played to its end, or `interrupted` by `stop`."""

    prompt: Prompt
    interrupted: bool = False


@dataclass(slots=True)
class _Item:
    prompt: Prompt
    loop: bool
    start: int


class Player:
    """A media-clock sink playing a queue of prompts to one `FrameSink`, one frame per tick.

    Register it with the media clock for the life of the leg; an idle player sends nothing. When ticks were
    missed (the player was idle, or the clock skipped) it tells the sink to skip that time, so RTP timestamps
    keep following the clock and the next packet starts a talkspurt.
    """

    def __init__(self, sink: FrameSink, *, on_finished: Callable[[PlaybackFinished], None] | None = None) -> None:
        self.sink = sink
        self.on_finished = on_finished
        self._queue: deque[_Item] = deque()
        self._current: _Item | None = None
        self._frames: tuple[bytes, ...] = ()
        self._encode: Convert | None = None  # the sink's stream encoder when frames are linear PCM (G.722)
        self._position = 0
        self._last_tick: int | None = None
        self.frames_sent = 0

    @property
    def playing(self) -> Prompt | None:
        return self._current.prompt if self._current is not None else None

    @property
    def position(self) -> int:
        """The index of the next frame of the current prompt."""
        return self._position

    def play(self, prompt: Prompt, *, loop: bool = False, start: int = 0) -> None:
        """Queue a prompt after the ones already queued; `loop` plays it until `stop`; `start` is a frame index."""
        self._queue.append(_Item(prompt, loop, start))

    def stop(self) -> None:
        """Drop the current and queued prompts; `on_finished` reports each as interrupted."""
        items = ([self._current] if self._current is not None else []) + list(self._queue)
        self._current = None
        self._queue.clear()
        for item in items:
            self._finished(item, interrupted=True)

    def tick(self, n: int) -> None:
        if self._current is None and not self._next():
            return
        if self._last_tick is not None and n - self._last_tick > 1:
            self.sink.skip((n - self._last_tick - 1) * FRAME_SAMPLES)
        self._last_tick = n
        frame = self._frames[self._position]
        self.sink.send_frame(frame if self._encode is None else self._encode(frame))
        self.frames_sent += 1
        self._position += 1
        if self._position >= len(self._frames):
            assert self._current is not None
            if self._current.loop:
                self._position = 0
            else:
                done, self._current = self._current, None
                self._finished(done, interrupted=False)

    def _next(self) -> bool:
        if not self._queue:
            return False
        item = self._current = self._queue.popleft()
        payload_type = self.sink.payload_type
        self._frames = item.prompt.frames(payload_type)
        self._encode = stream_encoder(self.sink, payload_type) if codec(payload_type).stateful else None
        self._position = item.start % len(self._frames)
        return True

    def _finished(self, item: _Item, *, interrupted: bool) -> None:
        if self.on_finished is not None:
            self.on_finished(PlaybackFinished(item.prompt, interrupted))
