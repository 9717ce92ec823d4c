"""Conference mixing on virtual media time with synthetic parties: N-1 mixes, supervisor roles, saturation."""

from __future__ import annotations

import math
from array import array

import pytest
from tone_level import level_at

from callboard.voice.media.clock import VirtualMediaClock
from callboard.voice.media.codecs import G722, codec
from callboard.voice.media.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from callboard.voice.media.mixer import ConferenceMixer, Role
from callboard.voice.media.rtp import RtpPacket


class Sink:
    """A `FrameSink` keeping the frames it is sent."""

    def __init__(self, payload_type: int = 0) -> None:
        self.payload_type = payload_type
        self.frames: list[bytes] = []
        self.skipped = 0

    def send_frame(self, payload: bytes, *, marker: bool = False, samples: int | None = None) -> None:
        self.frames.append(payload)

    def skip(self, samples: int) -> None:
        self.skipped += samples

    def level(self) -> int:
        """The mean sample value of the last frame received (the test parties send constant levels)."""
        pcm = (ulaw_decode if self.payload_type == 0 else alaw_decode)(self.frames[-1])
        samples = array("h", pcm)
        return sum(samples) // len(samples)


def constant(value: int, payload_type: int = 0) -> bytes:
    pcm = array("h", [value] * 160).tobytes()
    return (ulaw_encode if payload_type == 0 else alaw_encode)(pcm)


def run(mixer: ConferenceMixer, clock: VirtualMediaClock, levels: dict[str, int], sinks: dict[str, Sink]) -> None:
    """Every party sends its constant level for a few ticks (past the jitter buffers' prefetch)."""
    for _ in range(5):
        seq = clock.tick_count
        for party, value in levels.items():
            pt = sinks[party].payload_type
            mixer.put(party, RtpPacket(pt, seq, 160 * seq, hash(party) & 0xFFFF, constant(value, pt)))
        clock.advance()


def conference(*parties: tuple[str, int]) -> tuple[ConferenceMixer, VirtualMediaClock, dict[str, Sink]]:
    clock = VirtualMediaClock()
    mixer = ConferenceMixer(clock)
    sinks = {name: Sink(pt) for name, pt in parties}
    for name, sink in sinks.items():
        mixer.add(name, sink)
    mixer.start()
    return mixer, clock, sinks


