from __future__ import annotations

import io
import math
import shutil
import struct
import subprocess
import wave

import av
import pytest

from callboard.core.errors import ValidationError
from callboard.flows import audio
from callboard.flows.audio import convert_prompt
from conftest import require_peer


def tone(rate: int, channels: int, seconds: float, hz: float = 440.0) -> bytes:
    """16-bit interleaved samples of a sine tone, the same in every channel."""
    samples = (int(8000 * math.sin(2 * math.pi * hz * i / rate)) for i in range(int(rate * seconds)))
    return b"".join(struct.pack("<h", s) * channels for s in samples)


def encode(container: str, codec: str, rate: int, seconds: float = 1.0) -> bytes:
    """A stereo tone encoded by PyAV (FFmpeg) in `container` with `codec`."""
    if codec not in av.codecs_available:
        pytest.skip(f"this FFmpeg build has no {codec} encoder")
    pcm, out = tone(rate, 2, seconds), io.BytesIO()
    with av.open(out, mode="w", format=container) as muxer:
        stream = muxer.add_stream(codec, rate=rate)
        stream.layout = "stereo"
        step = 1024
        for start in range(0, len(pcm) // 4, step):
            chunk = pcm[start * 4 : (start + step) * 4]
            frame = av.AudioFrame(format="s16", layout="stereo", samples=len(chunk) // 4)
            frame.planes[0].update(chunk)
            frame.rate, frame.pts = rate, start
            muxer.mux(stream.encode(frame))
        muxer.mux(stream.encode(None))
    return out.getvalue()


def wav_file(pcm: bytes, rate: int, channels: int, width: int = 2) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(pcm)
    return out.getvalue()


def params(data: bytes) -> tuple[int, int, int, float, bytes]:
    with wave.open(io.BytesIO(data)) as w:
        frames = w.readframes(w.getnframes())
        return w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes() / w.getframerate(), frames


def loudness(pcm: bytes) -> float:
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
    return math.sqrt(sum(s * s for s in samples) / len(samples))


def test_a_cd_quality_stereo_wav_becomes_8khz_mono() -> None:
    channels, width, rate, seconds, pcm = params(convert_prompt(wav_file(tone(44100, 2, 2.0), 44100, 2), "hi.wav"))
    assert (channels, width, rate) == (1, 2, 8000)
    assert seconds == pytest.approx(2.0, abs=0.02)
    assert loudness(pcm) == pytest.approx(8000 / math.sqrt(2), rel=0.1)  # the tone survives, not silence


def test_a_24_bit_stereo_wav_made_by_sox() -> None:
    require_peer("sox", shutil.which("sox") is not None, "apt-get install sox")
    made = subprocess.run(
        [
            "sox",
            "-n",
            "-r",
            "44100",
            "-c",
            "2",
            "-b",
            "24",
            "-t",
            "wav",
            "-",
            "synth",
            "1.5",
            "sine",
            "440",
            "vol",
            "0.5",
        ],
        check=True,
        capture_output=True,
    ).stdout
    channels, width, rate, seconds, pcm = params(convert_prompt(made, "sox.wav"))
    assert (channels, width, rate) == (1, 2, 8000)
    assert seconds == pytest.approx(1.5, abs=0.02)
    assert loudness(pcm) > 5000


@pytest.mark.parametrize(
    ("container", "codec", "rate", "name"),
    [
        ("mp3", "libmp3lame", 44100, "upload.mp3"),
        ("ogg", "libopus", 48000, "upload.ogg"),
        ("flac", "flac", 44100, "upload.flac"),
        ("wav", "pcm_s16le", 16000, "upload.wav"),
    ],
)
def test_compressed_formats_are_decoded(container: str, codec: str, rate: int, name: str) -> None:
    channels, width, out_rate, seconds, pcm = params(convert_prompt(encode(container, codec, rate), name))
    assert (channels, width, out_rate) == (1, 2, 8000)
    assert seconds == pytest.approx(1.0, abs=0.1)  # codecs add a little priming
    assert loudness(pcm) > 3000


def test_a_misleading_name_does_not_matter() -> None:
    assert params(convert_prompt(encode("flac", "flac", 44100), "recording.mp3"))[:3] == (1, 2, 8000)


@pytest.mark.parametrize(
    "data", [b"", b"hello world, this is not sound" * 50, bytes(range(256)) * 64, b"RIFF\x00\x00\x00\x00WAVE"]
)
def test_what_is_not_audio_is_refused(data: bytes) -> None:
    with pytest.raises(ValidationError) as caught:
        convert_prompt(data, "notes.mp3")
    assert caught.value.error_id == "prompt_format_invalid"
    assert "notes.mp3" in caught.value.message


def test_a_video_without_sound_is_refused() -> None:
    out = io.BytesIO()
    with av.open(out, mode="w", format="matroska") as muxer:
        stream = muxer.add_stream("ffv1", rate=1)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "yuv420p"
        frame = av.VideoFrame(16, 16, "yuv420p")
        frame.pts = 0
        muxer.mux(stream.encode(frame))
        muxer.mux(stream.encode(None))
    with pytest.raises(ValidationError, match="no audio stream") as caught:
        convert_prompt(out.getvalue(), "video.mkv")
    assert caught.value.error_id == "prompt_format_invalid"


def test_a_prompt_longer_than_ten_minutes_is_refused() -> None:
    eleven_minutes = wav_file(bytes(8000 * 2 * 660), 8000, 1)
    with pytest.raises(ValidationError) as caught:
        convert_prompt(eleven_minutes, "long.wav")
    assert caught.value.error_id == "prompt_too_long"


def test_the_length_is_checked_while_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audio, "MAX_SECONDS", 1)
    with pytest.raises(ValidationError) as caught:
        convert_prompt(encode("mp3", "libmp3lame", 44100, seconds=4.0), "long.mp3")
    assert caught.value.error_id == "prompt_too_long"


def test_a_huge_file_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audio, "MAX_BYTES", 1000)
    with pytest.raises(ValidationError) as caught:
        convert_prompt(bytes(2000), "huge.wav")
    assert caught.value.error_id == "prompt_too_large"
