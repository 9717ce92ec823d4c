"""G.711 against the ITU-T G.191 reference behaviour: known values, every code byte, transcoding tables."""

from __future__ import annotations

import struct
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callboard.voice.media import g711


def pcm(*samples: int) -> bytes:
    return struct.pack(f"<{len(samples)}h", *samples)


def samples(data: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(data) // 2}h", data))


@pytest.mark.parametrize(
    ("code", "linear"),
    [(0xFF, 0), (0x7F, 0), (0x00, -32124), (0x80, 32124), (0xFE, 8), (0x7E, -8), (0xEF, 132), (0x70, -120)],
)
def test_ulaw_known_values(code: int, linear: int) -> None:
    assert g711.ulaw_to_linear(code) == linear
    assert samples(g711.ulaw_decode(bytes([code]))) == [linear]


@pytest.mark.parametrize(
    ("code", "linear"),
    [(0xD5, 8), (0x55, -8), (0xAA, 32256), (0x2A, -32256), (0xD4, 24), (0xC5, 264), (0x80, 5504)],
)
def test_alaw_known_values(code: int, linear: int) -> None:
    assert g711.alaw_to_linear(code) == linear
    assert samples(g711.alaw_decode(bytes([code]))) == [linear]


def test_encode_known_values() -> None:
    assert g711.ulaw_encode(pcm(0, -1, 1, 32767, -32768, 8, -8)) == bytes([0xFF, 0x7F, 0xFF, 0x80, 0x00, 0xFE, 0x7E])
    assert g711.alaw_encode(pcm(0, -1, 15, 16, 32767, -32768)) == bytes([0xD5, 0x55, 0xD5, 0xD4, 0xAA, 0x2A])


def test_every_code_round_trips() -> None:
    codes = bytes(range(256))
    ulaw = g711.ulaw_encode(g711.ulaw_decode(codes))
    assert ulaw == bytes(0xFF if c == 0x7F else c for c in codes)  # mu-law has two zeros; zero encodes to 0xFF
    assert g711.alaw_encode(g711.alaw_decode(codes)) == codes


def test_decode_is_monotonic_in_code_order() -> None:
    positive_u = [g711.ulaw_to_linear(c) for c in range(0xFF, 0x7F, -1)]
    assert positive_u == sorted(positive_u)
    positive_a = [g711.alaw_to_linear(c ^ 0x55) for c in range(0x80, 0x100)]
    assert positive_a == sorted(positive_a)


@given(st.lists(st.integers(-32768, 32767), max_size=320))
def test_table_encoding_matches_the_reference_routine(values: list[int]) -> None:
    data = pcm(*values)
    assert g711.ulaw_encode(data) == bytes(g711.linear_to_ulaw(v) for v in values)
    assert g711.alaw_encode(data) == bytes(g711.linear_to_alaw(v) for v in values)


def test_quantization_error_is_logarithmic() -> None:
    # G.711 decides by interval, not by nearest level, so the bound is the interval: about 1/32 of the value.
    for value in range(-32768, 32768, 3):
        assert abs(g711.ulaw_to_linear(g711.linear_to_ulaw(value)) - value) <= abs(value) // 32 + 16
        assert abs(g711.alaw_to_linear(g711.linear_to_alaw(value)) - value) <= abs(value) // 32 + 16


def test_decoding_matches_the_sun_reference_in_audioop() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop")
    codes = bytes(range(256))
    assert g711.ulaw_decode(codes) == audioop.ulaw2lin(codes, 2)
    assert g711.alaw_decode(codes) == audioop.alaw2lin(codes, 2)
    non_negative = pcm(*range(0, 32768))
    # Positive samples agree bit for bit; negative ones differ where G.191 takes the one's complement.
    assert g711.ulaw_encode(non_negative) == audioop.lin2ulaw(non_negative, 2)
    assert g711.alaw_encode(non_negative) == audioop.lin2alaw(non_negative, 2)


def test_transcoding_tables_follow_g711() -> None:
    assert g711.ulaw_to_alaw(bytes([0xFF, 0x7F, 0x80, 0x00])) == bytes([0xD5, 0x55, 0xAA, 0x2A])
    assert g711.alaw_to_ulaw(bytes([0xD5, 0x55, 0xAA, 0x2A])) == bytes([0xFE, 0x7E, 0x80, 0x00])
    for code in range(256):
        u_value = g711.ulaw_to_linear(code)
        a_value = g711.alaw_to_linear(g711.ulaw_to_alaw_sample(code))
        assert (u_value >= 0) == (a_value > 0) or u_value == 0
        assert abs(a_value - u_value) <= max(16, abs(u_value) // 16)
        a_back = g711.alaw_to_linear(code)
        u_back = g711.ulaw_to_linear(g711.alaw_to_ulaw_sample(code))
        assert (a_back > 0) == (u_back > 0)
        assert abs(a_back - u_back) <= max(16, abs(a_back) // 16)


def test_transcoding_preserves_order() -> None:
    order = sorted(range(256), key=g711.ulaw_to_linear)
    transcoded = [g711.alaw_to_linear(g711.ulaw_to_alaw_sample(c)) for c in order]
    assert transcoded == sorted(transcoded)


def test_odd_length_pcm_is_rejected() -> None:
    with pytest.raises(ValueError, match="even"):
        g711.ulaw_encode(b"\x00\x01\x02")


def test_frame_sizes() -> None:
    frame = pcm(*range(-8000, 8000, 100))  # 160 samples, one 20 ms frame
    assert len(g711.ulaw_encode(frame)) == len(g711.alaw_encode(frame)) == 160
    assert len(g711.ulaw_decode(bytes(160))) == 320
