"""A waiting task's position in line and its estimated wait time (EWT), for "you are number 3 in line".

The engine records each completed task's handle time (acceptance to completion: talk and wrap-up) in
`HandleTimes`, three numbers per queue and channel. An estimate is computed only when asked, from the
waiting lists, the staffed agents' reservations and those handle times; nothing here runs on dispatch.

The method (docs/routing.md, "Position and estimated wait"): a caller at position p is answered when p
slots of the agents staffed for its step have freed up. Each busy slot frees after its task's expected
remaining handle time given how long it has been handled so far (the mean residual life of a lognormal
fitted to the queue's recent handle times; the exact time left of a timed wrap-up), then once per mean
handle time. The estimate is when the expected number of freed slots reaches p - 1/2: about the median
wait. With memoryless handle times and every slot busy it is (p - 1/2) / slots * mean handle time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from callboard.routing.model import Reservation, ReservationStatus, Task, TaskStatus, Worker

if TYPE_CHECKING:
    from callboard.routing.offers import Offers

# The newest handle time's weight in the moving moments once a queue has had `1 / WEIGHT` of them: about
# the last hundred tasks count (a window of 200 measured a little better on a steady trace, 50 worse).
WEIGHT = 0.01
# Below this many handle times the shape is not known: the elapsed time is not used (memoryless).
MIN_SHAPE_SAMPLES = 10
PRECISION = 0.1  # seconds: a caller is told minutes
_SQRT2 = math.sqrt(2.0)


@dataclass(frozen=True, slots=True)
class WaitEstimate:
    """Where a waiting task stands: its place in line and, when there is a basis for it, the estimated wait."""

    task_sid: str
    queue_sid: str
    channel: str
    position: int  # 1-based: 1 + the tasks ahead of it on its queue's list for its channel
    seconds: float | None  # until an agent accepts it (about the median); None: no handle time yet, nobody staffed
    staffed: int  # agents its step can go to that are in an available activity or busy on its channel


class HandleStats:
    """Moving mean and mean square of one queue's handle times on one channel."""

    __slots__ = ("count", "mean", "mean_square")

    def __init__(self) -> None:
        self.count = 0
        self.mean = 0.0
        self.mean_square = 0.0

    def cv2(self) -> float:
        """The squared coefficient of variation (variance / mean squared); 1, as memoryless, until known."""
        if self.count < MIN_SHAPE_SAMPLES or self.mean <= 0:
            return 1.0
        return max(self.mean_square - self.mean * self.mean, 0.0) / (self.mean * self.mean)

    def residual(self, elapsed: float) -> float:
        """The expected handle time left of a task handled for `elapsed` seconds so far.

        Handle times are taken to be lognormal (as measured in call centers: Brown et al., "Statistical
        analysis of a telephone call center", JASA 2005), fitted by their mean and variance so that the
        mean is kept whatever the true shape. Its mean residual life falls as a call goes on, then rises
        for the rare very long call: a call well past the usual length may go on for a while.
        """
        mean = self.mean
        if elapsed <= 0 or mean <= 0 or self.count < MIN_SHAPE_SAMPLES:
            return mean
        variance = self.mean_square - mean * mean
        if variance <= 0:
            return max(mean - elapsed, 0.0)
        sigma2 = math.log1p(variance / (mean * mean))
        sigma = math.sqrt(sigma2)
        mu = math.log(mean) - sigma2 / 2
        z = (math.log(elapsed) - mu) / sigma
        survival = math.erfc(z / _SQRT2)
        if survival < 1e-300 or z - sigma > 30:
            # Both tails vanish: their ratio by Mills' ratio, E[X | X > a] ~ a * z / (z - sigma).
            return elapsed * sigma / (z - sigma)
        beyond = mean * math.erfc((z - sigma) / _SQRT2) / survival  # E[X | X > elapsed]
        return max(beyond - elapsed, 0.0)


class HandleTimes:
    """Recent handle times per (queue, channel); `record` is one dict lookup and a few multiplications."""

    def __init__(self) -> None:
        self._stats: dict[tuple[str | None, str], HandleStats] = {}

    def record(self, queue_sid: str | None, channel: str, seconds: float) -> None:
        # Runs in every complete_reservation: one call, the arithmetic inline (half the time of a second call).
        key = (queue_sid, channel)
        stats = self._stats.get(key)
        if stats is None:
            stats = self._stats[key] = HandleStats()
        count = stats.count = stats.count + 1
        # A plain average until the window is full, so the first figures are not pulled towards zero.
        weight = WEIGHT if count * WEIGHT > 1.0 else 1.0 / count
        stats.mean += weight * (seconds - stats.mean)
        stats.mean_square += weight * (seconds * seconds - stats.mean_square)

    def get(self, queue_sid: str | None, channel: str) -> HandleStats | None:
        return self._stats.get((queue_sid, channel))


