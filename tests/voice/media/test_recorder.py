"""Stereo recording on virtual media time: channel separation, pause modes, crash-safe header, off-loop writes."""

from __future__ import annotations

import asyncio
import math
import threading
import wave
from array import array
from pathlib import Path
from typing import Any

import pytest

from callboard.core.errors import InvalidStateError
from callboard.voice.media.bridge import BridgeSide
from callboard.voice.media.clock import VirtualMediaClock
from callboard.voice.media.codecs import G722, codec
from callboard.voice.media.g711 import alaw_encode, ulaw_encode
from callboard.voice.media.recorder import Channel, PauseMode, RecorderState, StereoRecorder, open_file
from callboard.voice.media.rtp import RtpPacket


def tone_frames(freq: float, count: int, amplitude: int = 8000) -> list[bytes]:
    samples = [round(amplitude * math.sin(2 * math.pi * freq * i / 8000)) for i in range(160 * count)]
    pcm = array("h", samples).tobytes()
    return [pcm[i : i + 320] for i in range(0, len(pcm), 320)]


def goertzel(samples: list[int], freq: float) -> float:
    """Power of `samples` at `freq` (8 kHz)."""
    coeff = 2 * math.cos(2 * math.pi * freq / 8000)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


def read_channels(path: Path) -> tuple[list[int], list[int]]:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, 8000)
        samples = array("h", wav.readframes(wav.getnframes()))
    return list(samples[0::2]), list(samples[1::2])


def feed(recorder: StereoRecorder, clock: VirtualMediaClock, ticks: int, start: int = 0) -> None:
    left = tone_frames(440, ticks)
    right = tone_frames(1000, ticks)
    for i in range(ticks):
        seq = (start + i) & 0xFFFF
        recorder.put(Channel.LEFT, RtpPacket(0, seq, 160 * seq, 1, ulaw_encode(left[i])))
        recorder.tapped(BridgeSide.B, RtpPacket(8, seq, 160 * seq, 2, alaw_encode(right[i])))
        clock.advance()


async def test_caller_left_agent_right(tmp_path: Path) -> None:
    clock = VirtualMediaClock()
    recorder = StereoRecorder(tmp_path / "call.wav", clock)
    await recorder.open()
    feed(recorder, clock, 50)
    await recorder.close()
    left, right = read_channels(tmp_path / "call.wav")
    assert len(left) == len(right) == 50 * 160
    assert goertzel(left, 440) > 100 * goertzel(left, 1000)
    assert goertzel(right, 1000) > 100 * goertzel(right, 440)
    assert max(map(abs, left)) > 7000 and max(map(abs, right)) > 7000
    assert left[:160] == [0] * 160  # the jitter buffer's one-frame prefetch


async def test_missing_frames_are_silence(tmp_path: Path) -> None:
    clock = VirtualMediaClock()
    recorder = StereoRecorder(tmp_path / "call.wav", clock)
    await recorder.open()
    feed(recorder, clock, 10)
    clock.advance(20)  # both parties silent
    clock.skip(5)  # the clock fell behind: those ticks still take time in the file
    clock.advance()
    await recorder.close()
    left, right = read_channels(tmp_path / "call.wav")
    assert len(left) == (10 + 20 + 5 + 1) * 160
    assert left[-160 * 20 :] == right[-160 * 20 :] == [0] * 160 * 20


@pytest.mark.parametrize(("mode", "frames"), [(PauseMode.SKIP, 60), (PauseMode.SILENCE, 90)])
async def test_pause_skips_or_records_silence(tmp_path: Path, mode: PauseMode, frames: int) -> None:
    clock = VirtualMediaClock()
    recorder = StereoRecorder(tmp_path / "call.wav", clock, pause_mode=mode)
    await recorder.open()
    feed(recorder, clock, 30)
    recorder.pause()
    assert recorder.state is RecorderState.PAUSED
    feed(recorder, clock, 30, start=30)  # card details being read out: not recorded
    recorder.resume()
    feed(recorder, clock, 30, start=60)
    await recorder.close()
    left, _ = read_channels(tmp_path / "call.wav")
    assert len(left) == frames * 160 and recorder.duration == frames * 0.02
    if mode is PauseMode.SILENCE:
        assert left[30 * 160 : 60 * 160] == [0] * 30 * 160
    with pytest.raises(InvalidStateError):
        recorder.resume()


