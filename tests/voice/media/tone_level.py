"""The level of one frequency in 8 kHz linear PCM, for tests that check a tone went through a codec or a mix."""

from __future__ import annotations

import math
from array import array


def level_at(pcm: bytes, freq: float, rate: int = 8000) -> float:
    """Amplitude of one frequency component of 16-bit PCM (Goertzel)."""
    samples = array("h", pcm)
    coeff = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return 2 * math.sqrt(max(s1 * s1 + s2 * s2 - coeff * s1 * s2, 0.0)) / len(samples)
