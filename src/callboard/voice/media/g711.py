"""G.711 PCMU (mu-law) and PCMA (A-law) to and from 16-bit signed little-endian linear PCM, by table lookup.

The tables are built once from the ITU-T G.191 reference routines (`ulaw_compress`/`ulaw_expand`,
`alaw_compress`/`alaw_expand`), so the results are bit-exact with the reference coder; the direct
mu-law <-> A-law tables are the G.711 code conversion tables as the Sun reference `g711.c` carries them.
"""

from __future__ import annotations

import sys
from array import array

__all__ = [
    "alaw_decode",
    "alaw_encode",
    "alaw_to_linear",
    "alaw_to_ulaw",
    "alaw_to_ulaw_sample",
    "linear_to_alaw",
    "linear_to_ulaw",
    "ulaw_decode",
    "ulaw_encode",
    "ulaw_to_alaw",
    "ulaw_to_alaw_sample",
    "ulaw_to_linear",
]


def ulaw_to_linear(code: int) -> int:
    """G.191 `ulaw_expand` for one code byte."""
    sign = -1 if code < 0x80 else 1
    mantissa = ~code
    exponent = (mantissa >> 4) & 0x07
    step = 4 << (exponent + 1)
    return sign * ((0x80 << exponent) + step * (mantissa & 0x0F) + step // 2 - 4 * 33)


def linear_to_ulaw(sample: int) -> int:
    """G.191 `ulaw_compress` for one 16-bit sample (only its 14 most significant bits count)."""
    magnitude = ((~sample) >> 2) + 33 if sample < 0 else (sample >> 2) + 33
    magnitude = min(magnitude, 0x1FFF)
    segment = (magnitude >> 6).bit_length() + 1
    code = ((8 - segment) << 4) | (0x0F - ((magnitude >> segment) & 0x0F))
    return code | 0x80 if sample >= 0 else code


def alaw_to_linear(code: int) -> int:
    """G.191 `alaw_expand` for one code byte."""
    ix = (code ^ 0x55) & 0x7F
    exponent = ix >> 4
    mantissa = ix & 0x0F
    if exponent > 0:
        mantissa += 16
    mantissa = (mantissa << 4) + 8
    if exponent > 1:
        mantissa <<= exponent - 1
    return mantissa if code > 0x7F else -mantissa


def linear_to_alaw(sample: int) -> int:
    """G.191 `alaw_compress` for one 16-bit sample (only its 12 most significant bits count)."""
    ix = (~sample) >> 4 if sample < 0 else sample >> 4
    if ix > 15:
        exponent = 1
        while ix > 16 + 15:
            ix >>= 1
            exponent += 1
        ix = ix - 16 + (exponent << 4)
    if sample >= 0:
        ix |= 0x80
    return ix ^ 0x55


# G.711 code conversion: mu-law magnitude -> A-law magnitude (1-based) and A-law -> mu-law (0-based),
# as carried by the Sun reference implementation ("copy from CCITT G.711 specifications").
_U2A = bytes(
    (1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
     25, 27, 29, 31, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 48, 49, 50, 51, 52, 53, 54,
     55, 56, 57, 58, 59, 60, 61, 62, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79,
     *range(81, 129))
)  # fmt: skip
_A2U = bytes(
    (1, 3, 5, 7, 9, 11, 13, 15, *range(16, 32), 32, 32, 33, 33, 34, 34, 35, 35,
     *range(36, 48), 48, 48, 49, 49, *range(50, 64), 64, 64, *range(65, 80), 79, *range(80, 128))
)  # fmt: skip


def ulaw_to_alaw_sample(code: int) -> int:
    """Direct mu-law -> A-law conversion of one code byte (the G.711 conversion table)."""
    return 0xD5 ^ (_U2A[0xFF ^ code] - 1) if code & 0x80 else 0x55 ^ (_U2A[0x7F ^ code] - 1)


def alaw_to_ulaw_sample(code: int) -> int:
    """Direct A-law -> mu-law conversion of one code byte (the G.711 conversion table)."""
    return 0xFF ^ _A2U[code ^ 0xD5] if code & 0x80 else 0x7F ^ _A2U[code ^ 0x55]


def _linear_bytes(decode: list[int]) -> tuple[bytes, bytes]:
    """Low- and high-byte translation tables so decoding is two `bytes.translate` calls and an interleave."""
    return bytes(v & 0xFF for v in decode), bytes((v >> 8) & 0xFF for v in decode)


_ULAW_DECODE = [ulaw_to_linear(c) for c in range(256)]
_ALAW_DECODE = [alaw_to_linear(c) for c in range(256)]
_ULAW_LOW, _ULAW_HIGH = _linear_bytes(_ULAW_DECODE)
_ALAW_LOW, _ALAW_HIGH = _linear_bytes(_ALAW_DECODE)
# Encoding tables indexed by the sample read as unsigned 16 bits, built once at import.
# Lists, not bytes: `list.__getitem__` through `map` is the fastest stdlib gather (about 35 ns a sample).
_ULAW_ENCODE = [linear_to_ulaw(u - 0x10000 if u & 0x8000 else u) for u in range(0x10000)]
_ALAW_ENCODE = [linear_to_alaw(u - 0x10000 if u & 0x8000 else u) for u in range(0x10000)]
_ULAW_TO_ALAW = bytes(ulaw_to_alaw_sample(c) for c in range(256))
_ALAW_TO_ULAW = bytes(alaw_to_ulaw_sample(c) for c in range(256))
_BIG_ENDIAN = sys.byteorder == "big"


def _decode(data: bytes, low: bytes, high: bytes) -> bytes:
    out = bytearray(2 * len(data))
    out[0::2] = data.translate(low)
    out[1::2] = data.translate(high)
    return bytes(out)


def _encode(pcm: bytes, table: list[int]) -> bytes:
    if len(pcm) % 2:
        raise ValueError(f"16-bit PCM must have an even number of bytes, got {len(pcm)}")
    samples = array("H", pcm)
    if _BIG_ENDIAN:
        samples.byteswap()
    return bytes(map(table.__getitem__, samples))


def ulaw_decode(data: bytes) -> bytes:
    """PCMU payload -> 16-bit signed little-endian PCM."""
    return _decode(data, _ULAW_LOW, _ULAW_HIGH)


def alaw_decode(data: bytes) -> bytes:
    """PCMA payload -> 16-bit signed little-endian PCM."""
    return _decode(data, _ALAW_LOW, _ALAW_HIGH)


def ulaw_encode(pcm: bytes) -> bytes:
    """16-bit signed little-endian PCM -> PCMU payload."""
    return _encode(pcm, _ULAW_ENCODE)


def alaw_encode(pcm: bytes) -> bytes:
    """16-bit signed little-endian PCM -> PCMA payload."""
    return _encode(pcm, _ALAW_ENCODE)


def ulaw_to_alaw(data: bytes) -> bytes:
    """PCMU payload -> PCMA payload without going through linear PCM."""
    return data.translate(_ULAW_TO_ALAW)


def alaw_to_ulaw(data: bytes) -> bytes:
    """PCMA payload -> PCMU payload without going through linear PCM."""
    return data.translate(_ALAW_TO_ULAW)