async def test_a_file_left_open_is_a_valid_wav_up_to_the_last_flush(tmp_path: Path) -> None:
    clock = VirtualMediaClock()
    path = tmp_path / "call.wav"
    recorder = StereoRecorder(path, clock, flush_interval=3600)
    await recorder.open()
    assert len(read_channels(path)[0]) == 0  # the provisional header alone is a valid, empty WAV
    feed(recorder, clock, 25)
    await recorder.flush()
    feed(recorder, clock, 25, start=25)  # buffered, not yet written: lost if the process died now
    assert len(read_channels(path)[0]) == 25 * 160
    await recorder.close()
    assert len(read_channels(path)[0]) == 50 * 160


class ThreadRecordingFile:
    """Wraps a real file and notes the thread of every operation."""

    def __init__(self, path: Path, threads: list[int]) -> None:
        self.threads = threads
        self.threads.append(threading.get_ident())
        self.file = open_file(path)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.file, name)

        def call(*args: Any) -> Any:
            self.threads.append(threading.get_ident())
            return method(*args)

        return call


async def test_disk_writes_happen_off_the_loop_thread(tmp_path: Path) -> None:
    threads: list[int] = []
    clock = VirtualMediaClock()
    recorder = StereoRecorder(
        tmp_path / "call.wav", clock, flush_interval=0.01, opener=lambda p: ThreadRecordingFile(p, threads)
    )
    await recorder.open()
    feed(recorder, clock, 10)
    for _ in range(500):  # the writer task flushes on its own interval
        if recorder.counters.flushes:
            break
        await asyncio.sleep(0.01)
    assert recorder.counters.flushes
    feed(recorder, clock, 10, start=10)
    await recorder.close()
    assert len(threads) > 5
    assert threading.get_ident() not in threads
    assert len(read_channels(tmp_path / "call.wav")[0]) == 20 * 160


async def test_unknown_payload_types_are_counted_not_recorded(tmp_path: Path) -> None:
    clock = VirtualMediaClock()
    recorder = StereoRecorder(tmp_path / "call.wav", clock)
    await recorder.open()
    recorder.put(Channel.LEFT, RtpPacket(18, 1, 160, 1, b"\x00" * 20))  # G.729: not decoded
    await recorder.close()
    await recorder.close()
    assert recorder.counters.unsupported == 1 and clock.sinks == []


async def test_a_g722_leg_is_decoded_into_its_channel(tmp_path: Path) -> None:
    clock = VirtualMediaClock()
    recorder = StereoRecorder(tmp_path / "call.wav", clock)
    await recorder.open()
    encode = codec(G722).encoder()  # the wideband phone's
    right = tone_frames(1000, 50)
    for i, frame in enumerate(tone_frames(440, 50)):
        recorder.tapped(BridgeSide.A, RtpPacket(8, i, 160 * i, 1, alaw_encode(frame)))
        recorder.tapped(BridgeSide.B, RtpPacket(9, i, 160 * i, 2, encode(right[i])))
        clock.advance()
    await recorder.close()
    left, right_heard = read_channels(tmp_path / "call.wav")
    assert recorder.counters.unsupported == 0
    assert goertzel(right_heard, 1000) > 100 * goertzel(right_heard, 440)
    assert max(map(abs, right_heard[160 * 10 :])) > 7000
    assert goertzel(left, 440) > 100 * goertzel(left, 1000)
