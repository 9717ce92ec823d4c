"""The shared media clock: sinks ticked in order, unregistering, a faulty sink, and a short real run."""

from __future__ import annotations

import asyncio

import pytest

from callboard.voice.media.clock import AsyncioMediaClock, VirtualMediaClock


class Sink:
    def __init__(self, name: str, log: list[tuple[str, int]]) -> None:
        self.name = name
        self.log = log

    def tick(self, n: int) -> None:
        self.log.append((self.name, n))


def test_virtual_clock_ticks_sinks_in_registration_order() -> None:
    log: list[tuple[str, int]] = []
    clock = VirtualMediaClock()
    a, b = Sink("a", log), Sink("b", log)
    clock.register(a)
    clock.register(b)
    clock.register(a)  # no double registration
    clock.advance(2)
    assert log == [("a", 1), ("b", 1), ("a", 2), ("b", 2)]
    clock.unregister(a)
    clock.unregister(a)
    clock.advance()
    assert log[-1] == ("b", 3) and len(log) == 5


def test_skip_advances_the_tick_index() -> None:
    log: list[tuple[str, int]] = []
    clock = VirtualMediaClock()
    clock.register(Sink("a", log))
    clock.advance()
    clock.skip(3)
    clock.advance()
    assert log == [("a", 1), ("a", 5)]
    assert clock.counters.skipped_ticks == 3 and clock.counters.ticks == 2


def test_a_sink_can_unregister_another_during_a_tick() -> None:
    log: list[tuple[str, int]] = []
    clock = VirtualMediaClock()
    b = Sink("b", log)

    class Remover:
        def tick(self, n: int) -> None:
            clock.unregister(b)

    clock.register(Remover())
    clock.register(b)
    clock.advance()
    assert log == []


def test_a_failing_sink_is_dropped_and_the_others_keep_ticking(caplog: pytest.LogCaptureFixture) -> None:
    log: list[tuple[str, int]] = []
    clock = VirtualMediaClock()

    class Broken:
        def tick(self, n: int) -> None:
            raise RuntimeError("boom")

    clock.register(Broken())
    clock.register(Sink("ok", log))
    clock.advance(2)
    assert log == [("ok", 1), ("ok", 2)]
    assert clock.counters.sink_errors == 1 and len(clock.sinks) == 1


async def test_real_clock_runs_one_task_for_many_sinks() -> None:
    clock = AsyncioMediaClock()
    done = asyncio.Event()
    counts = [0] * 50

    class Counter:
        def __init__(self, i: int) -> None:
            self.i = i

        def tick(self, n: int) -> None:
            counts[self.i] += 1
            if self.i == 0 and counts[0] >= 10:
                done.set()

    before = len(asyncio.all_tasks())
    for i in range(50):
        clock.register(Counter(i))
    clock.start()
    try:
        assert len(asyncio.all_tasks()) == before + 1  # one task for all sinks: no timer per call
        await asyncio.wait_for(done.wait(), timeout=10)
    finally:
        await clock.stop()
    assert len(asyncio.all_tasks()) == before
    assert counts[0] >= 10 and len(set(counts)) == 1  # every sink got every tick
    assert clock.counters.ticks == counts[0]
    assert clock.tick_count == clock.counters.ticks + clock.counters.skipped_ticks


async def test_real_clock_skips_ahead_when_far_behind() -> None:
    clock = AsyncioMediaClock(max_lag_ticks=2)
    seen: list[int] = []
    done = asyncio.Event()

    class Stall:
        def tick(self, n: int) -> None:
            seen.append(n)
            if len(seen) == 1:
                # Simulates a blocked loop; deliberately blocking and short (the machine is shared).
                import time

                time.sleep(0.2)
            elif len(seen) >= 3:
                done.set()

    clock.register(Stall())
    clock.start()
    try:
        await asyncio.wait_for(done.wait(), timeout=10)
    finally:
        await clock.stop()
    assert clock.counters.skipped_ticks > 0
    assert seen[1] - seen[0] > 1 and seen == sorted(seen)
