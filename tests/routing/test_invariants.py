"""Random sequences of routing operations, with the engine's invariants checked after every step.

Offers are checked as they are made, through the `reservation.created` events: the worker was eligible
(a member of the queue, matched the target, available with room, not excluded) and no better task in
the same queue was waiting for it. After every step: nobody over capacity, no task assigned twice, the
indexes agree with a direct evaluation, and no available worker with room is left next to a waiting
task it could take (work conservation).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import hypothesis.strategies as st
from builders import Center, build
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from callboard.core import events as ev
from callboard.core import ids
from callboard.core.errors import InvalidStateError
from callboard.routing.model import ReservationStatus, Strategy, Task, TaskOrder, TaskStatus, Worker

ACCEPTED = (ReservationStatus.ACCEPTED, ReservationStatus.WRAPPING)

QUEUES: dict[str, str | dict[str, Any]] = {
    "general": {"target_workers": "1==1", "wrapup_seconds": 10},
    "callbacks": {"target_workers": "1==1", "task_order": "lifo"},
    "billing": {"target_workers": "skills HAS 'billing'"},
    "spanish": {"target_workers": "languages HAS 'es'", "strategy": "round_robin"},
    "vip": {"target_workers": "level >= 3", "strategy": "ring_all"},
    "tech": {
        "target_workers": "skills HAS 'tech'",
        "strategy": "best_skill_match",
        "max_reserved_workers": 2,
        "wrapup_seconds": 15,
    },
}

CONFIGURATION = {
    "task_routing": {
        "filters": [
            {
                "filter_friendly_name": "billing",
                "expression": "type == 'billing'",
                "targets": [
                    {"queue": "billing", "timeout": 20, "expression": "worker.level >= task.min_level"},
                    {"queue": "billing", "timeout": 20},
                    {"queue": "general", "priority": 5},
                ],
            },
            {
                "filter_friendly_name": "spanish",
                "expression": "language == 'es'",
                "targets": [
                    {"queue": "spanish", "timeout": 30, "skip_if": "workers.available == 0"},
                    {"queue": "general", "order_by": "worker.level DESC"},
                ],
            },
            {
                "filter_friendly_name": "vip",
                "expression": "vip == true",
                "targets": [{"queue": "vip", "timeout": 25}, {"queue": "callbacks"}],
            },
            {
                "filter_friendly_name": "tech",
                "expression": "type == 'tech'",
                "targets": [{"queue": "tech", "timeout": 40}],
            },
            {
                "filter_friendly_name": "callback",
                "expression": "type == 'callback'",
                "targets": [
                    {"queue": "callbacks", "known_worker_sid": "task.agent", "timeout": 20},
                    {"queue": "callbacks"},
                ],
            },
        ],
        "default_filter": {"queue": "general"},
    }
}

ACTIVITY = st.sampled_from(["Available", "Available", "Available", "Offline", "Break"])
SKILLS = st.lists(st.sampled_from(["billing", "tech"]), unique=True)
LANGUAGES = st.lists(st.sampled_from(["en", "es"]), unique=True)
WORKER_ATTRIBUTES = st.fixed_dictionaries(
    {
        "skills": SKILLS,
        "languages": LANGUAGES,
        "level": st.integers(1, 5),
        "levels": st.fixed_dictionaries({"tech": st.integers(0, 9)}),
    }
)
INDEX = st.integers(0, 1_000)
WORKER = st.tuples(WORKER_ATTRIBUTES, ACTIVITY, st.sampled_from([1, 1, 1, 0]), st.sampled_from([1, 2, 3, 3, 0]))
TASK_ATTRIBUTES = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["billing", "support", "tech", "callback"]),
        "language": st.sampled_from(["en", "es"]),
        "vip": st.booleans(),
        "min_level": st.integers(1, 5),
        "skill": st.just("tech"),
    }
)


class RoutingMachine(RuleBasedStateMachine):
    """One workspace driven by random operations; `check_offer` runs inside the engine at each offer."""

    def __init__(self) -> None:
        super().__init__()
        # Counter sids keep the engine deterministic, so Hypothesis can replay and shrink a failure.
        self._new_sid = ids.new_sid
        counter = itertools.count()
        ids.new_sid = lambda prefix: f"{prefix}{next(counter):032x}"
        self.c: Center = build(QUEUES, configuration=CONFIGURATION, reservation_timeout=30)
        ws = self.c.ws
        ws.update_queue(self.c.queues["billing"].sid, post_work_activity_sid=self.c.activities["Break"])
        emit_data = ws._emit_data

        # `_reserve` emits its event through `_emit_data` (wrapping `_emit` saw no offer at all).
        def checked_emit(name: str, resource_type: str, resource_sid: str, data: dict[str, Any], now: float) -> None:
            emit_data(name, resource_type, resource_sid, data, now)
            if name == ev.RESERVATION_CREATED:
                self.checked_offers += 1
                self.check_offer(resource_sid)

        ws._emit_data = checked_emit  # type: ignore[method-assign]
        self.checked_offers = 0

    def teardown(self) -> None:
        ids.new_sid = self._new_sid

    # Picking things: an index into a list in creation order, so a failing run replays and shrinks

    @staticmethod
    def pick(items: list[Any], index: int) -> Any:
        return items[index % len(items)] if items else None

    def worker(self, index: int) -> Worker | None:
        return self.pick(list(self.c.ws.workers.values()), index)

    def task(self, index: int) -> Task | None:
        return self.pick(list(self.c.ws.tasks.values()), index)

    def reservation(self, index: int, *statuses: ReservationStatus) -> str | None:
        return self.pick([sid for sid, r in self.c.ws.reservations.items() if r.status in statuses], index)

    # Rules

    @initialize(staff=st.lists(WORKER, min_size=2, max_size=6))
    def add_staff(self, staff: list[tuple[dict[str, Any], str, int, int]]) -> None:
        for spec in staff:
            self.add_worker(*spec)

    @rule(spec=WORKER)
    def add_worker_rule(self, spec: tuple[dict[str, Any], str, int, int]) -> None:
        if len(self.c.ws.workers) < 10:
            self.add_worker(*spec)

    def add_worker(self, attributes: dict[str, Any], activity: str, voice: int, chat: int) -> None:
        name = f"w{len(self.c.ws.workers)}"
        self.c.add_worker(name, activity=activity, voice=voice, chat=chat, **attributes)

    @rule(index=INDEX, activity=ACTIVITY)
    def change_activity(self, index: int, activity: str) -> None:
        if worker := self.worker(index):
            self.c.set_activity(worker, activity)

    @rule(index=INDEX, attributes=WORKER_ATTRIBUTES)
    def change_attributes(self, index: int, attributes: dict[str, Any]) -> None:
        if worker := self.worker(index):
            self.c.ws.update_worker(worker.sid, attributes=attributes)

    @rule(index=INDEX, channel=st.sampled_from(["voice", "chat"]), more=st.integers(0, 2), on=st.booleans())
    def change_channel(self, index: int, channel: str, more: int, on: bool) -> None:
        if worker := self.worker(index):
            capacity = worker.channels[channel].capacity + more
            self.c.ws.set_worker_channel(worker.sid, channel, capacity=capacity, available=on or more > 0)

    @rule(
        index=INDEX,
        attributes=TASK_ATTRIBUTES,
        priority=st.integers(0, 3),
        channel=st.sampled_from(["voice", "voice", "chat"]),
        timeout=st.sampled_from([45.0, 300.0, 86_400.0]),
        burst=st.sampled_from([1, 1, 2, 3]),
    )
    def create_task(
        self, index: int, attributes: dict[str, Any], priority: int, channel: str, timeout: float, burst: int
    ) -> None:
        if attributes["type"] == "callback" and (agent := self.worker(index)):
            attributes["agent"] = agent.sid
        for _ in range(burst):  # calls that arrive together move through the workflow together
            self.c.create_task(channel=channel, priority=priority, timeout=timeout, **attributes)

    @rule(index=INDEX, priority=st.integers(0, 6))
    def change_priority(self, index: int, priority: int) -> None:
        if task := self.task(index):
            self.c.ws.update_task(task.sid, priority=priority)

    @rule(index=INDEX, attributes=TASK_ATTRIBUTES)
    def change_task_attributes(self, index: int, attributes: dict[str, Any]) -> None:
        if task := self.task(index):
            self.c.ws.update_task(task.sid, attributes=attributes)

    @rule(index=INDEX)
    def accept(self, index: int) -> None:
        if sid := self.reservation(index, ReservationStatus.PENDING):
            self.c.ws.accept_reservation(sid)

    @rule(index=INDEX, activity=st.sampled_from([None, None, "Break", "Available"]))
    def reject(self, index: int, activity: str | None) -> None:
        if sid := self.reservation(index, ReservationStatus.PENDING):
            self.c.ws.reject_reservation(sid, activity_sid=self.c.activities[activity] if activity else None)

    @rule(index=INDEX)
    def wrap_up(self, index: int) -> None:
        if sid := self.reservation(index, ReservationStatus.ACCEPTED):
            self.c.ws.wrapup_reservation(sid)

    @rule(index=INDEX)
    def complete(self, index: int) -> None:
        if sid := self.reservation(index, *ACCEPTED):
            self.c.ws.complete_reservation(sid)

    @rule(index=INDEX)
    def cancel(self, index: int) -> None:
        task = self.task(index)
        if task is None:
            return
        if task.is_waiting:
            self.c.ws.cancel_task(task.sid)
            assert task.status is TaskStatus.CANCELED
            return
        before = task.status
        try:
            self.c.ws.cancel_task(task.sid)
        except InvalidStateError as exc:
            assert exc.details["status"] == str(before)
        else:
            raise AssertionError(f"a {before} task was canceled")
        assert task.status is before

    @rule(seconds=st.floats(0, 40, allow_nan=False))
    def advance(self, seconds: float) -> None:
        self.c.advance(seconds)

    @rule(index=INDEX, to=INDEX, to_worker=st.booleans())
    def transfer(self, index: int, to: int, to_worker: bool) -> None:
        task = self.task(index)
        if task is None:
            return
        if to_worker and (worker := self.worker(to)):
            self.c.ws.transfer_task(task.sid, worker_sid=worker.sid)
        else:
            queue = self.pick(list(self.c.queues.values()), to)
            self.c.ws.transfer_task(task.sid, queue_sid=queue.sid)

    # Offers, checked as they are made

    def check_offer(self, res_sid: str) -> None:
        ws = self.c.ws
        res = ws.reservations[res_sid]
        task, worker = ws.tasks[res.task_sid], ws.workers[res.worker_sid]
        wc = worker.channels[res.channel]
        assert res.channel == task.channel
        assert res.queue_sid == task.queue_sid
        assert ws.is_available(worker), f"offer to {worker.friendly_name} who is not available"
        assert wc.available and wc.used <= wc.capacity, f"{worker.friendly_name} over capacity on {res.channel}"
        assert worker.sid not in task.excluded_workers
        others = [r for r in task.reservations if r != res_sid and ws.reservations[r].worker_sid == worker.sid]
        assert others == [], "two live offers of one task to one worker"
        assert self.eligible(worker, task), f"{worker.friendly_name} is not eligible for {task.attributes}"
        ringing = sum(ws.reservations[r].status is ReservationStatus.PENDING for r in task.reservations)
        assert ringing <= self.limit(task), f"{ringing} offers of {task.sid} ring at once"
        if task.known_worker_sid is not None:
            return
        queue = ws.queues[task.queue_sid]  # type: ignore[index]
        if queue.strategy is Strategy.LONGEST_IDLE and queue.max_reserved_workers == 1 and not task.target_order_by:
            for other in ws.workers.values():
                room = other.channels[task.channel]
                if (
                    other is not worker
                    and ws.is_available(other)
                    and room.has_room()
                    and other.sid not in task.excluded_workers
                    and self.eligible(other, task)
                    and (other.last_idle, other.seq) < (worker.last_idle, worker.seq)
                ):
                    raise AssertionError(
                        f"{task.sid} went to {worker.friendly_name}, idle less long than {other.friendly_name}"
                    )
        rank = self.rank(task)
        for other in ws.tasks.values():
            if (
                other is not task
                and other.status is TaskStatus.PENDING
                and other.queue_sid == task.queue_sid
                and other.channel == task.channel
                and other.known_worker_sid is None
                and worker.sid not in other.excluded_workers
                and self.eligible(worker, other)
                and self.rank(other) < rank
            ):
                raise AssertionError(f"{worker.friendly_name} was offered {task.sid} while {other.sid} waited")

    def eligible(self, worker: Worker, task: Task) -> bool:
        """Membership and the target expression, evaluated directly (not through the engine's indexes)."""
        assert task.queue_sid is not None
        if task.known_worker_sid is not None:
            # The engine offers a known worker's task to that worker whatever the queue's target_workers.
            if task.known_worker_sid != worker.sid:
                return False
        elif not self.c.ws.queues[task.queue_sid].target_workers.evaluate({"worker": worker.attributes}):
            return False
        expression = task.target_expression
        return expression is None or expression.evaluate({"task": task.attributes, "worker": worker.attributes})

    def rank(self, task: Task) -> tuple[int, int]:
        queue = self.c.ws.queues[task.queue_sid]  # type: ignore[index]
        return (-task.priority, -task.seq if queue.task_order is TaskOrder.LIFO else task.seq)

    def limit(self, task: Task) -> float:
        """How many offers of the task may ring at once: ring-all rings every eligible worker."""
        queue = self.c.ws.queues[task.queue_sid]  # type: ignore[index]
        return math.inf if queue.strategy is Strategy.RING_ALL else queue.max_reserved_workers

    # Invariants after every step

    @invariant()
    def capacity_is_counted_and_respected(self) -> None:
        ws = self.c.ws
        counted: dict[tuple[str, str], int] = {}
        for res in ws.reservations.values():
            assert res.is_live, f"a {res.status} reservation is kept"
            assert res.sid in ws.workers[res.worker_sid].reservations
            assert res.sid in ws.tasks[res.task_sid].reservations
            counted[res.worker_sid, res.channel] = counted.get((res.worker_sid, res.channel), 0) + 1
        for worker in ws.workers.values():
            for name, wc in worker.channels.items():
                assert wc.used == counted.get((worker.sid, name), 0), f"{worker.friendly_name} {name} used"
                assert wc.used <= wc.capacity, f"{worker.friendly_name} over capacity on {name}"

    @invariant()
    def no_task_is_assigned_twice(self) -> None:
        ws = self.c.ws
        for task in ws.tasks.values():
            live = [ws.reservations[r] for r in task.reservations]
            held = [r for r in live if r.status in ACCEPTED]
            pending = [r for r in live if r.status is ReservationStatus.PENDING]
            assert len(held) <= 1, f"{task.sid} is held by {len(held)} workers"
            if task.status is TaskStatus.PENDING:
                assert live == []
            elif task.status is TaskStatus.RESERVED:
                assert pending and not held
            else:
                assert not pending
                assert task.worker_sid is not None
                if held:
                    assert held[0].worker_sid == task.worker_sid

    @invariant()
    def indexes_agree_with_the_expressions(self) -> None:
        ws = self.c.ws
        for queue in ws.queues.values():
            members = {w.sid for w in ws.workers.values() if queue.target_workers.evaluate({"worker": w.attributes})}
            assert ws.membership.queue_members[queue.sid] == members, f"members of {queue.friendly_name}"
            assert ws.membership.member_workers[queue.sid] == {ws.workers[sid] for sid in members}
        for worker in ws.workers.values():
            ready = {name for name, wc in worker.channels.items() if wc.has_room() and ws.is_available(worker)}
            assert worker.ready == ready
        for channel in ws.channels:
            on = {w for w in ws.workers.values() if channel in w.ready}
            assert ws.membership._ready_count[channel] == len(on), f"ready on {channel}"
            idle = ws.membership._idle_on.get(channel)
            for worker in ws.workers.values():
                expected = worker.last_idle if worker in on else math.inf
                assert (math.inf if idle is None else idle[worker.slot]) == expected, "idle array"

    @invariant()
    def waiting_tasks_with_free_slots_are_listed(self) -> None:
        ws = self.c.ws
        for task in ws.tasks.values():
            pending = sum(ws.reservations[r].status is ReservationStatus.PENDING for r in task.reservations)
            should = task.is_waiting and pending < self.limit(task)
            assert ws._is_listed(task) == should, f"{task.sid} ({task.status}) listed: {ws._is_listed(task)}"

    @invariant()
    def work_is_conserved(self) -> None:
        ws = self.c.ws
        for worker in ws.workers.values():
            if not ws.is_available(worker):
                continue
            for task in ws.tasks.values():
                wc = worker.channels[task.channel]
                if not (task.is_waiting and wc.has_room()) or worker.sid in task.excluded_workers:
                    continue
                ringing = [ws.reservations[r] for r in task.reservations]  # a waiting task's offers all ring
                if len(ringing) >= self.limit(task) or any(r.worker_sid == worker.sid for r in ringing):
                    continue
                assert not self.eligible(worker, task), (
                    f"{worker.friendly_name} is available with room on {task.channel} and eligible for "
                    f"{task.sid} ({task.status}, {task.attributes}) in {self.c.queue_of(task)}"
                )


RoutingMachine.TestCase.settings = settings(
    max_examples=600,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRouting = RoutingMachine.TestCase


def test_the_machine_checks_each_offer_as_it_is_made() -> None:
    machine = RoutingMachine()
    try:
        machine.add_worker({"skills": [], "languages": [], "level": 1}, "Available", 1, 1)
        machine.c.create_task()
        assert machine.checked_offers == 1
    finally:
        machine.teardown()
