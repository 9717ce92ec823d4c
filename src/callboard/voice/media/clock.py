"""The one shared 20 ms media clock: a single task paces the media of every call (DESIGN "Key choices").

Every sink (a player, a jitter-buffer reader, a bridge) registers once and gets `tick(n)` each period, in
registration order; `n` is the tick index since the clock started, so a sink that sees `n` jump knows how many
periods went by without it (its RTP timestamps must jump too). There is no timer per call: 1,000 calls cost
one sleep every 20 ms, not 1,000.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

logger = logging.getLogger(__name__)

TICK_INTERVAL = 0.020
MAX_LAG_TICKS = 5


class MediaSink(Protocol):
    """Something paced by the media clock; `tick` must be quick and must not block."""

    def tick(self, n: int) -> None: ...


@dataclass(slots=True)
class MediaClockCounters:
    ticks: int = 0  # ticks delivered to the sinks
    late_ticks: int = 0  # ticks delivered back to back to catch up after a late wake-up
    skipped_ticks: int = 0  # ticks never delivered because the clock fell more than `max_lag_ticks` behind
    sink_errors: int = 0


class MediaClock:
    """The sink registry and tick fan-out shared by the asyncio clock and the virtual one."""

    def __init__(self, *, tick_interval: float = TICK_INTERVAL) -> None:
        self.tick_interval = tick_interval
        self.counters = MediaClockCounters()
        self._sinks: dict[MediaSink, None] = {}  # a dict keeps registration order and removes in O(1)
        self._n = 0

    @property
    def tick_count(self) -> int:
        """The index of the last tick delivered (skipped ticks included)."""
        return self._n

    @property
    def sinks(self) -> list[MediaSink]:
        return list(self._sinks)

    def register(self, sink: MediaSink) -> None:
        """Add a sink; it is ticked from the next tick on. Registering twice is a no-op."""
        self._sinks.setdefault(sink, None)

    def unregister(self, sink: MediaSink) -> None:
        """Remove a sink; safe to call from inside a `tick`, and for a sink that is not registered."""
        self._sinks.pop(sink, None)

    def _deliver(self, n: int) -> None:
        self._n = n
        self.counters.ticks += 1
        for sink in list(self._sinks):
            if sink not in self._sinks:
                continue  # unregistered by an earlier sink during this tick
            try:
                sink.tick(n)
            except Exception:
                # One broken sink must not stop the media of every other call; it is dropped, not retried
                # every 20 ms (which would flood the log).
                self.counters.sink_errors += 1
                self._sinks.pop(sink, None)
                logger.exception("media clock: sink %r failed at tick %d and was unregistered", sink, n)


class AsyncioMediaClock(MediaClock):
    """The production clock: one task sleeping to absolute deadlines `start + n * interval` on the loop's
    monotonic time, so lateness never accumulates. When a wake-up is late by up to `max_lag_ticks` periods the
    missed ticks are delivered back to back (catch-up); beyond that the clock skips ahead to the current period
    and counts the skipped ticks, because bursts of stale audio are worse than a gap."""

    def __init__(self, *, tick_interval: float = TICK_INTERVAL, max_lag_ticks: int = MAX_LAG_TICKS) -> None:
        super().__init__(tick_interval=tick_interval)
        self.max_lag_ticks = max_lag_ticks
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self.running:
            return
        self._task = asyncio.get_running_loop().create_task(self._run(), name="media-clock")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            # Swallow only the cancellation we asked for; re-raise when our own caller is being cancelled.
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        origin = loop.time() - self._n * self.tick_interval  # a restarted clock keeps counting from its last tick
        n = self._n
        while True:
            n += 1
            delay = origin + n * self.tick_interval - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                behind = int(-delay / self.tick_interval)
                if behind > self.max_lag_ticks:
                    n += behind
                    self.counters.skipped_ticks += behind
                else:
                    self.counters.late_ticks += 1
                await asyncio.sleep(0)  # let I/O in between catch-up ticks
            self._deliver(n)


class VirtualMediaClock(MediaClock):
    """A clock for tests and the simulator: ticks only when `advance` is called."""

    def advance(self, ticks: int = 1) -> None:
        for _ in range(ticks):
            self._deliver(self._n + 1)

    def skip(self, ticks: int) -> None:
        """Let `ticks` periods pass undelivered, as the real clock does when it falls too far behind."""
        self._n += ticks
        self.counters.skipped_ticks += ticks
