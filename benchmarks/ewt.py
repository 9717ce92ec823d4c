"""Accuracy of the estimated wait (EWT): the engine's estimate against the wait callers actually had.

    .venv/bin/python benchmarks/ewt.py              # the four scenarios of docs/benchmarks.md, about 3 s
    .venv/bin/python benchmarks/ewt.py --calls 20000 --seed 7
    .venv/bin/python benchmarks/ewt.py --best 4             # and the best possible estimate, a few minutes

One queue, a few agents, Poisson arrivals and random handle times (talk, then a timed wrap-up), on the
real engine and a virtual clock, for a few thousand calls from a fixed seed. Agents accept every offer at
once and stay Available. At each caller's entry, if no agent takes the call at once, four estimates are
kept: the engine's (`Workspace.wait_estimate`); position / N * H and (position - 1/2) / N * H, from the
same position, staffed agents N and mean handle time H but without the agents' elapsed handling time;
and Asterisk's (app_queue's queue hold time, a moving average of the waits of answered calls,
new = (3 * old + wait) / 4, announced as it is, whatever the caller's position). Each is compared with
the wait the caller then had (entry to acceptance). See docs/benchmarks.md, "Estimated wait accuracy".
"""

from __future__ import annotations

import argparse
import dataclasses
import heapq
import math
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from statistics import NormalDist

from callboard.core import events as ev
from callboard.core.clock import VirtualClock
from callboard.routing.model import ReservationStatus
from callboard.routing.workspace import Workspace

FUTURES = 200  # simulated futures per caller for the best possible estimate (--best)


@dataclass(frozen=True)
class Scenario:
    """One queue's traffic: arrivals per second from agents, load and handle times."""

    name: str
    agents: int = 5
    load: float = 0.9  # offered load per agent (arrival rate * mean handle time / agents)
    talk_mean: float = 180.0
    talk_shape: str = "lognormal"  # or "exponential"
    talk_sigma: float = 0.6  # of the talk time's logarithm (lognormal only)
    wrapup: float = 15.0
    calls: int = 4000
    seed: int = 1

    @property
    def mean_handle(self) -> float:
        return self.talk_mean + self.wrapup

    def talk(self, rng: random.Random) -> float:
        if self.talk_shape == "exponential":
            return rng.expovariate(1.0 / self.talk_mean)
        mu = math.log(self.talk_mean) - self.talk_sigma**2 / 2
        return rng.lognormvariate(mu, self.talk_sigma)

    def talk_left(self, rng: random.Random, elapsed: float) -> float:
        """The rest of a talk time drawn on condition that it is longer than `elapsed` (inverse transform)."""
        if self.talk_shape == "exponential" or elapsed <= 0:
            return self.talk(rng)
        normal = NormalDist(math.log(self.talk_mean) - self.talk_sigma**2 / 2, self.talk_sigma)
        below = normal.cdf(math.log(elapsed))
        u = min(below + (1.0 - below) * rng.random(), 1.0 - 1e-16)
        return max(math.exp(normal.inv_cdf(u)) - elapsed, 0.0)


SCENARIOS = (
    Scenario("lognormal talk (sigma 0.6), 5 agents, load 0.9"),
    Scenario("lognormal talk (sigma 1.0), 5 agents, load 0.9", talk_sigma=1.0, seed=2),
    Scenario("exponential talk, 5 agents, load 0.9", talk_shape="exponential", seed=3),
    Scenario("lognormal talk (sigma 0.6), 12 agents, load 0.95", agents=12, load=0.95, seed=4),
)


@dataclass
class Caller:
    """One caller who had to wait: what each method told them on entry, and how long they waited."""

    position: int
    staffed: int
    engine: float | None
    naive: float | None  # position / N * H
    half: float | None  # (position - 1/2) / N * H
    asterisk: float
    best: float | None = None  # the best possible estimate (--best), for some callers
    wait: float = math.nan