def near(actual: int, expected: int) -> bool:
    return abs(actual - expected) <= max(40, abs(expected) // 25)  # G.711 quantisation, twice


def test_each_party_hears_the_others_and_not_themselves() -> None:
    mixer, clock, sinks = conference(("a", 0), ("b", 8), ("c", 0))
    run(mixer, clock, {"a": 1000, "b": 2000, "c": 4000}, sinks)
    assert near(sinks["a"].level(), 6000)
    assert near(sinks["b"].level(), 5000)  # in A-law: each output uses its own codec
    assert near(sinks["c"].level(), 3000)
    assert all(len(s.frames) == 5 for s in sinks.values())


def test_a_listener_hears_everyone_and_is_heard_by_no_one() -> None:
    mixer, clock, sinks = conference(("a", 0), ("b", 0), ("c", 0), ("sup", 0))
    mixer.set_role("sup", Role.LISTEN)
    run(mixer, clock, {"a": 1000, "b": 2000, "c": 4000, "sup": 8000}, sinks)
    assert near(sinks["sup"].level(), 7000)
    assert [near(sinks[p].level(), v) for p, v in (("a", 6000), ("b", 5000), ("c", 3000))] == [True] * 3


def test_a_whisper_is_heard_only_by_its_target() -> None:
    mixer, clock, sinks = conference(("caller", 0), ("agent", 0), ("sup", 0))
    mixer.set_role("sup", Role.WHISPER, whisper_to="agent")
    run(mixer, clock, {"caller": 1000, "agent": 2000, "sup": 4000}, sinks)
    assert near(sinks["agent"].level(), 5000)
    assert near(sinks["caller"].level(), 2000)
    assert near(sinks["sup"].level(), 3000)
    mixer.set_role("sup", Role.BARGE)
    run(mixer, clock, {"caller": 1000, "agent": 2000, "sup": 4000}, sinks)
    assert near(sinks["caller"].level(), 6000)


def test_saturation_clamps_without_leaking_a_party_back() -> None:
    mixer, clock, sinks = conference(("a", 0), ("b", 0), ("c", 0))
    run(mixer, clock, {"a": 30000, "b": 30000, "c": -30000}, sinks)
    assert near(sinks["a"].level(), 0) and near(sinks["b"].level(), 0)
    assert sinks["c"].level() > 30000  # 60000 clamped to 32767, not wrapped to a negative value
    assert mixer.counters.clipped > 0


def test_silence_and_missed_ticks() -> None:
    mixer, clock, sinks = conference(("a", 0), ("b", 0), ("c", 8))
    clock.advance()
    clock.skip(3)
    clock.advance()
    assert [sinks[p].level() for p in "abc"] == [0, 0, 8]  # A-law has no zero code: silence decodes to 8
    assert all(s.skipped == 3 * 160 for s in sinks.values())
    assert mixer.counters.encodes == 4  # one shared silent mix per codec per tick
    mixer.stop()
    clock.advance()
    assert len(sinks["a"].frames) == 2


def test_roles_are_checked() -> None:
    mixer, _, sinks = conference(("a", 0), ("b", 0))
    with pytest.raises(ValueError, match="target"):
        mixer.set_role("a", Role.WHISPER)
    with pytest.raises(ValueError, match="themselves"):
        mixer.set_role("a", Role.WHISPER, whisper_to="a")
    with pytest.raises(ValueError, match="already"):
        mixer.add("a", sinks["a"])
    with pytest.raises(ValueError, match=r"payload type 18 is not PCMU, PCMA or G\.722"):
        mixer.add("d", Sink(18))
    mixer.put("a", RtpPacket(18, 0, 0, 1, b"\x00" * 20))  # G.729: not decoded
    mixer.put("nobody", RtpPacket(0, 0, 0, 1, b"\x00" * 160))
    mixer.remove("b")
    assert [p.id for p in mixer.participants] == ["a"] and mixer.participants[0].unsupported == 1


def tone(freq: float, tick: int) -> bytes:
    """The 20 ms of a continuous sine (amplitude 4000) at media-clock tick `tick`."""
    return array(
        "h", (round(4000 * math.sin(2 * math.pi * freq * (160 * tick + i) / 8000)) for i in range(160))
    ).tobytes()


def test_g722_parties_are_decoded_and_each_gets_its_own_encoded_mix() -> None:
    mixer, clock, sinks = conference(("phone", 9), ("caller", 8), ("sup", 9), ("sup2", 9))
    mixer.set_role("sup", Role.LISTEN)
    mixer.set_role("sup2", Role.LISTEN)
    phone_encode = codec(G722).encoder()  # the G.722 phone's
    for tick in range(30):
        mixer.put("phone", RtpPacket(9, tick, 160 * tick, 1, phone_encode(tone(440, tick))))
        mixer.put("caller", RtpPacket(8, tick, 160 * tick, 2, alaw_encode(tone(1000, tick))))
        clock.advance()
    heard = {}
    for name in ("phone", "sup"):
        decode = codec(G722).decoder()  # each phone decodes its own stream from its start
        heard[name] = b"".join(decode(f) for f in sinks[name].frames)[320 * 10 :]
    caller = b"".join(alaw_decode(f) for f in sinks["caller"].frames)[320 * 10 :]
    assert level_at(heard["phone"], 1000) > 3000 and level_at(heard["phone"], 440) < 200
    assert level_at(caller, 440) > 3000 and level_at(caller, 1000) < 200
    assert level_at(heard["sup"], 440) > 3000 and level_at(heard["sup"], 1000) > 3000
    # The two listeners hear the same mix, yet each G.722 stream is encoded by its own encoder.
    assert mixer.counters.encodes == 4 * 30
