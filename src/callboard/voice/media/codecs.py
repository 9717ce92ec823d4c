"""The audio codecs of the media plane by RTP payload type: G.711 PCMU (0) and PCMA (8), and G.722 (9).

Past the wire everything works on 8 kHz 16-bit signed little-endian linear PCM in 20 ms frames (160 samples),
so a codec is a pair of factories: `encoder()` and `decoder()` each return a fresh function for one stream
direction. G.711 is a table lookup with no memory, so its functions are shared. G.722 is ADPCM: its encoder and
decoder adapt from sample to sample, so each direction of each call must have its own object; sharing one
between two streams would corrupt both.

Everything we send on one stream in G.722 (its prompts and music, what a bridge transcodes into it, a conference's
mix) goes through that stream's one encoder, `stream_encoder(stream, ...)`: the far end's decoder follows the
encoder's state, and a second encoder taking over mid-stream is heard as a burst (measured: 40 ms at an error of
20000 RMS after a tone of 5700 RMS). Two encoders that have both been running differ far less (an error about the
signal's own level for 40 ms, fading): that is what a G.722 bridge forwarding the other phone's bytes costs at
each switch between that phone and us. A decoder that starts mid-stream needs about 50 ms to lock on.

G.722 runs in libg722's 8 kHz mode (the `G722` package): 8 kHz PCM in and out, a standard G.722 bitstream on
the wire with only the lower sub-band carrying audio. A phone decodes it as wideband G.722 and plays telephone
band audio, which is all the rest of the plane (prompts, recordings, the mixer) holds anyway. At 64 kbit/s it is
one byte per 8 kHz sample, so a 20 ms frame is 160 bytes and 160 RTP timestamp units: RFC 3551 §4.5.2 keeps
G.722's RTP clock at 8000 although it samples at 16 kHz.
"""

from __future__ import annotations

import sys
import weakref
from array import array
from collections.abc import Callable
from dataclasses import dataclass

from G722 import G722 as _G722State

from callboard.voice.media.g711 import alaw_decode, alaw_encode, alaw_to_ulaw, ulaw_decode, ulaw_encode, ulaw_to_alaw

__all__ = [
    "CODECS",
    "G722",
    "PCMA",
    "PCMU",
    "AudioCodec",
    "Convert",
    "UnsupportedCodecError",
    "codec",
    "codec_named",
    "direct_conversion",
    "stream_encoder",
    "transcoder",
]

PCMU = 0
PCMA = 8
G722 = 9
FRAME_SAMPLES = 160  # 20 ms at 8 kHz: also the bytes of a frame in each of these codecs
G722_BIT_RATE = 64000  # mode 1, the one RFC 3551 registers for payload type 9
_BIG_ENDIAN = sys.byteorder == "big"

Convert = Callable[[bytes], bytes]


class UnsupportedCodecError(ValueError):
    """A payload type the media plane cannot encode or decode."""


@dataclass(frozen=True, slots=True)
class AudioCodec:
    """One codec: its SDP name, static payload type, per-direction encoder and decoder factories, a silent frame."""

    name: str
    payload_type: int
    encoder: Callable[[], Convert]  # 8 kHz PCM -> payload; call once per stream direction
    decoder: Callable[[], Convert]  # payload -> 8 kHz PCM; call once per stream direction
    silence: bytes  # 20 ms of silence as sent on the wire
    stateful: bool  # True: one encoder's output depends on what it encoded before (never share it)


def _samples(pcm: bytes) -> array[int]:
    if len(pcm) % 2:
        raise ValueError(f"16-bit PCM must have an even number of bytes, got {len(pcm)}")
    samples = array("h", pcm)
    if _BIG_ENDIAN:
        samples.byteswap()
    return samples


def _g722_encoder() -> Convert:
    state = _G722State(8000, G722_BIT_RATE)

    def encode(pcm: bytes) -> bytes:
        payload: bytes = state.encode(_samples(pcm))
        return payload

    return encode


def _g722_decoder() -> Convert:
    state = _G722State(8000, G722_BIT_RATE)

    def decode(payload: bytes) -> bytes:
        samples: array[int] = state.decode(bytes(payload))
        if _BIG_ENDIAN:
            samples.byteswap()
        return samples.tobytes()

    return decode


def _shared(function: Convert) -> Callable[[], Convert]:
    return lambda: function


CODECS: dict[int, AudioCodec] = {
    c.payload_type: c
    for c in (
        AudioCodec("PCMU", PCMU, _shared(ulaw_encode), _shared(ulaw_decode), b"\xff" * FRAME_SAMPLES, False),
        AudioCodec("PCMA", PCMA, _shared(alaw_encode), _shared(alaw_decode), b"\xd5" * FRAME_SAMPLES, False),
        AudioCodec("G722", G722, _g722_encoder, _g722_decoder, _g722_encoder()(bytes(2 * FRAME_SAMPLES)), True),
    )
}
_BY_NAME = {c.name: c for c in CODECS.values()}
# The G.711 code conversion tables go from one law to the other without a linear step.
_DIRECT: dict[tuple[int, int], Convert] = {(PCMU, PCMA): ulaw_to_alaw, (PCMA, PCMU): alaw_to_ulaw}


def codec(payload_type: int) -> AudioCodec:
    """The codec of a static payload type; `UnsupportedCodecError` for any other."""
    found = CODECS.get(payload_type)
    if found is None:
        raise UnsupportedCodecError(f"payload type {payload_type} is not PCMU, PCMA or G.722")
    return found


def codec_named(name: str) -> AudioCodec | None:
    """The codec an SDP rtpmap names (`PCMU`, `pcma`, `G722`), or None."""
    return _BY_NAME.get(name.upper())


def direct_conversion(source_pt: int, target_pt: int) -> Convert | None:
    """PCMU <-> PCMA by the G.711 conversion tables; None for any other pair."""
    return _DIRECT.get((source_pt, target_pt))


_STREAM_ENCODERS: weakref.WeakKeyDictionary[object, tuple[int, Convert]] = weakref.WeakKeyDictionary()


def stream_encoder(stream: object, payload_type: int) -> Convert:
    """The encoder of what is sent on `stream` (a leg's RTP session, or what stands in for it) in `payload_type`.

    A stateless codec's function is shared by all; a stateful one gets one encoder per stream, kept as long as the
    stream lives, so that a player, a bridge and the mixer writing to it one after the other never restart it."""
    found = codec(payload_type)
    if not found.stateful:
        return found.encoder()
    held = _STREAM_ENCODERS.get(stream)
    if held is None or held[0] != payload_type:
        held = _STREAM_ENCODERS[stream] = (payload_type, found.encoder())
    return held[1]


def transcoder(source_pt: int, target_pt: int) -> Convert | None:
    """A payload conversion from one codec to another with a decoder and an encoder of its own (None when the
    bytes pass unchanged): for one stream direction, or a measurement."""
    if source_pt == target_pt:
        return None
    direct = direct_conversion(source_pt, target_pt)
    if direct is not None:
        return direct
    decode, encode = codec(source_pt).decoder(), codec(target_pt).encoder()
    return lambda payload: encode(decode(payload))