@dataclass
class Trace:
    scenario: Scenario
    callers: list[Caller] = field(default_factory=list)
    answered_at_once: int = 0
    estimate_ns: list[int] = field(default_factory=list)  # CPU time of `wait_estimate` for each caller who waited

    def measured(self) -> list[Caller]:
        """Callers who waited and for whom the engine had a basis (its first completions came before)."""
        return [c for c in self.callers if c.engine is not None and c.naive is not None and not math.isnan(c.wait)]

    def mae(self, method: str) -> float:
        """Mean absolute error of a method's estimates ("engine", "naive", "half", "asterisk"), in seconds."""
        callers = self.measured()
        return sum(abs(getattr(c, method) - c.wait) for c in callers) / len(callers)

    def bias(self, method: str) -> float:
        """Mean signed error: above 0, the method promised longer waits than callers had."""
        callers = self.measured()
        return sum(getattr(c, method) - c.wait for c in callers) / len(callers)

    def mean_wait(self) -> float:
        callers = self.measured()
        return sum(c.wait for c in callers) / len(callers)

    def best_mae(self) -> tuple[int, float, float]:
        """Over the callers with a best possible estimate: their number, its MAE and the engine's."""
        callers = [c for c in self.measured() if c.best is not None]
        n = len(callers)
        return n, sum(abs(c.best - c.wait) for c in callers) / n, sum(abs(c.engine - c.wait) for c in callers) / n


def best_possible(scenario: Scenario, ws: Workspace, position: int, rng: random.Random) -> float:
    """The median wait over simulated futures that know the true talk-time distribution, how long each call
    in progress has gone on, and the end of each wrap-up: what no estimate from the engine's state can beat
    by much (only the future's randomness is left)."""
    now = ws.clock.now()
    slots = [
        (res.wrapup_deadline - now if res.wrapup_deadline is not None else 0.0, None)
        if res.status is ReservationStatus.WRAPPING
        else (0.0, now - (res.date_accepted or now))
        for res in ws.reservations.values()
    ]
    outcomes = []
    for _ in range(FUTURES):
        frees = [
            left if elapsed is None else scenario.talk_left(rng, elapsed) + scenario.wrapup for left, elapsed in slots
        ]
        heapq.heapify(frees)
        for _ in range(position - 1):
            heapq.heappush(frees, heapq.heappop(frees) + scenario.talk(rng) + scenario.wrapup)
        outcomes.append(frees[0])
    return statistics.median(outcomes)


def simulate(scenario: Scenario, *, best_every: int = 0) -> Trace:
    """Run the scenario's calls through a real engine on a virtual clock; deterministic for a seed.

    With `best_every` n, every n-th caller who waits also gets the best possible estimate (slow).
    """
    rng = random.Random(scenario.seed)
    futures = random.Random(scenario.seed + 1_000_000)  # its own draws: the trace stays the same
    clock = VirtualClock()
    ws = Workspace(clock, seed=scenario.seed)
    ws.add_activity("Offline", False)
    available = ws.add_activity("Available", True)
    ws.add_channel("voice", capacity=1)
    queue = ws.add_queue("support", wrapup_seconds=scenario.wrapup)
    workflow = ws.add_workflow("inbound", {"task_routing": {"default_filter": {"queue": "support"}}})
    for i in range(scenario.agents):
        ws.add_worker(f"agent{i}", activity_sid=available.sid)
    rate = scenario.load * scenario.agents / scenario.mean_handle
    trace = Trace(scenario)
    waiting: dict[str, Caller] = {}
    talk_ends: list[tuple[float, str]] = []  # (when, reservation sid)
    holdtime = 0.0  # Asterisk's queue hold time
    next_arrival = clock.now() + rng.expovariate(rate)
    arrived = 0

    def settle() -> None:
        """Agents accept every offer at once; record waits and Asterisk's hold time as calls are answered."""
        nonlocal holdtime
        while events := ws.drain_events():
            for event in events:
                if event.name == ev.RESERVATION_CREATED:
                    ws.accept_reservation(event.resource_sid)
                elif event.name == ev.RESERVATION_ACCEPTED:
                    wait = event.data["task_age"]
                    holdtime = (3 * holdtime + wait) / 4
                    caller = waiting.pop(event.data["task_sid"], None)
                    if caller is not None:
                        caller.wait = wait
                    heapq.heappush(talk_ends, (clock.now() + scenario.talk(rng), event.resource_sid))

    while arrived < scenario.calls or waiting or talk_ends:
        deadline = ws.next_deadline()
        candidates = [t for t in (next_arrival if arrived < scenario.calls else None, deadline) if t is not None]
        if talk_ends:
            candidates.append(talk_ends[0][0])
        if not candidates:
            break
        when = min(candidates)
        clock.set(max(when, clock.now()))
        if talk_ends and talk_ends[0][0] == when:
            ws.wrapup_reservation(heapq.heappop(talk_ends)[1])
        elif deadline == when:
            ws.tick()
        else:
            arrived += 1
            next_arrival = when + rng.expovariate(rate)
            task = ws.create_task(workflow.sid, channel="voice")
            settle()
            started = time.thread_time_ns()
            estimate = ws.wait_estimate(task.sid)
            spent = time.thread_time_ns() - started
            if estimate is None:
                trace.answered_at_once += 1
                continue
            trace.estimate_ns.append(spent)
            stats = ws.handle_times.get(queue.sid, "voice")
            naive = half = None
            if stats is not None and estimate.staffed:
                naive = estimate.position / estimate.staffed * stats.mean
                half = (estimate.position - 0.5) / estimate.staffed * stats.mean
            caller = Caller(estimate.position, estimate.staffed, estimate.seconds, naive, half, holdtime)
            if best_every and len(trace.callers) % best_every == 0:
                caller.best = best_possible(scenario, ws, estimate.position, futures)
            waiting[task.sid] = caller
            trace.callers.append(caller)
        settle()
    return trace


