"""Uploaded prompts converted to what the media engine plays: 8 kHz mono 16-bit PCM WAV.

`convert_prompt` takes a file in any format FFmpeg reads (WAV at any rate, width or channel count, MP3,
OGG Vorbis or Opus, FLAC, M4A/AAC, ...), decodes it with PyAV, mixes it down to mono and resamples it to
8 kHz with FFmpeg's resampler (audioop is deprecated), and returns the bytes of a plain WAV file. Data that is
not audio is a `ValidationError` with the id `prompt_format_invalid`; a prompt longer than `MAX_SECONDS` is
`prompt_too_long` and a file larger than `MAX_BYTES` `prompt_too_large`. Decoding is CPU work: call it from a
worker thread (`asyncio.to_thread`), not on the event loop.
"""

from __future__ import annotations

import io
import wave

import av
import av.error

from callboard.core.errors import ValidationError

__all__ = ["MAX_BYTES", "MAX_SECONDS", "RATE", "convert_prompt"]

RATE = 8000
MAX_SECONDS = 600
MAX_BYTES = 100 * 1024 * 1024


class _NamedBytes(io.BytesIO):
    """Bytes with a file name, which FFmpeg takes as a hint when it probes the format."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name


def convert_prompt(data: bytes, filename_hint: str) -> bytes:
    """The audio in `data` as an 8 kHz mono 16-bit WAV file; `filename_hint` is the uploaded file's name."""
    if len(data) > MAX_BYTES:
        raise ValidationError(
            f"{filename_hint} is {len(data) // 2**20} MiB, more than a prompt can be ({MAX_BYTES // 2**20} MiB)",
            error_id="prompt_too_large",
            filename=filename_hint,
            size=len(data),
        )
    try:
        pcm = _decode(data, filename_hint)
    except (av.error.FFmpegError, ValueError, IndexError) as exc:
        if isinstance(exc, ValidationError):
            raise
        why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise _invalid(filename_hint, why.lower()) from None
    if not pcm:
        raise _invalid(filename_hint, "it holds no sound")
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(pcm)
    return out.getvalue()


def _decode(data: bytes, filename_hint: str) -> bytes:
    limit = MAX_SECONDS * RATE * 2  # bytes of 16-bit samples
    chunks: list[bytes] = []
    size = 0
    with av.open(_NamedBytes(data, filename_hint), mode="r") as container:
        if not container.streams.audio:
            raise _invalid(filename_hint, "it has no audio stream")
        stream = container.streams.audio[0]
        # The header's duration is not checked first: a WAV written to a pipe claims to be hours long.
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunks.append(bytes(out.planes[0])[: out.samples * 2])
                size += out.samples * 2
            if size > limit:
                raise _too_long(filename_hint, size / (RATE * 2))
        for out in resampler.resample(None):
            chunks.append(bytes(out.planes[0])[: out.samples * 2])
    return b"".join(chunks)


def _invalid(filename: str, why: str) -> ValidationError:
    return ValidationError(
        f"{filename} is not an audio file that can be played ({why})",
        error_id="prompt_format_invalid",
        filename=filename,
    )


def _too_long(filename: str, seconds: float) -> ValidationError:
    return ValidationError(
        f"{filename} lasts {seconds / 60:.0f} minutes or more; a prompt can last {MAX_SECONDS // 60} minutes at most",
        error_id="prompt_too_long",
        filename=filename,
        seconds=round(seconds),
    )
