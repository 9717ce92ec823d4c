"""Prompts from WAV and the Player on the media clock, decoded back through a real RTP session."""

from __future__ import annotations

import math
import struct
import wave
from array import array
from pathlib import Path

import pytest
from rtp_session_peers import get, session_pair
from tone_level import level_at

from callboard.voice.media.clock import VirtualMediaClock
from callboard.voice.media.codecs import G722, codec
from callboard.voice.media.g711 import alaw_decode, ulaw_decode
from callboard.voice.media.playback import (
    FRAME_SAMPLES,
    PlaybackFinished,
    Player,
    Prompt,
    PromptFormatError,
    read_wav,
)
from callboard.voice.media.rtp import timestamp_diff
from callboard.voice.media.session import RtpSessionConfig

AMPLITUDE = 8000


def write_sine(path: Path, *, rate: int = 8000, channels: int = 1, seconds: float = 0.5, freq: float = 1000) -> Path:
    count = int(rate * seconds)
    samples = [round(AMPLITUDE * math.sin(2 * math.pi * freq * i / rate)) for i in range(count)]
    frames = b"".join(struct.pack("<" + "h" * channels, *([s] * channels)) for s in samples)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return path


def rms(pcm: bytes) -> float:
    samples = array("h", pcm)
    return math.sqrt(sum(s * s for s in samples) / len(samples))


class FakeSink:
    payload_type = 0

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, int]] = []
        self.skipped = 0

    def send_frame(self, payload: bytes, *, marker: bool = False, samples: int | None = None) -> None:
        self.sent.append((payload, self.skipped))

    def skip(self, samples: int) -> None:
        self.skipped += samples


def test_prompt_frames_are_padded_with_silence(tmp_path: Path) -> None:
    prompt = Prompt.from_wav(write_sine(tmp_path / "tone.wav", seconds=0.51))  # 4080 samples: 25.5 frames
    assert prompt.name == "tone" and len(prompt.pcmu) == len(prompt.pcma) == 26
    assert all(len(f) == FRAME_SAMPLES for f in prompt.pcmu + prompt.pcma)
    assert prompt.pcmu[-1][-80:] == b"\xff" * 80 and prompt.pcma[-1][-80:] == b"\xd5" * 80
    assert prompt.duration == pytest.approx(0.52)
    assert level_at(alaw_decode(b"".join(prompt.pcma[:25])), 1000) == pytest.approx(AMPLITUDE, rel=0.05)


def test_other_rates_and_channels_are_converted(tmp_path: Path) -> None:
    pcm = read_wav(write_sine(tmp_path / "stereo.wav", rate=16000, channels=2, seconds=0.25))
    assert len(pcm) == 2 * 2000
    assert level_at(pcm, 1000) == pytest.approx(AMPLITUDE, rel=0.05)


