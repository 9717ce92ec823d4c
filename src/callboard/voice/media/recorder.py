"""Stereo call recording to WAV (left = caller, right = agent; 8 kHz, 16-bit), paced by the shared media clock.

Each channel decodes what it is given (PCMU, PCMA, G.722: a decoder of its own per channel and codec, since
G.722's keeps state) and has a small jitter buffer holding the decoded linear frames; every tick takes one frame
from each (silence when a party sent nothing, a one-frame repeat for a single loss), interleaves them and appends
them to an in-memory buffer. Nothing touches the disk on the event loop: one writer task per recorder hands the
buffered bytes to a worker thread (`asyncio.to_thread`) every `flush_interval` seconds, one write at a time.

Crash safety: the header is written at open with a data size of zero, and every flush rewrites the RIFF and
data sizes to cover what has been written so far, so a process that dies mid-call leaves a valid WAV holding
the audio up to the last flush (at most `flush_interval` is lost). `close` writes the rest and the final sizes.

Paused time is skipped by default (the file is shorter than the call); `PauseMode.SILENCE` records it as
silence so the file's timeline matches the call's. Frames are assumed to be 20 ms (160 samples); a frame of
another size is padded or cut to keep the two channels aligned.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import struct
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from callboard.core.errors import InvalidStateError
from callboard.voice.media.bridge import BridgeSide
from callboard.voice.media.clock import MediaClock
from callboard.voice.media.codecs import CODECS, Convert
from callboard.voice.media.jitter import JitterBuffer
from callboard.voice.media.rtp import RtpPacket

logger = logging.getLogger(__name__)

SAMPLE_RATE = 8000
FRAME_SAMPLES = 160
CHANNELS = 2
SAMPLE_WIDTH = 2
FRAME_BYTES = FRAME_SAMPLES * SAMPLE_WIDTH  # one channel's 20 ms of linear PCM
MONO_SILENCE = bytes(FRAME_BYTES)
STEREO_SILENCE = bytes(FRAME_BYTES * CHANNELS)
HEADER_SIZE = 44


def wav_header(data_size: int) -> bytes:
    """The canonical 44-byte PCM WAV header for `data_size` bytes of 8 kHz 16-bit stereo."""
    block_align = CHANNELS * SAMPLE_WIDTH
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + data_size, b"WAVE", b"fmt ", 16, 1, CHANNELS, SAMPLE_RATE,
        SAMPLE_RATE * block_align, block_align, 8 * SAMPLE_WIDTH, b"data", data_size,
    )  # fmt: skip


class WavFile(Protocol):
    """The file operations the writer thread performs (a binary file opened for writing)."""

    def write(self, data: bytes, /) -> int: ...
    def seek(self, offset: int, whence: int = 0, /) -> int: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


def open_file(path: Path) -> WavFile:
    return open(path, "wb")  # closed by the recorder, in a worker thread


class Channel(enum.IntEnum):
    LEFT = 0  # the caller
    RIGHT = 1  # the agent


class PauseMode(enum.Enum):
    SKIP = "skip"  # paused time is left out of the file
    SILENCE = "silence"  # paused time is recorded as silence


class RecorderState(enum.Enum):
    NEW = "new"
    RECORDING = "recording"
    PAUSED = "paused"
    CLOSED = "closed"


_TRANSITIONS = {
    RecorderState.NEW: {RecorderState.RECORDING, RecorderState.CLOSED},
    RecorderState.RECORDING: {RecorderState.PAUSED, RecorderState.CLOSED},
    RecorderState.PAUSED: {RecorderState.RECORDING, RecorderState.CLOSED},
    RecorderState.CLOSED: set(),
}


@dataclass(slots=True)
class RecorderCounters:
    frames: int = 0  # stereo 20 ms frames put in the file (silence included)
    paused_frames: int = 0  # ticks spent paused
    unsupported: int = 0  # packets of a payload type the recorder cannot decode
    flushes: int = 0
    bytes_written: int = 0


class StereoRecorder:
    """A media-clock sink that records two parties to one stereo WAV file; a `BridgeTap` for a two-leg call."""

    def __init__(
        self,
        path: str | Path,
        clock: MediaClock,
        *,
        pause_mode: PauseMode = PauseMode.SKIP,
        flush_interval: float = 1.0,
        opener: Callable[[Path], WavFile] = open_file,
        jitter_capacity: int = 10,
        jitter_prefetch: int = 2,
    ) -> None:
        self.path = Path(path)
        self.clock = clock
        self.pause_mode = pause_mode
        self.flush_interval = flush_interval
        self.opener = opener
        self.state = RecorderState.NEW
        self.counters = RecorderCounters()
        self._jitter = [
            JitterBuffer(capacity=jitter_capacity, prefetch=jitter_prefetch, silence=MONO_SILENCE)
            for _ in range(CHANNELS)
        ]
        self._decoders: list[dict[int, Convert]] = [{} for _ in range(CHANNELS)]
        self._pending = bytearray()  # appended on the loop, handed to the writer thread by swapping
        self._file: WavFile | None = None
        self._data_size = 0
        self._last_tick: int | None = None
        self._write_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None

    @property
    def duration(self) -> float:
        """Seconds of audio recorded so far (written or still buffered)."""
        return self.counters.frames * FRAME_SAMPLES / SAMPLE_RATE

    # -- lifecycle

    async def open(self) -> None:
        """Create the file with a provisional header (in a thread), start the writer and register on the clock."""
        if self.state is not RecorderState.NEW:
            raise InvalidStateError(f"recorder is {self.state.value}", state=self.state)
        self._file = await asyncio.to_thread(self._create)
        self._set_state(RecorderState.RECORDING)
        self._writer = asyncio.get_running_loop().create_task(self._write_loop(), name=f"recorder {self.path.name}")
        self.clock.register(self)

    def _create(self) -> WavFile:
        file = self.opener(self.path)
        try:
            file.write(wav_header(0))
            file.flush()
        except BaseException:
            file.close()
            raise
        return file

    async def close(self) -> None:
        """Stop recording, write what is buffered and the final header, close the file. Idempotent."""
        if self.state is RecorderState.CLOSED:
            return
        self.clock.unregister(self)
        self._set_state(RecorderState.CLOSED)
        writer, self._writer = self._writer, None
        if writer is not None:
            self._wake.set()
            await writer
        file, self._file = self._file, None
        if file is not None:
            try:
                await self.flush(file)
            finally:
                await asyncio.to_thread(_close, file)

    def _set_state(self, new: RecorderState) -> None:
        if new not in _TRANSITIONS[self.state]:
            raise InvalidStateError(f"recorder is {self.state.value}, cannot become {new.value}", state=self.state)
        logger.debug("recorder %s: %s -> %s", self.path.name, self.state.value, new.value)
        self.state = new

    def pause(self) -> None:
        self._set_state(RecorderState.PAUSED)

    def resume(self) -> None:
        self._set_state(RecorderState.RECORDING)

    # -- input

    def put(self, channel: Channel, packet: RtpPacket) -> None:
        """Offer one channel's received audio packet (G.711, G.722); it is decoded now and played out on a tick."""
        decode = self._decoders[channel].get(packet.payload_type)
        if decode is None:
            codec = CODECS.get(packet.payload_type)
            if codec is None:
                self.counters.unsupported += 1
                return
            decode = self._decoders[channel][packet.payload_type] = codec.decoder()
        self._jitter[channel].put(packet.with_payload(decode(packet.payload)))

    def tapped(self, side: BridgeSide, packet: RtpPacket) -> None:
        self.put(Channel.LEFT if side is BridgeSide.A else Channel.RIGHT, packet)

    def tick(self, n: int) -> None:
        if self.state is not RecorderState.RECORDING and self.state is not RecorderState.PAUSED:
            return
        missed = 0 if self._last_tick is None else max(0, n - self._last_tick - 1)
        self._last_tick = n
        left, right = (_fit(buffer.pop()) for buffer in self._jitter)  # drained while paused too
        if self.state is RecorderState.PAUSED:
            self.counters.paused_frames += 1 + missed
            if self.pause_mode is PauseMode.SILENCE:
                self._append(STEREO_SILENCE * (1 + missed), 1 + missed)
            return
        if missed:
            self._append(STEREO_SILENCE * missed, missed)  # the clock skipped: keep the file on the call's time
        stereo = array("h", STEREO_SILENCE)
        stereo[0::2] = array("h", left)
        stereo[1::2] = array("h", right)
        self._append(stereo.tobytes(), 1)

    def _append(self, data: bytes, frames: int) -> None:
        self._pending += data
        self.counters.frames += frames

    # -- writing (never on the loop thread)

    async def flush(self, file: WavFile | None = None) -> None:
        """Hand the buffered audio to the writer thread now and wait until it is on disk (with its header)."""
        file = file or self._file
        if file is None:
            return
        async with self._write_lock:
            if not self._pending:
                return
            chunk = bytes(self._pending)
            self._pending.clear()
            self._data_size += len(chunk)
            await asyncio.to_thread(_write_chunk, file, chunk, self._data_size)
            self.counters.flushes += 1
            self.counters.bytes_written += len(chunk)

    async def _write_loop(self) -> None:
        while self.state is not RecorderState.CLOSED:
            try:
                async with asyncio.timeout(self.flush_interval):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.flush()
            except OSError:
                logger.exception("recorder %s: write failed; the recording stops here", self.path)
                self.clock.unregister(self)
                return


def _fit(frame: bytes) -> bytes:
    if len(frame) == FRAME_BYTES:
        return frame
    return frame[:FRAME_BYTES] + bytes(max(0, FRAME_BYTES - len(frame)))


def _close(file: WavFile) -> None:
    file.close()


def _write_chunk(file: WavFile, chunk: bytes, data_size: int) -> None:
    """Append audio, then make the header cover it, so the file on disk is always a valid WAV."""
    file.write(chunk)
    file.seek(4)
    file.write(struct.pack("<I", 36 + data_size))
    file.seek(40)
    file.write(struct.pack("<I", data_size))
    file.seek(0, 2)
    file.flush()
