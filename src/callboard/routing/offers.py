"""Offers: the waiting lists, dispatch (which worker is offered which task) and the life of a reservation.

`Offers` is the middle layer of the engine: `WorkspaceState` below holds the resources, `Workspace` above
creates tasks and moves them through their workflow steps, and calls in here to list and offer them.
"""

from __future__ import annotations

import functools
import heapq
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from sortedcontainers import SortedList

from callboard.core import events as ev
from callboard.core import ids
from callboard.core.errors import InvalidStateError
from callboard.routing.ewt import HandleTimes
from callboard.routing.membership import WorkerGroup
from callboard.routing.model import (
    Reservation,
    ReservationStatus,
    Strategy,
    Task,
    TaskOrder,
    TaskStatus,
    Worker,
)
from callboard.routing.state import WorkspaceState
from callboard.routing.strategies import longest_idle, order_by_key, sort_key


class Offers(WorkspaceState):
    """Waiting tasks, offers and reservations of a workspace; `Workspace` adds tasks, steps and time."""

    # Waiting lists

    def _wait_key(self, task: Task) -> tuple[Any, ...]:
        queue = self.queues[task.queue_sid] if task.queue_sid else None
        order = -task.seq if queue is not None and queue.task_order is TaskOrder.LIFO else task.seq
        return (-task.priority, order, task.sid)

    def _list(self, task: Task) -> None:
        if task.sid in self._wait_keys or task.queue_sid is None:
            return
        key = self._wait_key(task)
        self._wait_keys[task.sid] = key
        if task.known_worker_sid is not None:
            self._known_waiting.setdefault(task.known_worker_sid, SortedList()).add(key)
        else:
            by_channel = self._waiting[task.queue_sid]
            by_channel.setdefault(task.channel, SortedList()).add(key)

    def _unlist(self, task: Task) -> None:
        key = self._wait_keys.pop(task.sid, None)
        if key is None:
            return
        # Empty lists are dropped, so a worker looking for work passes over idle queues with one lookup.
        if task.known_worker_sid is not None:
            keys = self._known_waiting[task.known_worker_sid]
            keys.remove(key)
            if not keys:
                del self._known_waiting[task.known_worker_sid]
        else:
            by_channel = self._waiting[task.queue_sid]  # type: ignore[index]
            keys = by_channel[task.channel]
            keys.remove(key)
            if not keys:
                del by_channel[task.channel]

    def _is_listed(self, task: Task) -> bool:
        return task.sid in self._wait_keys

    def position(self, task: Task) -> int:
        """1 + the tasks listed ahead of it: on its queue's list for its channel, or its known worker's list."""
        if task.known_worker_sid is not None:
            keys = self._known_waiting.get(task.known_worker_sid)
        else:
            keys = self._waiting.get(task.queue_sid or "", {}).get(task.channel)
        if not keys:
            return 1
        return int(keys.bisect_left(self._wait_keys.get(task.sid) or self._wait_key(task))) + 1

    def waiting_tasks(self, queue_sid: str) -> Iterator[Task]:
        """Tasks waiting in a queue for a worker, in offer order per channel."""
        for keys in self._waiting.get(queue_sid, {}).values():
            for key in keys:
                yield self.tasks[key[-1]]

    # Dispatch

    def _slots(self, task: Task) -> int:
        queue = self.queues[task.queue_sid]  # type: ignore[index]
        if queue.strategy is Strategy.RING_ALL:
            # No limit, not len(workers): a worker added while everyone rings must ring too.
            return sys.maxsize
        limit = queue.max_reserved_workers
        if not task.reservations:
            return limit
        pending = sum(1 for r in task.reservations if self.reservations[r].status is ReservationStatus.PENDING)
        return limit - pending

    def _can_offer(self, task: Task, worker: Worker) -> bool:
        if worker.sid in task.excluded_workers:
            return False
        if task.known_worker_sid is not None and task.known_worker_sid != worker.sid:
            return False
        if task.target_expression is not None and not task.target_expression.evaluate(
            {"task": task.attributes, "worker": worker.attributes}
        ):
            return False
        return not any(self.reservations[r].worker_sid == worker.sid for r in task.reservations)

    def _dispatch(self) -> None:
        if not self._wait_keys:
            # No task is listed anywhere, so no dirty worker has work to take and no dirty task is offered
            # (only listed tasks are). Every completion against free workers ends here.
            if self._dirty_workers:
                self._dirty_workers.clear()
            if self._dirty_tasks:
                self._dirty_tasks.clear()
            return
        while self._dirty_workers or self._dirty_tasks:
            if len(self._dirty_workers) == 1 and not self._dirty_tasks:
                sid, _ = self._dirty_workers.popitem()
                if sid in self.workers:
                    self._fill_worker(self.workers[sid])
                continue
            if len(self._dirty_tasks) == 1 and not self._dirty_workers:
                sid, _ = self._dirty_tasks.popitem()
                task = self.tasks.get(sid)
                if task is not None and self._is_listed(task):
                    self._offer_task(task)
                continue
            # Several workers freed together: each names the task it would take, and those tasks are offered
            # in queue order, so each queue's strategy chooses among all the free workers.
            freed = [self.workers[s] for s in self._dirty_workers if s in self.workers]
            self._dirty_workers.clear()
            for worker in freed:
                task = self._best_task(worker)
                if task is not None:
                    self._dirty_tasks[task.sid] = None
            batch = [self.tasks[s] for s in self._dirty_tasks if s in self.tasks]
            self._dirty_tasks.clear()
            batch.sort(key=self._wait_key)  # each queue's own order: priority, then FIFO or LIFO
            for task in batch:
                if self._is_listed(task):
                    self._offer_task(task)
            # A freed worker whose task went to someone else looks again.
            for worker in freed:
                if worker.sid in self.workers and self._best_task(worker) is not None:
                    self._dirty_workers[worker.sid] = None

    def _fill_worker(self, worker: Worker) -> None:
        """Offer the worker the best waiting tasks it is eligible for, while it has room."""
        while (task := self._best_task(worker)) is not None:
            self._reserve(task, worker)

    def _best_task(self, worker: Worker) -> Task | None:
        """The first task, in queue order across the worker's queues, that could be offered to it now."""
        ready = worker.ready
        if not ready or not self._wait_keys:  # no task is listed anywhere: skip the lookups per queue
            return None
        best: tuple[Any, ...] | None = None
        lists: list[SortedList] = []
        waiting = self._waiting
        for queue_sid in self.membership.worker_queues[worker.sid]:
            if by_channel := waiting[queue_sid]:
                lists.extend(by_channel[ch] for ch in ready if ch in by_channel)
        if worker.sid in self._known_waiting:
            lists.append(self._known_waiting[worker.sid])
        for keys in lists:
            for key in keys:
                if best is not None and key >= best:
                    break
                task = self.tasks[key[-1]]
                if task.channel in ready and self._can_offer(task, worker):
                    best = key
                    break
        return None if best is None else self.tasks[best[-1]]

    def _offer_task(self, task: Task) -> int:
        """Offer the task to the best candidates it has room for; returns how many more offers it can take."""
        slots = self._slots(task)
        created = 0
        if slots > 0:
            for worker in self._choose(task, slots):
                self._reserve(task, worker)
                created += 1
        if task.sid in self._fresh_step:
            self._fresh_step.discard(task.sid)
            if created == 0:
                self._maybe_skip(task)
                return self._slots(task)  # a skip may have moved the task to another queue
        return slots - created

    def _choose(self, task: Task, slots: int) -> Sequence[Worker]:
        """The workers to offer the task to now, best first, at most `slots` of them."""
        if task.known_worker_sid is not None:
            known = self.workers.get(task.known_worker_sid)
            if known is None or task.channel not in known.ready or not self._can_offer(task, known):
                return []
            return [known]
        if not self.membership.anyone_ready(task.channel):
            return []  # nobody has room: no match set is built or read (every task of a backlog ends here)
        if slots == 1 and self._by_idle_alone(task) and (group := self._candidate_group(task)) is not None:
            worker = self.membership.longest_idle(group, task.channel)
            return [] if worker is None else [worker]
        candidates = self._candidates(task)
        if not candidates:
            return []
        # Candidates come in `seq` order (`Membership.with_room`), so the random strategies draw in a fixed
        # order and a seed replays a run.
        queue = self.queues[task.queue_sid]  # type: ignore[index]
        if slots == 1 and queue.strategy is Strategy.LONGEST_IDLE and not task.target_order_by:
            return [longest_idle(candidates)]
        key = order_by_key(task.target_order_by, sort_key(queue, task.attributes, self._rng))
        return [min(candidates, key=key)] if slots == 1 else heapq.nsmallest(slots, candidates, key=key)

    def _by_idle_alone(self, task: Task) -> bool:
        """Whether the task's one offer goes to its group's longest-idle worker with room, and to no one else.

        Then `Membership.longest_idle` chooses from the idle arrays, without a list of candidates.
        """
        return (
            not task.excluded_workers
            and not task.reservations
            and not task.target_order_by
            and self.queues[task.queue_sid].strategy is Strategy.LONGEST_IDLE  # type: ignore[index]
        )

    def _candidate_group(self, task: Task) -> WorkerGroup | None:
        """The members of the task's queue that pass its step's expression, kept as a group; None if the
        expression's task values cannot be keyed (the caller then evaluates it per member)."""
        queue_sid: str = task.queue_sid  # type: ignore[assignment]
        expression = task.target_expression
        if expression is None:
            return self.membership.members(queue_sid)
        return self.membership.matching(queue_sid, expression, task.attributes)

    def _candidates(self, task: Task) -> Sequence[Worker]:
        """The ready members of the task's queue that `_can_offer` would pass, found by set operations."""
        membership = self.membership
        expression = task.target_expression
        if (group := self._candidate_group(task)) is not None:
            workers = membership.with_room(group, task.channel)
        else:
            assert expression is not None
            scope = {"task": task.attributes}
            members = membership.members(task.queue_sid)  # type: ignore[arg-type]
            workers = [
                w
                for w in membership.with_room(members, task.channel)
                if expression.predicate(scope | {"worker": w.attributes})
            ]
        if task.excluded_workers or task.reservations:
            offered = {self.reservations[r].worker_sid for r in task.reservations}
            return [w for w in workers if w.sid not in task.excluded_workers and w.sid not in offered]
        return workers

    # Reservations

    def _reserve(self, task: Task, worker: Worker) -> Reservation:
        now = self.clock.now()
        queue = self.queues[task.queue_sid]  # type: ignore[index]
        workflow = self.workflows[task.workflow_sid]
        res = Reservation(
            sid=ids.new_sid(ids.RESERVATION),
            task_sid=task.sid,
            worker_sid=worker.sid,
            queue_sid=queue.sid,
            channel=task.channel,
            date_created=now,
            date_updated=now,
            timeout_at=now + workflow.task_reservation_timeout,
        )
        self.reservations[res.sid] = res
        worker.reservations.add(res.sid)
        task.reservations.add(res.sid)
        self._fresh_step.discard(task.sid)  # an offer was made on this step: skip_if no longer applies
        worker.channels[task.channel].used += 1
        if task.status is TaskStatus.PENDING:
            task.set_status(TaskStatus.RESERVED, now)
        if task.sid in self._wait_keys and self._slots(task) <= 0:
            self._unlist(task)
        self._timers.add(res.timeout_at, "reservation", res.sid, None)
        if queue.strategy is Strategy.ROUND_ROBIN:
            queue.round_robin_last = worker.seq
        self._emit_data(ev.RESERVATION_CREATED, "reservation", res.sid, self._reservation_data(res, task, now), now)
        if queue.reservation_activity_sid is not None:
            self._set_activity(worker, queue.reservation_activity_sid, end_offers=False)
        self._refresh_ready(worker)
        self._touch(res)
        self._touch(task)
        self._touch(worker)
        return res

    def _reservation_data(self, res: Reservation, task: Task, now: float) -> dict[str, Any]:
        return {
            "reservation_sid": res.sid,
            "task_sid": task.sid,
            "worker_sid": res.worker_sid,
            "queue_sid": res.queue_sid,
            "workflow_sid": task.workflow_sid,
            "channel": res.channel,
            "task_priority": task.priority,
            "task_age": now - task.date_created,
            "task_date_created": task.date_created,
            "reservation_age": now - res.date_created,
        }

    def _release(self, res: Reservation) -> Worker:
        worker = self.workers[res.worker_sid]
        worker.channels[res.channel].used -= 1
        worker.reservations.discard(res.sid)
        del self.reservations[res.sid]
        self._touch(res)
        self._touch(worker)
        return worker

    def _end_offer(
        self, res: Reservation, status: ReservationStatus, *, reason: str | None = None, requeue: bool = True
    ) -> None:
        """A pending offer ends without acceptance; the task goes back to waiting if nothing else holds it."""
        task = self.tasks[res.task_sid]
        if requeue and task.held_step is not None:
            self._release_step(task)
        now = self.clock.now()
        res.set_status(status, now)
        self._emit(
            f"reservation.{status}",
            "reservation",
            res.sid,
            reason=reason,
            **self._reservation_data(res, task, now),
        )
        task.reservations.discard(res.sid)
        worker = self._release(res)
        if status is ReservationStatus.REJECTED:
            task.excluded_workers.add(worker.sid)
        if requeue and task.status is TaskStatus.RESERVED and not task.reservations:
            task.set_status(TaskStatus.PENDING, now)
        if requeue and task.is_waiting:
            if task.sid in self._expired_step and task.status is TaskStatus.PENDING:
                self._expired_step.discard(task.sid)
                self._advance(task)
            else:
                self._list(task)
                self._dirty_tasks[task.sid] = None
            self._touch(task)
        self._refresh_ready(worker)

    def accept_reservation(self, sid: str) -> Reservation:
        res = self.reservation(sid)
        task = self.tasks[res.task_sid]
        now = self.clock.now()
        res.set_status(ReservationStatus.ACCEPTED, now)
        res.date_accepted = now
        task.set_status(TaskStatus.ASSIGNED, now)
        task.worker_sid = res.worker_sid
        task.date_assigned = now
        task.held_step = None  # an assigned task's step is over
        self._unlist(task)
        self._expired_step.discard(task.sid)
        worker = self.workers[res.worker_sid]
        worker.tasks_assigned += 1
        self._emit_data(ev.RESERVATION_ACCEPTED, "reservation", sid, self._reservation_data(res, task, now), now)
        for other_sid in list(task.reservations - {sid}) if len(task.reservations) > 1 else ():
            other = self.reservations[other_sid]
            if other.status is ReservationStatus.PENDING:
                self._end_offer(other, ReservationStatus.RESCINDED, reason="accepted by another worker")
        queue = self.queues.get(res.queue_sid or "")
        if queue is not None and queue.assignment_activity_sid is not None:
            self._set_activity(worker, queue.assignment_activity_sid, end_offers=False)
        self._touch(res)
        self._touch(task)
        self._touch(worker)
        self._dispatch()
        return res

    def reject_reservation(self, sid: str, *, activity_sid: str | None = None) -> Reservation:
        res = self.reservation(sid)
        if activity_sid is not None:
            self.activity(activity_sid)
        self._end_offer(res, ReservationStatus.REJECTED)
        if activity_sid is not None:
            self._set_activity(self.workers[res.worker_sid], activity_sid)
        self._dispatch()
        return res

    def wrapup_reservation(self, sid: str) -> Reservation:
        """The conversation ended: the worker does after-call work, the task is wrapping."""
        res = self.reservation(sid)
        task = self.tasks[res.task_sid]
        now = self.clock.now()
        res.set_status(ReservationStatus.WRAPPING, now)
        res.date_wrapping = now
        if task.status is TaskStatus.ASSIGNED and task.worker_sid == res.worker_sid:
            task.set_status(TaskStatus.WRAPPING, now)
            task.date_wrapping = now
            self._emit_data(ev.TASK_WRAPUP, "task", task.sid, self._task_data(task, now), now)
        worker = self.workers[res.worker_sid]
        worker.talk_seconds += now - (res.date_accepted or now)
        seconds = self._wrapup_seconds(res)
        if seconds > 0:
            res.wrapup_deadline = now + seconds
            self._timers.add(res.wrapup_deadline, "wrapup", sid, None)
        self._emit(
            ev.RESERVATION_WRAPUP,
            "reservation",
            sid,
            wrapup_seconds=seconds,
            **self._reservation_data(res, task, now),
        )
        self._touch(res)
        self._touch(task)
        self._touch(worker)
        return res

    def _wrapup_seconds(self, res: Reservation) -> float:
        queue = self.queues.get(res.queue_sid or "")
        if queue is not None and queue.wrapup_seconds is not None:
            return queue.wrapup_seconds
        return self.wrapup_seconds

    def extend_wrapup(self, sid: str, seconds: float) -> Reservation:
        """More time for after-call work: the automatic completion moves `seconds` later. A wrap-up without a
        time limit (wrap-up seconds 0) stays without one."""
        res = self.reservation(sid)
        if res.status is not ReservationStatus.WRAPPING:
            raise InvalidStateError(
                f"reservation {sid} is {res.status}, not wrapping",
                error_id="reservation_invalid_state",
                sid=sid,
                status=str(res.status),
            )
        if res.wrapup_deadline is None:
            return res
        res.wrapup_deadline += seconds
        self._timers.add(res.wrapup_deadline, "wrapup", sid, None)
        self._touch(res)
        return res

    def complete_reservation(self, sid: str, *, reason: str | None = None) -> Reservation:
        """The worker is done with the task; it completes and the worker goes to the post-work activity."""
        res = self.reservation(sid)
        task = self.tasks[res.task_sid]
        now = self.clock.now()
        was = res.set_status(ReservationStatus.COMPLETED, now)
        worker = self.workers[res.worker_sid]
        if was is ReservationStatus.ACCEPTED:
            worker.talk_seconds += now - (res.date_accepted or now)
        handled = now - (res.date_accepted or now)
        self.handle_times.record(res.queue_sid, res.channel, handled)
        data = self._reservation_data(res, task, now)
        data["handle_seconds"] = handled  # in the log, so a restarted engine relearns its handle times
        self._emit_data(ev.RESERVATION_COMPLETED, "reservation", sid, data, now)
        task.reservations.discard(sid)
        self._release(res)
        worker.last_idle = now
        if task.status in (TaskStatus.ASSIGNED, TaskStatus.WRAPPING) and task.worker_sid == res.worker_sid:
            task.set_status(TaskStatus.COMPLETED, now)
            task.date_completed = now
            task.reason = reason
            self._finish_task(task, ev.TASK_COMPLETED)
        queue = self.queues.get(res.queue_sid or "")
        if queue is not None and queue.post_work_activity_sid is not None:
            self._set_activity(worker, queue.post_work_activity_sid)
        self._refresh_ready(worker)
        self._dispatch()
        return res

    @functools.cached_property
    def handle_times(self) -> HandleTimes:
        """Recent handle times per queue and channel, for estimated waits (ewt.py); relearned from the event log
        after a restart (each `reservation.completed` carries its `handle_seconds`)."""
        return HandleTimes()

    # Provided by Workspace

    def _task_data(self, task: Task, now: float) -> dict[str, Any]:
        raise NotImplementedError

    def _advance(self, task: Task) -> None:
        raise NotImplementedError

    def _maybe_skip(self, task: Task) -> None:
        raise NotImplementedError

    def _release_step(self, task: Task) -> None:
        raise NotImplementedError

    def _finish_task(self, task: Task, event: str) -> None:
        raise NotImplementedError
