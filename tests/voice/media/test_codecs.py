"""The codec registry: G.722 in its 8 kHz mode keeps a tone's pitch and level, keeps state per stream, and
transcodes to and from G.711 through linear PCM."""

from __future__ import annotations

import math
from array import array

import pytest
from tone_level import level_at

from callboard.voice.media.codecs import (
    CODECS,
    G722,
    PCMA,
    PCMU,
    UnsupportedCodecError,
    codec,
    codec_named,
    stream_encoder,
    transcoder,
)
from callboard.voice.media.g711 import alaw_decode, alaw_encode, ulaw_to_alaw

AMPLITUDE = 8000


def tone(freq: float, frames: int) -> list[bytes]:
    """20 ms frames of 8 kHz PCM of a sine."""
    pcm = array("h", (round(AMPLITUDE * math.sin(2 * math.pi * freq * i / 8000)) for i in range(160 * frames)))
    data = pcm.tobytes()
    return [data[i : i + 320] for i in range(0, len(data), 320)]


def peak(pcm: bytes) -> int:
    return max(abs(s) for s in array("h", pcm))


def test_registry_by_payload_type_and_name() -> None:
    assert sorted(CODECS) == [PCMU, PCMA, G722] == [0, 8, 9]
    assert codec_named("g722") is CODECS[G722] and codec_named("PCMA") is CODECS[PCMA] and codec_named("G729") is None
    assert [c.stateful for c in CODECS.values()] == [False, False, True]
    assert all(len(c.silence) == 160 for c in CODECS.values())
    with pytest.raises(UnsupportedCodecError, match="payload type 18"):
        codec(18)


def test_g722_carries_a_tone_at_its_pitch_and_level() -> None:
    g722 = codec(G722)
    encode, decode = g722.encoder(), g722.decoder()
    payloads = [encode(frame) for frame in tone(1000, 25)]
    assert all(len(p) == 160 for p in payloads)  # 64 kbit/s: 160 bytes and 160 timestamp units per 20 ms
    pcm = b"".join(decode(p) for p in payloads)[320 * 5 :]  # past the adaptation of the first frames
    assert level_at(pcm, 1000) == pytest.approx(AMPLITUDE, rel=0.05)
    assert level_at(pcm, 440) < AMPLITUDE * 0.02
    assert peak(g722.decoder()(g722.silence)) < 64


def test_each_stream_has_its_own_g722_encoder_and_g711_is_shared() -> None:
    class Stream:
        pass

    one, two = Stream(), Stream()
    assert stream_encoder(one, G722) is stream_encoder(one, G722)
    assert stream_encoder(one, G722) is not stream_encoder(two, G722)
    assert stream_encoder(one, PCMU) is stream_encoder(two, PCMU)


def test_a_second_encoder_on_one_stream_would_be_heard_as_a_burst() -> None:
    """Why players, bridges and the mixer share their stream's encoder: a fresh one mid-stream is loud."""
    g722 = codec(G722)
    frames = tone(440, 40)
    first, second, decode = g722.encoder(), g722.encoder(), g722.decoder()
    shared = b"".join(decode(first(f)) for f in frames)
    decode = g722.decoder()
    switched = b"".join(decode((first if i < 20 else second)(f)) for i, f in enumerate(frames))
    assert peak(shared[320 * 5 :]) < AMPLITUDE * 1.1
    assert peak(switched[320 * 20 : 320 * 23]) > AMPLITUDE * 1.5


def test_transcoding_between_g722_and_g711_both_ways() -> None:
    frames = tone(1000, 25)
    to_alaw, to_g722 = transcoder(G722, PCMA), transcoder(PCMA, G722)
    assert to_alaw is not None and to_g722 is not None
    encode, decode = codec(G722).encoder(), codec(G722).decoder()
    heard_by_alaw = b"".join(alaw_decode(to_alaw(encode(f))) for f in frames)[320 * 5 :]
    heard_by_g722 = b"".join(decode(to_g722(alaw_encode(f))) for f in frames)[320 * 5 :]
    assert level_at(heard_by_alaw, 1000) == pytest.approx(AMPLITUDE, rel=0.05)
    assert level_at(heard_by_g722, 1000) == pytest.approx(AMPLITUDE, rel=0.05)
    assert transcoder(PCMU, PCMA) is ulaw_to_alaw and transcoder(G722, G722) is None
