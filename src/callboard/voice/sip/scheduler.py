"""Timer scheduling for the SIP stack: a port, a virtual-time implementation and an asyncio one.

Transactions never sleep or start asyncio timers of their own; they ask a `Scheduler` to call them back at a
clock time, so the same code runs on virtual time in tests and the simulator and on the event loop in production.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from callboard.core.clock import Clock, VirtualClock

__all__ = ["AsyncioScheduler", "Scheduler", "TimerHandle", "VirtualScheduler"]


class TimerHandle(Protocol):
    """What `call_at` returns; only `cancel` is promised."""

    def cancel(self) -> None: ...


class Scheduler(Protocol):
    """Calls `callback(*args)` once at clock time `when` (seconds, the same scale as `Clock.now()`).

    Passing `args` rather than a closure keeps a timer to one bound method: a node holds thousands of timers
    (transactions wait out 64*T1), and every object in a closure is one more for the garbage collector to walk."""

    def call_at(self, when: float, callback: Callable[..., None], *args: object) -> TimerHandle: ...

    def cancel(self, handle: TimerHandle) -> None: ...


@dataclass(order=True)
class _VirtualTimer:
    when: float
    seq: int
    callback: Callable[..., None] = field(compare=False)
    args: tuple[object, ...] = field(default=(), compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class VirtualScheduler:
    """Virtual time: `advance(seconds)` moves its clock and fires the due callbacks in time order.

    Callbacks scheduled for the same instant fire in the order they were scheduled; callbacks scheduled by a
    callback fire within the same `advance` if they fall due before its end.
    """

    def __init__(self, clock: VirtualClock | None = None) -> None:
        self.clock = clock if clock is not None else VirtualClock()
        self._heap: list[_VirtualTimer] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self.clock.now()

    def call_at(self, when: float, callback: Callable[..., None], *args: object) -> TimerHandle:
        timer = _VirtualTimer(when, next(self._seq), callback, args)
        heapq.heappush(self._heap, timer)
        return timer

    def call_later(self, delay: float, callback: Callable[..., None], *args: object) -> TimerHandle:
        return self.call_at(self.clock.now() + delay, callback, *args)

    def cancel(self, handle: TimerHandle) -> None:
        handle.cancel()

    def advance(self, seconds: float) -> int:
        """Runs every callback due up to now + `seconds`; returns how many ran."""
        if seconds < 0:
            raise ValueError("virtual time does not go backwards")
        end = self.clock.now() + seconds
        fired = 0
        while self._heap and self._heap[0].when <= end:
            timer = heapq.heappop(self._heap)
            if timer.cancelled:
                continue
            if timer.when > self.clock.now():
                self.clock.set(timer.when)
            timer.callback(*timer.args)
            fired += 1
        self.clock.set(end)
        return fired

    def run_until_idle(self, limit: float = 3600.0) -> int:
        """Advances until nothing is pending (or `limit` seconds have passed); returns how many callbacks ran."""
        fired = 0
        start = self.clock.now()
        while (when := self.next_deadline()) is not None and when - start <= limit:
            fired += self.advance(max(0.0, when - self.clock.now()))
        return fired

    def next_deadline(self) -> float | None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0].when if self._heap else None

    @property
    def pending(self) -> int:
        return sum(1 for timer in self._heap if not timer.cancelled)


class AsyncioScheduler:
    """Production scheduling on an asyncio loop, mapping clock times onto the loop's monotonic time."""

    def __init__(self, clock: Clock, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._clock = clock
        self._loop = loop

    def _get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop if self._loop is not None else asyncio.get_running_loop()

    def call_at(self, when: float, callback: Callable[..., None], *args: object) -> TimerHandle:
        loop = self._get_loop()
        # The clock is wall time; the loop's is monotonic, so only the distance from now carries over.
        return loop.call_at(loop.time() + max(0.0, when - self._clock.now()), callback, *args)

    def cancel(self, handle: TimerHandle) -> None:
        handle.cancel()
