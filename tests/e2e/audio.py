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

from callboard.voice.media.g711 import alaw_decode, ulaw_decode

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