def estimated_wait(position: int, remaining: Sequence[float], mean_handle: float, cv2: float = 1.0) -> float:
    """Seconds until `position` slots have freed up, from each slot's expected time left (0: free now).

    Slot i frees first after a time R_i of mean `remaining[i]`, then once for each further task it takes:
    by time t it has freed m_i(t) = P(R_i <= t) + E[U(t - R_i)] times, where U is the renewal function of
    the handle times (mean H, squared coefficient of variation cv2), taken as its asymptote
    U(s) = s / H + (cv2 - 1) / 2 (Cox, "Renewal Theory", 1962), floored at 0. R_i is a shifted exponential
    whose coefficient of variation is the handle times' (at most 1): exact for a timed wrap-up's last
    seconds (cv2 0 gives a fixed time), memoryless for cv2 1.

    The answer is the t where the sum of the m_i reaches position - 1/2: the median of the time of the
    p-th departure when the number of departures by t is about normal (a continuity correction). It is
    exact for fixed handle times; for memoryless ones it is (position - 1/2) * H / slots, a little below
    the median, where position * H / slots is the mean. The median is what a caller should be told: half
    wait less and half longer, and it has the least mean absolute error.
    """
    if not remaining:
        raise ValueError("an estimate needs at least one slot")
    free = sum(1 for r in remaining if r <= 0)
    if mean_handle <= 0 or position <= free:
        return 0.0
    busy = sorted(r for r in remaining if r > 0)  # sorted: the same sum whatever order the slots came in
    target = position - 0.5
    inverse = 1.0 / mean_handle
    # Below cv2 1, U(s) stays 0 until s reaches `lag`; above it, U starts at (cv2 - 1) / 2, counted with the
    # first freeing (`first`).
    lag = max(0.0, (1.0 - cv2) / 2) * mean_handle
    first = 1.0 + max(0.0, (cv2 - 1.0) / 2)
    spread = min(1.0, math.sqrt(max(cv2, 0.0)))

    def freed(t: float) -> float:
        s = t - lag
        total = free * (first + max(s, 0.0) * inverse)
        for r in busy:
            shift, scale = r * (1.0 - spread), r * spread
            if t > shift:  # P(R_i <= t)
                total += first * (-math.expm1((shift - t) / scale) if scale > 0 else 1.0)
            if s > shift:  # E[(s - R_i)+] / H
                total += (s - shift + (scale * math.expm1((shift - s) / scale) if scale > 0 else 0.0)) * inverse
        return total

    # Slot i frees at least (t - lag - r_i) / H times by t, so the answer is at most `high`.
    low, high = 0.0, (position * mean_handle + sum(busy)) / len(remaining) + lag
    while high - low > PRECISION:
        middle = (low + high) / 2
        if freed(middle) < target:
            low = middle
        else:
            high = middle
    return high


def estimate(engine: Offers, task: Task) -> WaitEstimate | None:
    """The task's position and estimated wait in its current step; None unless it waits with no offer ringing."""
    queue_sid = task.queue_sid
    if task.status is not TaskStatus.PENDING or queue_sid is None:
        return None
    now = engine.clock.now()
    stats = engine.handle_times.get(queue_sid, task.channel)
    remaining: list[float] = []
    staffed = 0
    for worker in _step_workers(engine, task):
        channel = worker.channels.get(task.channel)
        if channel is None or not channel.available or channel.capacity <= 0:
            continue
        available = engine.activities[worker.activity_sid].available
        if not available and channel.used == 0:
            continue  # offline, on a break: not staffed
        if worker.sid in task.excluded_workers or not _passes(task, worker):
            continue
        staffed += 1
        for res_sid in worker.reservations:
            res = engine.reservations[res_sid]
            if res.channel == task.channel:
                remaining.append(_time_left(engine, res, stats, now))
        if available and channel.used < channel.capacity:
            remaining.extend([0.0] * (channel.capacity - channel.used))
    position = engine.position(task)
    seconds = None
    if stats is not None and remaining:
        seconds = estimated_wait(position, remaining, stats.mean, stats.cv2())
    return WaitEstimate(task.sid, queue_sid, task.channel, position, seconds, staffed)


def _step_workers(engine: Offers, task: Task) -> Iterable[Worker]:
    if task.known_worker_sid is not None:
        known = engine.workers.get(task.known_worker_sid)
        return () if known is None else (known,)
    return engine.membership.members(task.queue_sid or "").listed()


def _passes(task: Task, worker: Worker) -> bool:
    if task.target_expression is None:
        return True
    return task.target_expression.predicate({"task": task.attributes, "worker": worker.attributes})


def _time_left(engine: Offers, res: Reservation, fallback: HandleStats | None, now: float) -> float:
    """How long a slot stays busy with this reservation, expected from its state and its queue's handle times."""
    if res.status is ReservationStatus.WRAPPING and res.wrapup_deadline is not None:
        return max(res.wrapup_deadline - now, 0.0)
    stats = engine.handle_times.get(res.queue_sid, res.channel) or fallback
    if stats is None:
        return 0.0
    if res.status is ReservationStatus.PENDING or res.date_accepted is None:
        return stats.mean
    return stats.residual(now - res.date_accepted)
