"""Step deadlines held back while a new task's first offers ring (`Workspace._hold_step`).

A task offered as it is created does not push its step deadline; when an offer ends unaccepted, the deadline
is pushed in the place it would have had, or, if it would have come due already, the step is marked expired
as firing it would have done. The examples pin down each case; the machine at the end drives two engines,
one holding step deadlines and one pushing them at once, with the same random operations, and checks that
they emit the same events and change the same objects.
"""

from __future__ import annotations

import itertools
from typing import Any

import hypothesis.strategies as st
from builders import Center, build
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from test_invariants import CONFIGURATION, QUEUES, TASK_ATTRIBUTES, WORKER

from callboard.core import events as ev
from callboard.core import ids
from callboard.routing.model import ReservationStatus, Task, TaskStatus

TIERS = {"tier1": "tier == 1", "tier2": "tier == 2", "overflow": "tier == 3"}


def tiers(reservation_timeout: float = 120.0) -> Center:
    """tier1 for 30 s, then tier2 for 30 s, then the default filter's overflow queue."""
    return build(
        TIERS,
        targets=[{"queue": "tier1", "timeout": 30}, {"queue": "tier2", "timeout": 30}],
        default="overflow",
        reservation_timeout=reservation_timeout,
    )


def step_deadlines(c: Center, task: Task) -> list[float]:
    return [d[0] for d in c.ws._timers._heap if d[2] == "step" and d[3] == task.sid]


def test_a_task_offered_as_it_is_created_pushes_no_step_deadline() -> None:
    c = tiers()
    one = c.add_worker("one", tier=1)
    task = c.create_task()
    assert task.status is TaskStatus.RESERVED and task.held_step is not None
    assert step_deadlines(c, task) == []
    c.assign(one)
    assert task.held_step is None
    c.advance(100)
    assert task.status is TaskStatus.ASSIGNED and c.queue_of(task) == "tier1"


def test_a_task_nobody_can_take_pushes_its_step_deadline_at_once() -> None:
    c = tiers()
    task = c.create_task()
    assert task.held_step is None
    assert step_deadlines(c, task) == [c.start + 30]


def test_a_rejected_first_offer_pushes_the_step_deadline_in_its_place() -> None:
    c = tiers()
    one = c.add_worker("one", tier=1)
    two = c.add_worker("two", tier=2)
    task = c.create_task()
    c.advance(10)
    c.ws.reject_reservation(c.offer(one).sid)
    assert step_deadlines(c, task) == [c.start + 30]
    c.advance(19.9)
    assert c.queue_of(task) == "tier1"
    c.advance(0.1)
    assert c.queue_of(task) == "tier2" and c.offered_tasks(two) == [task.sid]


def test_an_offer_rejected_after_a_tick_past_the_step_moves_the_task_at_once() -> None:
    c = tiers()
    one = c.add_worker("one", tier=1)
    two = c.add_worker("two", tier=2)
    task = c.create_task()
    c.advance(40)  # the step ended at 30 s while the offer rang
    assert c.queue_of(task) == "tier1"
    c.events()
    c.ws.reject_reservation(c.offer(one).sid)
    assert c.queue_of(task) == "tier2" and c.offered_tasks(two) == [task.sid]
    names = c.event_names()
    assert names.index(ev.RESERVATION_REJECTED) < names.index(ev.TASK_QUEUE_TIMEOUT)


def test_an_offer_rejected_past_the_step_but_before_a_tick_waits_for_the_tick() -> None:
    c = tiers()
    one = c.add_worker("one", tier=1)
    c.add_worker("two", tier=2)
    task = c.create_task()
    c.clock.advance(40)  # no tick: the step deadline has not fired
    c.ws.reject_reservation(c.offer(one).sid)
    assert c.queue_of(task) == "tier1" and task.status is TaskStatus.PENDING
    c.ws.tick()
    assert c.queue_of(task) == "tier2"


