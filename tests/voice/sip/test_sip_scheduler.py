"""The virtual and asyncio schedulers that drive transaction timers."""

from __future__ import annotations

import asyncio

import pytest

from callboard.core.clock import SystemClock
from callboard.voice.sip.scheduler import AsyncioScheduler, VirtualScheduler


def test_virtual_scheduler_fires_in_time_then_insertion_order_and_moves_the_clock() -> None:
    scheduler = VirtualScheduler()
    start = scheduler.now()
    fired: list[tuple[str, float]] = []
    scheduler.call_at(start + 2, lambda: fired.append(("b", scheduler.now() - start)))
    scheduler.call_at(start + 1, lambda: fired.append(("a1", scheduler.now() - start)))
    scheduler.call_at(start + 1, lambda: fired.append(("a2", scheduler.now() - start)))
    assert scheduler.advance(1.5) == 2
    assert fired == [("a1", 1.0), ("a2", 1.0)]
    assert scheduler.now() == start + 1.5
    scheduler.advance(1)
    assert fired[-1] == ("b", 2.0)


def test_virtual_scheduler_runs_callbacks_scheduled_by_callbacks_and_honours_cancel() -> None:
    scheduler = VirtualScheduler()
    fired: list[float] = []

    def tick() -> None:
        fired.append(scheduler.now())
        if len(fired) < 3:
            scheduler.call_later(1, tick)

    scheduler.call_later(1, tick)
    handle = scheduler.call_later(2.5, lambda: fired.append(-1))
    scheduler.cancel(handle)
    scheduler.advance(10)
    assert [t - fired[0] for t in fired] == [0, 1, 2]
    assert scheduler.pending == 0
    with pytest.raises(ValueError):
        scheduler.advance(-1)


def test_run_until_idle() -> None:
    scheduler = VirtualScheduler()
    fired: list[int] = []
    scheduler.call_later(5, lambda: fired.append(1))
    scheduler.call_later(0, lambda: fired.append(0))
    assert scheduler.run_until_idle() == 2
    assert fired == [0, 1]
    assert scheduler.next_deadline() is None


async def test_asyncio_scheduler_calls_back_on_the_loop() -> None:
    clock = SystemClock()
    scheduler = AsyncioScheduler(clock)
    done = asyncio.Event()
    cancelled: list[int] = []
    scheduler.call_at(clock.now() + 0.01, done.set)
    handle = scheduler.call_at(clock.now() + 0.005, lambda: cancelled.append(1))
    scheduler.cancel(handle)
    await asyncio.wait_for(done.wait(), 1)
    assert cancelled == []