METHODS = (
    ("engine", "engine"),
    ("naive", "position/N*H"),
    ("half", "(position-1/2)/N*H"),
    ("asterisk", "asterisk"),
)


def report(traces: list[Trace]) -> str:
    lines = [
        "Estimated wait accuracy: over the callers who waited, the mean absolute error of each method's estimate",
        "(seconds, and % of the mean wait) and its mean signed error (+: promised longer than the wait)",
        "",
        f"{'scenario':<50} {'callers':>7} {'wait':>6}" + "".join(f"  {title:>18}" for _, title in METHODS),
    ]
    for trace in traces:
        mean = trace.mean_wait()
        cells = []
        for method, _ in METHODS:
            mae = trace.mae(method)
            cells.append(f"{mae:5.1f} {100 * mae / mean:3.0f}% {trace.bias(method):+6.1f}")
        lines.append(
            f"{trace.scenario.name:<50} {len(trace.measured()):>7} {mean:>5.0f}s" + "".join(f"  {c:>18}" for c in cells)
        )
    if any(c.best is not None for trace in traces for c in trace.callers):
        lines += [
            "",
            f"best possible: the median of {FUTURES} futures that know the talk times' distribution and the calls",
        ]
        lines += ["in progress; mean absolute error on the callers who have it, and the engine's on the same callers"]
        for trace in traces:
            n, best, engine = trace.best_mae()
            lines.append(f"{trace.scenario.name:<50} {n:>7}  best {best:5.1f}  engine {engine:5.1f}")
    ns = sorted(n for trace in traces for n in trace.estimate_ns)
    lines += [
        "",
        f"cost of wait_estimate: median {ns[len(ns) // 2] / 1000:.0f} us, p99 {ns[len(ns) * 99 // 100] / 1000:.0f} us "
        f"CPU time over the {len(ns):,} callers who waited (this machine)",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=None, help="calls per scenario (default: each scenario's)")
    parser.add_argument("--seed", type=int, default=None, help="one seed for every scenario (default: each one's)")
    parser.add_argument(
        "--best", type=int, default=0, metavar="N", help="the best possible estimate for every N-th caller (slow)"
    )
    args = parser.parse_args(argv)
    changes: dict[str, int] = {}
    if args.calls is not None:
        changes["calls"] = args.calls
    if args.seed is not None:
        changes["seed"] = args.seed
    scenarios = [dataclasses.replace(s, **changes) for s in SCENARIOS]  # type: ignore[arg-type]
    print(report([simulate(s, best_every=args.best) for s in scenarios]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
