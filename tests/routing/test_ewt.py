"""A waiting task's position in line and estimated wait: the figures, the method, and its measured accuracy."""

from __future__ import annotations

import importlib.util
import itertools
import math
import sys
from pathlib import Path
from types import ModuleType

import hypothesis.strategies as st
import pytest
from builders import Center, build, workflow_config
from hypothesis import given, settings

from callboard.routing.ewt import MIN_SHAPE_SAMPLES, PRECISION, HandleStats, HandleTimes, estimated_wait
from callboard.routing.model import ReservationStatus, Task


def _benchmark() -> ModuleType:
    """benchmarks/ewt.py, the simulation whose figures docs/benchmarks.md quotes, loaded by its path."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "ewt.py"
    spec = importlib.util.spec_from_file_location("ewt_benchmark", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def handled(c: Center, seconds: float, times: int = 1, *, channel: str = "voice") -> None:
    """`times` tasks handled for `seconds` each by a worker of their own, so the queue has handle times."""
    for i in range(times):
        worker = c.add_worker(f"handler{len(c.ws.workers)}-{i}", voice=1, chat=3)
        c.create_task(channel=channel)
        res = c.assign(worker)
        c.advance(seconds)
        c.ws.complete_reservation(res.sid)
        c.ws.update_worker(worker.sid, activity_sid=c.activities["Offline"])


def position(c: Center, task: Task) -> int:
    estimate = c.ws.wait_estimate(task.sid)
    assert estimate is not None
    return estimate.position


# Position


def test_position_counts_the_tasks_ahead_by_priority_then_age() -> None:
    c = build()
    first = c.create_task()
    c.advance(1)
    second = c.create_task()
    c.advance(1)
    urgent = c.create_task(priority=5)
    assert [position(c, t) for t in (urgent, first, second)] == [1, 2, 3]
    c.ws.cancel_task(first.sid)
    assert [position(c, t) for t in (urgent, second)] == [1, 2]
    c.ws.update_task(second.sid, priority=9)
    assert [position(c, t) for t in (second, urgent)] == [1, 2]


def test_a_lifo_queue_puts_the_newest_task_first() -> None:
    c = build({"callbacks": {"target_workers": "1==1", "task_order": "lifo"}})
    older = c.create_task()
    c.advance(1)
    newer = c.create_task()
    assert [position(c, t) for t in (newer, older)] == [1, 2]


def test_tasks_of_another_channel_or_queue_are_not_ahead() -> None:
    c = build(
        {"sales": "1==1", "support": "1==1"},
        configuration=workflow_config([{"queue": "sales"}], default="support", expression="dept == 'sales'"),
    )
    c.create_task(channel="chat")
    c.create_task(dept="sales")
    voice = c.create_task()
    assert position(c, voice) == 1


@settings(max_examples=60, deadline=None)
@given(
    order=st.sampled_from(["fifo", "lifo"]),
    tasks=st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["voice", "chat"]), st.booleans()), max_size=25),
)
def test_positions_number_each_waiting_list_from_one_in_offer_order(
    order: str, tasks: list[tuple[int, str, bool]]
) -> None:
    c = build({"support": {"target_workers": "1==1", "task_order": order}})
    created = []
    for priority, channel, canceled in tasks:
        c.advance(1)
        task = c.create_task(priority=priority, channel=channel)
        created.append((task, canceled))
    for task, canceled in created:
        if canceled:
            c.ws.cancel_task(task.sid)
    in_order = list(c.ws.waiting_tasks(c.queues["support"].sid))  # offer order, one channel after the other
    for channel in ("voice", "chat"):
        line = [t for t in in_order if t.channel == channel]
        assert [position(c, t) for t in line] == list(range(1, len(line) + 1))


def test_a_task_for_a_known_worker_counts_the_tasks_waiting_for_that_worker() -> None:
    c = build(targets=[{"queue": "support", "known_worker_friendly_name": "task.agent"}])
    c.add_worker("ann", activity="Offline")
    c.create_task()  # not for ann: another line
    c.create_task(agent="ann")
    c.advance(1)
    mine = c.create_task(agent="ann")
    estimate = c.ws.wait_estimate(mine.sid)
    assert estimate is not None
    assert (estimate.position, estimate.staffed) == (2, 0)


def test_no_estimate_while_an_offer_rings_once_accepted_or_after_the_task_ended() -> None:
    c = build()
    alice = c.add_worker("alice")
    task = c.create_task()
    res = c.offer(alice)
    assert c.ws.wait_estimate(task.sid) is None  # ringing: the call is being put through
    c.ws.reject_reservation(res.sid, activity_sid=c.activities["Break"])
    c.set_activity(alice, "Available")
    back = c.ws.wait_estimate(task.sid)
    assert back is not None
    assert (back.position, back.seconds, back.staffed) == (1, None, 0)  # alice turned it down: not for her
    bob = c.add_worker("bob")
    accepted = c.assign(bob)
    assert c.ws.wait_estimate(task.sid) is None
    c.ws.complete_reservation(accepted.sid)
    assert task.sid not in c.ws.tasks
    assert c.ws.wait_estimate(task.sid) is None
    assert c.ws.wait_estimate("WTnone") is None


# Staffing and the estimate


def test_no_seconds_before_the_queue_has_a_handle_time_or_while_nobody_is_staffed() -> None:
    c = build()
    alice = c.add_worker("alice")
    c.create_task()
    first = c.assign(alice)
    task = c.create_task()
    estimate = c.ws.wait_estimate(task.sid)
    assert estimate is not None
    assert (estimate.position, estimate.seconds, estimate.staffed) == (1, None, 1)
    c.advance(100)
    c.ws.complete_reservation(first.sid)  # the first handle time
    c.assign(alice)
    later = c.create_task()
    c.set_activity(alice, "Break")  # busy, so still staffed until her task completes
    estimate = c.ws.wait_estimate(later.sid)
    assert estimate is not None
    # One handle time (100 s) does not tell its shape: memoryless, the median is about half of it.
    assert (estimate.seconds, estimate.staffed) == (pytest.approx(50, abs=PRECISION), 1)
    c.ws.complete_reservation(c.reservations(alice)[0].sid)
    estimate = c.ws.wait_estimate(later.sid)
    assert estimate is not None
    assert (estimate.position, estimate.seconds, estimate.staffed) == (1, None, 0)


def test_staffed_counts_the_agents_the_step_can_go_to_available_or_busy() -> None:
    c = build(targets=[{"queue": "support", "expression": "worker.level >= 3"}])
    senior = c.add_worker("senior", level=5)
    c.add_worker("junior", level=1)  # a member, but not for this step
    c.add_worker("away", level=5, activity="Break")
    c.create_task()
    c.assign(senior)
    c.add_worker("free", level=4, voice=0)  # available, but no voice capacity
    task = c.create_task()
    estimate = c.ws.wait_estimate(task.sid)
    assert estimate is not None
    assert estimate.staffed == 1


def test_with_few_handle_times_the_wait_is_position_less_a_half_over_agents_times_the_mean() -> None:
    c = build()
    handled(c, 90, times=2)
    handled(c, 120)  # mean 100 s; fewer than MIN_SHAPE_SAMPLES, so taken as memoryless
    agents = [c.add_worker(f"agent{i}") for i in range(2)]
    for agent in agents:
        c.create_task()
        c.assign(agent)
    c.advance(30)  # elapsed time does not count while the shape is unknown
    waiting = [c.create_task() for _ in range(3)]
    seconds = []
    for task in waiting:
        estimate = c.ws.wait_estimate(task.sid)
        assert estimate is not None
        seconds.append(estimate.seconds)
    assert seconds == [pytest.approx((p - 0.5) / 2 * 100, abs=PRECISION) for p in (1, 2, 3)]


def test_a_timed_wrap_up_counts_as_the_time_it_has_left() -> None:
    c = build({"support": {"target_workers": "1==1", "wrapup_seconds": 10}})
    handled(c, 100, times=MIN_SHAPE_SAMPLES)  # 100 s each from acceptance to completion
    alice = c.add_worker("alice")
    c.create_task()
    res = c.assign(alice)
    task = c.create_task()
    talking = c.ws.wait_estimate(task.sid)
    c.ws.wrapup_reservation(res.sid)
    c.advance(4)
    wrapping = c.ws.wait_estimate(task.sid)
    assert talking is not None and wrapping is not None
    assert talking.seconds == pytest.approx(100, abs=PRECISION)  # every handle time was 100 s
    assert wrapping.seconds == pytest.approx(6, abs=PRECISION)
    c.advance(6)
    assert c.reservations(alice)[0].task_sid == task.sid


def test_completing_a_task_records_its_handle_time_from_acceptance_talk_and_wrap_up() -> None:
    c = build()
    alice = c.add_worker("alice")
    task = c.create_task(channel="chat")
    c.advance(5)  # ringing does not count
    res = c.assign(alice)
    c.advance(40)
    c.ws.wrapup_reservation(res.sid)
    c.advance(20)
    c.ws.complete_reservation(res.sid)
    queue_sid = c.queues["support"].sid
    stats = c.ws.handle_times.get(queue_sid, "chat")
    assert stats is not None and task.queue_sid == queue_sid
    assert (stats.count, stats.mean) == (1, 60.0)
    assert c.ws.handle_times.get(queue_sid, "voice") is None
    assert res.status is ReservationStatus.COMPLETED


# The method


@pytest.mark.parametrize(("position", "slots"), [(1, 1), (3, 1), (1, 5), (7, 5), (40, 12)])
def test_memoryless_slots_free_at_their_mean_rate(position: int, slots: int) -> None:
    wait = estimated_wait(position, [200.0] * slots, 200.0)
    assert wait == pytest.approx((position - 0.5) / slots * 200, abs=PRECISION)


def test_fixed_handle_times_give_the_exact_wait() -> None:
    for p in range(1, 5):
        assert estimated_wait(p, [30.0], 90.0, cv2=0) == pytest.approx(30 + (p - 1) * 90, abs=PRECISION)
    # Three agents who free up at 10, 40 and 70 s, then every 90 s: 10, 40, 70, 100, 130, 160...; the
    # renewal function's asymptote is reached from the second round on (92.5 s for the fourth).
    waits = [estimated_wait(p, [10.0, 40.0, 70.0], 90.0, cv2=0) for p in range(1, 9)]
    exact = [10 + 30 * i for i in range(8)]
    assert waits == [pytest.approx(w, abs=PRECISION if i != 3 else 7.5 + PRECISION) for i, w in enumerate(exact)]


def test_free_slots_serve_at_once_and_later_positions_wait_longer() -> None:
    assert estimated_wait(2, [0.0, 0.0, 50.0], 100.0) == 0.0
    waits = [estimated_wait(p, [0.0, 30.0, 80.0], 100.0, cv2=0.4) for p in range(1, 12)]
    assert waits[0] == 0.0
    assert all(a < b for a, b in itertools.pairwise(waits))
    # In the long run each slot frees once per mean handle time, whatever the shape.
    for cv2 in (0.3, 1.0, 2.5):
        far = estimated_wait(300, [100.0] * 3, 100.0, cv2) - estimated_wait(150, [100.0] * 3, 100.0, cv2)
        assert far == pytest.approx(150 / 3 * 100, rel=0.01)


def _lognormal_residual(mean: float, sigma: float, elapsed: float) -> float:
    """E[X - a | X > a] for a lognormal of this mean and log-sigma: the survival function integrated past a
    (midpoint rule on a log scale, far into the tail)."""
    mu = math.log(mean) - sigma**2 / 2

    def survival(x: float) -> float:
        return 0.5 * math.erfc((math.log(x) - mu) / sigma / math.sqrt(2))

    steps, span = 20_000, 12.0
    du = span / steps
    area = 0.0
    for i in range(steps):
        x = elapsed * math.exp((i + 0.5) * du)
        area += survival(x) * x * du
    return area / survival(elapsed)


@pytest.mark.parametrize("sigma", [0.4, 0.8, 1.2])
def test_the_time_left_of_a_call_is_the_lognormal_mean_residual_life(sigma: float) -> None:
    stats = HandleStats()
    stats.count, stats.mean = 1000, 180.0
    stats.mean_square = 180.0**2 * math.exp(sigma**2)  # a lognormal's second moment
    assert stats.cv2() == pytest.approx(math.exp(sigma**2) - 1)
    assert stats.residual(0) == 180.0
    for elapsed in (30.0, 180.0, 600.0, 1800.0):
        assert stats.residual(elapsed) == pytest.approx(_lognormal_residual(180.0, sigma, elapsed), rel=0.01)


def test_until_the_shape_is_known_the_time_left_is_the_mean() -> None:
    times = HandleTimes()
    for seconds in (60.0, 240.0):
        times.record("WQ1", "voice", seconds)
    stats = times.get("WQ1", "voice")
    assert stats is not None and times.get("WQ1", "chat") is None
    assert (stats.mean, stats.cv2(), stats.residual(100.0)) == (150.0, 1.0, 150.0)


def test_recent_handle_times_weigh_the_most_once_a_hundred_are_in() -> None:
    times = HandleTimes()
    for _ in range(100):
        times.record(None, "voice", 100.0)
    for _ in range(100):
        times.record(None, "voice", 300.0)
    stats = times.get(None, "voice")
    assert stats is not None
    assert stats.mean == pytest.approx(300 - 200 * 0.99**100, rel=1e-9)  # 226.8 s: the old ones fade


# Accuracy, measured


def test_the_estimate_beats_asterisks_hold_time_and_the_plain_formulas_on_the_same_trace() -> None:
    bench = _benchmark()
    trace = bench.simulate(bench.SCENARIOS[0])  # lognormal talk, 5 agents, load 0.9, 4,000 calls
    mean = trace.mean_wait()
    assert len(trace.measured()) > 2000 and mean > 60
    engine, half, naive, asterisk = (trace.mae(m) for m in ("engine", "half", "naive", "asterisk"))
    assert engine < half < naive < asterisk  # 45.7, 48.4, 50.7 and 96.6 s (docs/benchmarks.md)
    assert engine < 0.25 * mean  # 19% of the mean wait
    assert abs(trace.bias("engine")) < 0.05 * mean


def test_the_simulation_is_deterministic() -> None:
    bench = _benchmark()
    scenario = bench.Scenario("small", calls=300, seed=11)
    first, second = bench.simulate(scenario), bench.simulate(scenario)
    assert [(c.position, c.engine, c.wait) for c in first.callers] == [
        (c.position, c.engine, c.wait) for c in second.callers
    ]
    assert first.callers