def test_a_reservation_timeout_before_the_step_ends_in_one_tick_keeps_the_order() -> None:
    c = tiers(reservation_timeout=20)
    one = c.add_worker("one", tier=1)
    two = c.add_worker("two", tier=2)
    task = c.create_task()
    c.events()
    c.advance(50)  # the offer times out at 20 s, the step ends at 30 s
    assert c.offers(one) == [] and c.activity_of(one) == "Missed"
    assert c.queue_of(task) == "tier2" and c.offered_tasks(two) == [task.sid]
    names = c.event_names()
    assert names.index(ev.RESERVATION_TIMEOUT) < names.index(ev.TASK_QUEUE_TIMEOUT)


def test_a_reservation_timeout_after_the_step_ended_moves_the_task() -> None:
    c = tiers(reservation_timeout=40)
    c.add_worker("one", tier=1)
    two = c.add_worker("two", tier=2)
    task = c.create_task()
    c.advance(35)
    assert c.queue_of(task) == "tier1" and task.status is TaskStatus.RESERVED
    c.advance(5)
    assert c.queue_of(task) == "tier2" and c.offered_tasks(two) == [task.sid]


def test_a_held_step_that_arms_the_ttl_late_still_cancels_on_time() -> None:
    c = tiers(reservation_timeout=20)
    c.add_worker("one", tier=1)
    task = c.create_task(timeout=45)  # step 30 s, TTL 45 s: the step deadline arms the TTL
    assert task.held_step is not None
    c.advance(25)  # the offer timed out at 20 s: the step deadline is pushed
    assert task.status is TaskStatus.PENDING and step_deadlines(c, task) == [c.start + 30]
    c.advance(19.9)
    assert task.status is TaskStatus.PENDING and c.queue_of(task) == "tier2"
    c.advance(0.1)
    assert task.status is TaskStatus.CANCELED and task.reason == "Task TTL Exceeded"


def test_a_ttl_due_before_the_offer_times_out_is_not_held_back() -> None:
    c = tiers(reservation_timeout=120)
    c.add_worker("one", tier=1)
    task = c.create_task(timeout=45)
    assert task.status is TaskStatus.RESERVED and task.held_step is None
    assert step_deadlines(c, task) == [c.start + 30]
    c.advance(45)
    assert task.status is TaskStatus.CANCELED and task.reason == "Task TTL Exceeded"


# Two engines, one holding step deadlines and one not, driven alike

ADVANCE = st.sampled_from([0.5, 2.0, 5.0, 10.0, 15.0, 30.0, 45.0])
TTL = st.sampled_from([23.3, 47.3, 95.1, 86_400.3])


