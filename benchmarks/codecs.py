"""What G.722 costs in the media plane: CPU per 20 ms frame for each codec step and for one direction of a
bridge (`StreamRewriter.forward`), G.722 <-> G.711 transcoded against G.711 forwarded byte for byte; and what
receiving a packet costs: parsing it, and an RTP session taking it in (latch, RFC 3550 statistics).

    .venv/bin/python benchmarks/codecs.py            # about 10 s; prints the figures and the machine as JSON

Each figure is the best of 7 runs of 20000 frames (a 1 kHz tone), in microseconds per frame, on one core of a
machine that may have other work: the best run is the least disturbed. A call has 50 frames a second each way.
See docs/benchmarks.md, "G.722".
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from array import array
from collections.abc import Callable

from measuring import machine

from callboard.voice.media.bridge import BridgeCounters, StreamRewriter
from callboard.voice.media.codecs import G722, PCMA, PCMU, codec
from callboard.voice.media.rtp import RtpPacket
from callboard.voice.media.session import RtpSession, RtpSessionConfig

FRAMES = 20000
RUNS = 7


class _Sink:
    """A bridge leg that drops what it is sent: only the rewriter and the codec work are timed."""

    listener = None

    def __init__(self, payload_type: int) -> None:
        self.payload_type = payload_type

    def send_frame(self, payload: bytes, *, marker: bool = False, samples: int | None = None) -> None:
        pass

    def skip(self, samples: int) -> None:
        pass

    async def send_dtmf(self, digit: str, *, duration: int | None = None) -> None:
        pass


def tone_frames(count: int) -> list[bytes]:
    pcm = array("h", (round(8000 * math.sin(2 * math.pi * 1000 * i / 8000)) for i in range(160 * count))).tobytes()
    return [pcm[i : i + 320] for i in range(0, len(pcm), 320)]


def best_us(step: Callable[[int], object]) -> float:
    """Microseconds per call of `step(i)` for i in 0..FRAMES-1, best of RUNS."""
    best = math.inf
    for _ in range(RUNS):
        started = time.perf_counter_ns()
        for i in range(FRAMES):
            step(i)
        best = min(best, (time.perf_counter_ns() - started) / FRAMES / 1000)
    return round(best, 2)


def forward_us(source_pt: int, target_pt: int, payloads: list[bytes]) -> float:
    rewriter = StreamRewriter(_Sink(target_pt), source_pt, BridgeCounters())  # type: ignore[arg-type]
    packets = [RtpPacket(source_pt, i & 0xFFFF, (160 * i) & 0xFFFFFFFF, 1, payloads[i % 250]) for i in range(FRAMES)]
    clock = [0.0]

    def step(i: int) -> None:
        clock[0] += 0.02
        rewriter.forward(packets[i], clock[0])

    # Each run starts where the last ended: sequence numbers wrap back, which the rewriter takes as a restart
    # once per run, a negligible part of 20000 frames.
    return best_us(step)


def receive_us(payloads: list[bytes]) -> dict[str, float]:
    """A plain PCMA packet parsed, and taken in by a session with no listener (its socket is not involved)."""
    datagrams = [
        bytes(RtpPacket(PCMA, i & 0xFFFF, (160 * i) & 0xFFFFFFFF, 1, payloads[i % 250])) for i in range(FRAMES)
    ]
    session = RtpSession(RtpSessionConfig(payload_type=PCMA))
    session.set_remote("127.0.0.1", 30000)
    source = ("127.0.0.1", 30000)

    async def on_a_loop() -> float:  # as on the server: the session may read the running loop's clock
        return best_us(lambda i: session._rtp_datagram(datagrams[i], source))

    return {"parse": best_us(lambda i: RtpPacket.parse(datagrams[i])), "session_receive": asyncio.run(on_a_loop())}


def main() -> None:
    pcm = tone_frames(250)
    encoded = {pt: [codec(pt).encoder()(f) for f in pcm] for pt in (PCMU, PCMA)}
    g722_encode, g722_decode = codec(G722).encoder(), codec(G722).decoder()
    encoded[G722] = [g722_encode(f) for f in pcm]
    alaw_encode, alaw_decode = codec(PCMA).encoder(), codec(PCMA).decoder()
    steps = {
        "g711_encode_pcma": best_us(lambda i: alaw_encode(pcm[i % 250])),
        "g711_decode_pcma": best_us(lambda i: alaw_decode(encoded[PCMA][i % 250])),
        "g722_encode": best_us(lambda i: g722_encode(pcm[i % 250])),
        "g722_decode": best_us(lambda i: g722_decode(encoded[G722][i % 250])),
    }
    bridge = {
        "pcma_to_pcma_forwarded": forward_us(PCMA, PCMA, encoded[PCMA]),
        "pcmu_to_pcma_table": forward_us(PCMU, PCMA, encoded[PCMU]),
        "g722_to_g722_forwarded": forward_us(G722, G722, encoded[G722]),
        "pcma_to_g722_transcoded": forward_us(PCMA, G722, encoded[PCMA]),
        "g722_to_pcma_transcoded": forward_us(G722, PCMA, encoded[G722]),
    }
    figures = {
        "us_per_20ms_frame": steps,
        "bridge_direction_us_per_frame": bridge,
        "rtp_receive_us_per_packet": receive_us(encoded[PCMA]),
        "machine": machine(),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