def test_unsupported_files_raise(tmp_path: Path) -> None:
    with wave.open(str(tmp_path / "8bit.wav"), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(8000)
        wav.writeframes(b"\x80" * 100)
    with pytest.raises(PromptFormatError, match="16-bit"):
        read_wav(tmp_path / "8bit.wav")
    (tmp_path / "junk.wav").write_bytes(b"not a wav")
    with pytest.raises(PromptFormatError) as caught:
        read_wav(tmp_path / "junk.wav")
    assert caught.value.error_id == "prompt_format"


def test_player_queue_loop_stop_and_finished() -> None:
    a = Prompt.from_pcm("a", bytes(2 * FRAME_SAMPLES * 2))
    b = Prompt.from_pcm("b", bytes(2 * FRAME_SAMPLES * 3))
    sink, finished = FakeSink(), list[PlaybackFinished]()
    clock = VirtualMediaClock()
    player = Player(sink, on_finished=finished.append)
    clock.register(player)
    player.play(a)
    player.play(b, loop=True)
    clock.advance(9)
    assert len(sink.sent) == 9 and finished == [PlaybackFinished(a)]
    assert player.playing is b and player.position == 7 % 3
    player.stop()
    clock.advance(2)
    assert len(sink.sent) == 9 and finished[-1] == PlaybackFinished(b, interrupted=True)
    player.play(a)
    clock.advance()
    assert sink.sent[-1][1] == 2 * FRAME_SAMPLES  # the idle ticks were skipped in RTP time


def test_music_on_hold_is_one_shared_loop_with_positions_per_player() -> None:
    moh = Prompt.from_pcm("moh", b"".join(bytes([i]) * 2 * FRAME_SAMPLES for i in range(4)))
    clock = VirtualMediaClock()
    sinks = [FakeSink(), FakeSink()]
    players = [Player(s) for s in sinks]
    players[0].play(moh, loop=True)
    clock.register(players[0])
    clock.advance(2)
    players[1].play(moh, loop=True)
    clock.register(players[1])
    clock.advance(3)
    assert players[0].position == 1 and players[1].position == 3
    assert [f for f, _ in sinks[0].sent] == [moh.pcmu[i % 4] for i in range(5)]


@pytest.mark.parametrize(("payload_type", "decode"), [(0, ulaw_decode), (8, alaw_decode)])
async def test_player_sends_a_prompt_that_decodes_back_to_the_tone(
    tmp_path: Path, payload_type: int, decode: object
) -> None:
    prompt = Prompt.from_wav(write_sine(tmp_path / "tone.wav", seconds=0.2))
    clock = VirtualMediaClock()
    finished: list[PlaybackFinished] = []
    async with session_pair(RtpSessionConfig(payload_type=payload_type)) as (a, _, _b, rec_b):
        player = Player(a, on_finished=finished.append)
        clock.register(player)
        player.play(prompt)
        clock.advance(len(prompt.pcmu) + 2)
        got = [await get(rec_b.packets) for _ in range(len(prompt.pcmu))]
    assert finished == [PlaybackFinished(prompt)]
    assert all(p.payload_type == payload_type for p in got)
    assert [timestamp_diff(p.timestamp, got[0].timestamp) for p in got] == [160 * i for i in range(len(got))]
    assert callable(decode)
    pcm = decode(b"".join(p.payload for p in got))
    assert level_at(pcm, 1000) == pytest.approx(AMPLITUDE, rel=0.05)
    assert rms(pcm) == pytest.approx(AMPLITUDE / math.sqrt(2), rel=0.05)
    assert level_at(pcm, 2000) < AMPLITUDE * 0.05


async def test_player_sends_a_g722_prompt_that_decodes_back_to_the_tone(tmp_path: Path) -> None:
    prompt = Prompt.from_wav(write_sine(tmp_path / "tone.wav", seconds=0.4))
    assert len(prompt.pcm) == len(prompt.pcmu) and all(len(f) == 2 * FRAME_SAMPLES for f in prompt.pcm)
    clock = VirtualMediaClock()
    async with session_pair(RtpSessionConfig(payload_type=G722)) as (a, _, _b, rec_b):
        player = Player(a)
        clock.register(player)
        player.play(prompt)
        player.play(prompt)  # twice: the second must go on with the same encoder, not a fresh one
        clock.advance(2 * len(prompt.pcm) + 2)
        got = [await get(rec_b.packets) for _ in range(2 * len(prompt.pcm))]
    assert all(p.payload_type == G722 and len(p.payload) == FRAME_SAMPLES for p in got)
    assert [timestamp_diff(p.timestamp, got[0].timestamp) for p in got] == [160 * i for i in range(len(got))]
    decode = codec(G722).decoder()  # the phone's: one for the whole stream
    pcm = b"".join(decode(p.payload) for p in got)[2 * FRAME_SAMPLES * 3 :]
    assert level_at(pcm, 1000) == pytest.approx(AMPLITUDE, rel=0.05)
    assert level_at(pcm, 2000) < AMPLITUDE * 0.05
    assert max(abs(s) for s in array("h", pcm)) < AMPLITUDE * 1.1  # no burst where the second prompt starts