class HeldAgainstPushed(RuleBasedStateMachine):
    """Every rule runs on both engines; their events and changed objects must be the same.

    Times are multiples of 0.5 s and TTLs are not, each task's a little different, so no TTL deadline ever
    ties with another deadline: a TTL pushed later than before could only change the order of such ties.
    """

    def __init__(self) -> None:
        super().__init__()
        self._new_sid = ids.new_sid
        self.counters = [itertools.count(), itertools.count()]
        self.centers: list[Center] = []
        for counter in self.counters:
            self.use(counter)
            c = build(QUEUES, configuration=CONFIGURATION, reservation_timeout=30)
            c.ws.update_queue(c.queues["billing"].sid, post_work_activity_sid=c.activities["Break"])
            self.centers.append(c)
        self.centers[1].ws._hold_step = lambda task, offers_end: False  # type: ignore[method-assign]
        self.tasks_made = 0

    def use(self, counter: itertools.count[int]) -> None:
        ids.new_sid = lambda prefix: f"{prefix}{next(counter):032x}"

    def teardown(self) -> None:
        ids.new_sid = self._new_sid

    def both(self, action: Any) -> None:
        for counter, c in zip(self.counters, self.centers, strict=True):
            self.use(counter)
            action(c)

    @staticmethod
    def pick(items: list[Any], index: int) -> Any:
        return items[index % len(items)] if items else None

    @initialize(staff=st.lists(WORKER, min_size=2, max_size=6))
    def add_staff(self, staff: list[tuple[dict[str, Any], str, int, int]]) -> None:
        def add(c: Center) -> None:
            for attributes, activity, voice, chat in staff:
                c.add_worker(f"w{len(c.ws.workers)}", activity=activity, voice=voice, chat=chat, **attributes)

        self.both(add)

    @rule(index=st.integers(0, 100), activity=st.sampled_from(["Available", "Available", "Offline", "Break"]))
    def change_activity(self, index: int, activity: str) -> None:
        def act(c: Center) -> None:
            if worker := self.pick(list(c.ws.workers.values()), index):
                c.set_activity(worker, activity)

        self.both(act)

    @rule(attributes=TASK_ATTRIBUTES, channel=st.sampled_from(["voice", "chat"]), ttl=TTL, index=st.integers(0, 100))
    def create_task(self, attributes: dict[str, Any], channel: str, ttl: float, index: int) -> None:
        timeout = ttl + self.tasks_made * 0.0001
        self.tasks_made += 1

        def act(c: Center) -> None:
            if attributes["type"] == "callback" and (agent := self.pick(list(c.ws.workers.values()), index)):
                attributes["agent"] = agent.sid
            c.create_task(channel=channel, timeout=timeout, **attributes)

        self.both(act)

    def reservation_rule(self, index: int, statuses: tuple[ReservationStatus, ...], what: Any) -> None:
        def act(c: Center) -> None:
            found = [sid for sid, r in c.ws.reservations.items() if r.status in statuses]
            if sid := self.pick(found, index):
                what(c, sid)

        self.both(act)

    @rule(index=st.integers(0, 100))
    def accept(self, index: int) -> None:
        self.reservation_rule(index, (ReservationStatus.PENDING,), lambda c, sid: c.ws.accept_reservation(sid))

    @rule(index=st.integers(0, 100))
    def reject(self, index: int) -> None:
        self.reservation_rule(index, (ReservationStatus.PENDING,), lambda c, sid: c.ws.reject_reservation(sid))

    @rule(index=st.integers(0, 100))
    def complete(self, index: int) -> None:
        accepted = (ReservationStatus.ACCEPTED, ReservationStatus.WRAPPING)
        self.reservation_rule(index, accepted, lambda c, sid: c.ws.complete_reservation(sid))

    @rule(index=st.integers(0, 100))
    def wrap_up(self, index: int) -> None:
        self.reservation_rule(index, (ReservationStatus.ACCEPTED,), lambda c, sid: c.ws.wrapup_reservation(sid))

    @rule(index=st.integers(0, 100))
    def cancel(self, index: int) -> None:
        def act(c: Center) -> None:
            waiting = [t for t in c.ws.tasks.values() if t.is_waiting]
            if task := self.pick(waiting, index):
                c.ws.cancel_task(task.sid)

        self.both(act)

    @rule(index=st.integers(0, 100), to=st.integers(0, 100))
    def transfer(self, index: int, to: int) -> None:
        def act(c: Center) -> None:
            if task := self.pick(list(c.ws.tasks.values()), index):
                c.ws.transfer_task(task.sid, queue_sid=self.pick(list(c.queues.values()), to).sid)

        self.both(act)

    @rule(seconds=ADVANCE)
    def advance(self, seconds: float) -> None:
        self.both(lambda c: c.advance(seconds))

    @rule(seconds=ADVANCE)
    def advance_without_a_tick(self, seconds: float) -> None:
        self.both(lambda c: c.clock.advance(seconds))

    @invariant()
    def same_events_and_changes(self) -> None:
        held, pushed = self.centers
        assert held.ws.drain_events() == pushed.ws.drain_events()
        touched, deleted = held.ws.drain_changes()
        touched_too, deleted_too = pushed.ws.drain_changes()
        assert list(touched) == list(touched_too) and deleted == deleted_too


HeldAgainstPushed.TestCase.settings = settings(
    max_examples=300,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestHeldAgainstPushed = HeldAgainstPushed.TestCase
