"""Audio for the end-to-end tests: tones written as WAV files, and how loud a WAV file or a G.711 stream is.

A peer "heard" something when the audio it recorded is louder than `SILENCE_RMS` and most of its energy sits at
the frequency of the tone that was sent: loudness alone would also pass on noise or on a peer's own echo.
"""

from __future__ import annotations

import math
import sys
import wave
from array import array
from collections.abc import Iterable
from pathlib import Path

from callboard.voice.media.g711 import alaw_decode, alaw_encode, ulaw_decode

RATE = 8000
SILENCE_RMS = 100.0  # of 32767: about -50 dBFS, far below any tone and above G.711's idle-channel noise
_DECODERS = {0: ulaw_decode, 8: alaw_decode}


def write_tone(path: Path, frequency: float, seconds: float, *, amplitude: float = 0.5, rate: int = RATE) -> Path:
    """A mono 16-bit WAV of a sine at `amplitude` of full scale."""
    count = round(seconds * rate)
    peak = amplitude * 32767
    samples = array("h", (round(peak * math.sin(2 * math.pi * frequency * i / rate)) for i in range(count)))
    if sys.byteorder == "big":
        samples.byteswap()  # WAV is little-endian
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())
    return path


def read_wav(path: Path) -> tuple[array[int], int]:
    """The samples of a 16-bit PCM WAV (the channels averaged into one) and its sample rate."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: {8 * wav.getsampwidth()}-bit samples, expected 16-bit PCM")
        channels, rate = wav.getnchannels(), wav.getframerate()
        samples = _linear(wav.readframes(wav.getnframes()))
    if channels > 1:
        samples = array("h", (sum(samples[i : i + channels]) // channels for i in range(0, len(samples), channels)))
    return samples, rate


def decode_g711(payloads: Iterable[tuple[int, bytes]]) -> array[int]:
    """The linear samples of (payload type, payload) pairs of PCMU (0) or PCMA (8), one after the other."""
    return _linear(b"".join(_DECODERS[payload_type](payload) for payload_type, payload in payloads))


def rms(samples: array[int]) -> float:
    """Root mean square, in 16-bit sample units (0.0 for no samples)."""
    if not samples:
        return 0.0
    return math.sqrt(math.fsum(s * s for s in samples) / len(samples))


def tone_share(samples: array[int], frequency: float, rate: int = RATE) -> float:
    """The share (0 to 1) of the signal's energy that lies at `frequency`, measured by the Goertzel algorithm
    over 100 ms blocks (10 Hz resolution: name a multiple of 10 Hz). A clean tone gives about 1, silence 0."""
    block = rate // 10
    k = frequency * block / rate
    coefficient = 2 * math.cos(2 * math.pi * k / block)
    at_frequency = total = 0.0
    for start in range(0, len(samples) - block + 1, block):
        s1 = s2 = 0.0
        energy = 0.0
        for x in samples[start : start + block]:
            s1, s2 = x + coefficient * s1 - s2, s1
            energy += x * x
        power = s1 * s1 + s2 * s2 - coefficient * s1 * s2  # |X(k)|^2
        at_frequency += 2 * power / block  # the bins k and N - k hold a real tone's energy (Parseval)
        total += energy
    return at_frequency / total if total else 0.0


def _linear(data: bytes) -> array[int]:
    samples = array("h", data)
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


# What a caller heard, against the prompts it should have heard: the level of each 20 ms frame (the envelope of
# the speech: its syllables and pauses) survives G.711, jitter and gain, while the waveform does not. Two
# recordings of different words, or of the same words in another language, have different envelopes.

FRAME = 0.020  # seconds
FLOOR_DB = -60.0  # dBFS; quieter frames count as silence (G.711's idle noise sits below it)


def envelope(samples: array[int], rate: int = RATE) -> list[float]:
    """The level of each 20 ms frame in dBFS, floored at `FLOOR_DB`."""
    size = max(1, round(rate * FRAME))
    levels = []
    for start in range(0, len(samples) - size + 1, size):
        frame = samples[start : start + size]
        power = math.fsum(s * s for s in frame) / size
        levels.append(max(FLOOR_DB, 10 * math.log10(power / 32767**2)) if power > 0 else FLOOR_DB)
    return levels


def active_seconds(samples: array[int], rate: int = RATE, *, above: float = SILENCE_RMS) -> float:
    """Seconds from the first to the last 20 ms frame louder than `above` (0.0 when all is silence)."""
    threshold = 20 * math.log10(above / 32767)
    loud = [i for i, level in enumerate(envelope(samples, rate)) if level > threshold]
    return (loud[-1] - loud[0] + 1) * FRAME if loud else 0.0


def envelope_match(heard: array[int], expected: array[int], rate: int = RATE, expected_rate: int = RATE) -> float:
    """How well `expected` (a prompt) is found in `heard` (a recording that holds it somewhere): the best
    normalised cross-correlation (-1 to 1) of their 20 ms envelopes over every offset of `expected` in `heard`.
    The same prompt heard through a call scores above 0.9; another prompt, or the same message in another
    language, scores well below. The prompt's silent ends are left out: what follows it in the call (music,
    the next prompt) would otherwise count against it."""
    needle = _trimmed(envelope(expected, expected_rate))
    if not needle:
        return 0.0
    n = len(needle)
    mean = math.fsum(needle) / n
    centred = [x - mean for x in needle]
    norm = math.sqrt(math.fsum(x * x for x in centred))
    if norm == 0:
        return 0.0
    best = -1.0
    size = round(rate * FRAME)
    for phase in range(0, size, size // 4):  # frames a quarter apart: the prompt need not start on a frame
        hay = envelope(heard[phase:], rate)
        hay += [FLOOR_DB] * max(0, n - len(hay))
        for lag in range(len(hay) - n + 1):
            window = hay[lag : lag + n]
            window_mean = math.fsum(window) / n
            dot = math.fsum(c * (w - window_mean) for c, w in zip(centred, window, strict=True))
            spread = math.sqrt(math.fsum((w - window_mean) ** 2 for w in window))
            if spread > 0:
                best = max(best, dot / (norm * spread))
    return best


def _trimmed(levels: list[float]) -> list[float]:
    threshold = 20 * math.log10(SILENCE_RMS / 32767)
    loud = [i for i, level in enumerate(levels) if level > threshold]
    return levels[loud[0] : loud[-1] + 1] if loud else []


def concatenate(*paths: Path) -> array[int]:
    """The samples of 8 kHz WAV files one after the other, each padded with silence to a whole 20 ms frame as
    the node plays them (a message made of several prompts)."""
    joined: array[int] = array("h")
    frame = round(RATE * FRAME)
    for path in paths:
        samples, rate = read_wav(path)
        if rate != RATE:
            raise ValueError(f"{path}: {rate} Hz, expected {RATE}")
        joined.extend(samples)
        joined.extend([0] * (-len(samples) % frame))
    return joined


def write_alaw(path: Path, samples: array[int]) -> Path:
    """Samples as raw A-law: what SIPp's `rtp_stream` action sends."""
    data = array("h", samples)
    if sys.byteorder == "big":
        data.byteswap()
    path.write_bytes(alaw_encode(data.tobytes()))
    return path
