"""The routing engine of one workspace: resources, tasks, reservations, timers and dispatch.

Every public operation changes state, then dispatches until no available eligible worker and waiting
task are left unmatched (work conservation), and queues its events. Time comes from the injected clock;
`tick()` fires the deadlines that are due. Nothing here does I/O.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from sortedcontainers import SortedList

from callboard.core import events as ev
from callboard.core import ids
from callboard.core.errors import InvalidStateError, ValidationError
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
from callboard.routing.workflow import Target, Workflow

log = logging.getLogger(__name__)

TTL_EXCEEDED = "Task TTL Exceeded"
DEFAULT_TASK_TIMEOUT = 86_400.0
MAX_RESERVED_LIMIT = 50


class Workspace(WorkspaceState):
    """One tenant's routing engine (TaskRouter's Workspace)."""

    # Tasks

    def create_task(
        self,
        workflow_sid: str,
        *,
        attributes: dict[str, Any] | None = None,
        channel: str = "default",
        priority: int = 0,
        timeout: float = DEFAULT_TASK_TIMEOUT,
        sid: str | None = None,
    ) -> Task:
        workflow = self.workflow(workflow_sid)
        if channel not in self.channels:
            raise ValidationError(f"unknown task channel {channel!r}", error_id="task_channel_not_found")
        if timeout <= 0:
            raise ValidationError("timeout must be > 0", field="timeout")
        now = self.clock.now()
        task = Task(
            sid=sid or ids.new_sid(ids.TASK),
            workflow_sid=workflow.sid,
            channel=channel,
            attributes=dict(attributes or {}),
            priority=priority,
            timeout=timeout,
            date_created=now,
            date_updated=now,
            seq=next(self._seq),
        )
        self._check_routable(workflow, task)
        self.tasks[task.sid] = task
        self._emit_data(ev.TASK_CREATED, "task", task.sid, self._task_data(task, now), now)
        self._offer_first = task  # the TTL deadline is pushed when it could fire first (`_arm_ttl`)
        try:
            self._route(task)
        finally:
            placed, self._offer_first = self._offer_first is None, None
        if placed and not self._dirty_workers and not self._dirty_tasks:
            self._offer_new(task)
        if task.held_step is not None and not self._hold_step(task, now + workflow.task_reservation_timeout):
            self._release_step(task)
        self._touch(task)
        self._dispatch()
        return task

    def _offer_new(self, task: Task) -> None:
        """Offer a new task before listing it, and list it only if it can take more offers.

        The same as listing it and dispatching it alone (every other waiting task was already offered to
        every free worker it could go to), without adding to and at once removing from a `SortedList`.
        """
        if self._offer_task(task) > 0 and task.is_waiting and task.sid not in self._wait_keys:
            self._list(task)

    def _hold_step(self, task: Task, offers_end: float) -> bool:
        """Whether a new task's step deadline can be held back until its first offers end (`_release_step`).

        A task reserved as it is created is mostly accepted before its step ends, and then its step deadline
        would only sit in the heap. It can wait while the task is reserved and not listed, unless the TTL
        deadline it would arm could come due before its offers time out (at `offers_end`).
        """
        if task.status is not TaskStatus.RESERVED or task.sid in self._wait_keys:
            return False
        return task.ttl_armed or offers_end < self._expiry(task)

    def _release_step(self, task: Task) -> None:
        """Push a held step deadline in its place, or, if it would have come due already, do what `_fire` did.

        The task was reserved all along, so firing it armed the TTL and marked the step expired.
        """
        seq, task.held_step = task.held_step, None
        deadline = task.target_deadline
        assert seq is not None and deadline is not None
        if self._timers.passed(deadline, seq):
            self._arm_ttl(task)
            self._expired_step.add(task.sid)
        else:
            self._timers.add(deadline, "step", task.sid, (task.filter_index, task.target_index, deadline), seq)

    def _check_routable(self, workflow: Workflow, task: Task) -> None:
        if workflow.config.default_filter is None and workflow.config.first_match(task.attributes) < 0:
            raise ValidationError(
                "no workflow filter matches the task and the workflow has no default_filter",
                error_id="task_not_routable",
                workflow_sid=workflow.sid,
            )

    def update_task(
        self,
        sid: str,
        *,
        attributes: dict[str, Any] | None = None,
        priority: int | None = None,
        assignment_status: str | None = None,
        reason: str | None = None,
    ) -> Task:
        """TaskRouter's task update: new attributes re-route a pending task; status drives the lifecycle."""
        task = self.task(sid)
        if attributes is not None:
            task.attributes = dict(attributes)
            if task.status is TaskStatus.PENDING:
                self._route(task)
        if priority is not None and priority != task.priority:
            task.priority = priority
            if self._is_listed(task):
                self._unlist(task)
                self._list(task)
                self._dirty_tasks[task.sid] = None
        if attributes is not None or priority is not None:
            now = task.date_updated = self.clock.now()
            self._touch(task)
            self._emit_data(ev.TASK_UPDATED, "task", sid, self._task_data(task, now), now)
        if assignment_status is not None:
            if assignment_status == TaskStatus.CANCELED:
                self.cancel_task(sid, reason or "canceled")
            elif assignment_status in (TaskStatus.WRAPPING, TaskStatus.COMPLETED):
                res = self._assigned_reservation(task)
                if assignment_status == TaskStatus.WRAPPING:
                    self.wrapup_reservation(res.sid)
                else:
                    self.complete_reservation(res.sid, reason=reason)
            else:
                raise ValidationError(
                    f"assignment_status can be set to canceled, wrapping or completed, not {assignment_status!r}",
                    error_id="invalid_assignment_status",
                )
        self._dispatch()
        return task

    def _assigned_reservation(self, task: Task) -> Reservation:
        for res_sid in task.reservations:
            res = self.reservations[res_sid]
            if res.status in (ReservationStatus.ACCEPTED, ReservationStatus.WRAPPING):
                return res
        raise InvalidStateError(
            f"task {task.sid} is {task.status}, not assigned",
            error_id="task_invalid_state",
            sid=task.sid,
            status=str(task.status),
        )

    def cancel_task(self, sid: str, reason: str = "canceled") -> Task:
        """Cancel a task that no worker has accepted yet (the caller hung up, the chat left)."""
        task = self.task(sid)
        if task.status is TaskStatus.RESERVED:
            for res_sid in list(task.reservations):
                res = self.reservations[res_sid]
                if res.status is ReservationStatus.PENDING:
                    self._end_offer(res, ReservationStatus.CANCELED, reason=reason, requeue=False)
        task.set_status(TaskStatus.CANCELED, self.clock.now())  # assigned tasks complete instead
        task.reason = reason
        self._finish_task(task, ev.TASK_CANCELED)
        self._dispatch()
        return task

    def transfer_task(self, sid: str, *, queue_sid: str | None = None, worker_sid: str | None = None) -> Task:
        """Move a task to another queue or worker; an assigned task hands over as a new task of the same age."""
        task = self.task(sid)
        if queue_sid is None and worker_sid is None:
            raise ValidationError("transfer needs a queue_sid or a worker_sid", error_id="transfer_target_missing")
        queue = self.queue(queue_sid) if queue_sid else None
        worker = self.worker(worker_sid) if worker_sid else None
        target_queue = queue.sid if queue else task.queue_sid
        if target_queue is None:
            raise ValidationError("transfer to a worker needs the task's queue", error_id="transfer_target_missing")
        forced = Target(target_queue, known_worker_sid=worker.sid if worker else None)
        if task.is_waiting:
            for res_sid in list(task.reservations):
                res = self.reservations[res_sid]
                if res.status is ReservationStatus.PENDING:
                    self._end_offer(res, ReservationStatus.CANCELED, reason="transferred")
            self._emit(ev.TASK_TRANSFER_INITIATED, "task", sid, to_queue_sid=queue_sid, to_worker_sid=worker_sid)
            self._enter_step(task, forced, filter_index=None, target_index=0)
            self._touch(task)
            self._dispatch()
            return task
        res = self._assigned_reservation(task)
        now = self.clock.now()
        new = Task(
            sid=ids.new_sid(ids.TASK),
            workflow_sid=task.workflow_sid,
            channel=task.channel,
            attributes={
                **task.attributes,
                "transferred_from": {"task_sid": sid, "worker_sid": res.worker_sid},
            },
            priority=task.priority,
            timeout=task.timeout,
            date_created=task.date_created,
            date_updated=now,
            seq=task.seq,
            transferred_from=sid,
            expires_at=now + task.timeout,
        )
        self.tasks[new.sid] = new
        self._emit(ev.TASK_TRANSFER_INITIATED, "task", sid, new_task_sid=new.sid, to_queue_sid=queue_sid)
        self._emit_data(ev.TASK_CREATED, "task", new.sid, self._task_data(new, now), now)
        self._enter_step(new, forced, filter_index=None, target_index=0)
        self._touch(new)
        if res.status is ReservationStatus.ACCEPTED:
            self.wrapup_reservation(res.sid)
        self._dispatch()
        return new

    def _task_data(self, task: Task, now: float) -> dict[str, Any]:
        return {
            "task_sid": task.sid,
            "workflow_sid": task.workflow_sid,
            "queue_sid": task.queue_sid,
            "channel": task.channel,
            "priority": task.priority,
            "status": str(task.status),
            "age": now - task.date_created,
            "date_created": task.date_created,
            "reason": task.reason,
        }

    # Workflow steps

    def _route(self, task: Task) -> None:
        """(Re-)enter the workflow from its first filter, keeping the task's age."""
        workflow = self.workflows[task.workflow_sid]
        task.date_entered_workflow = self.clock.now()
        index = workflow.config.first_match(task.attributes)
        if index >= 0:
            name = workflow.config.filters[index].name
            self._emit(ev.WORKFLOW_ENTERED, "task", task.sid, workflow_sid=workflow.sid, filter=name)
            self._enter_target(task, index, 0)
            return
        self._emit(ev.WORKFLOW_ENTERED, "task", task.sid, workflow_sid=workflow.sid, filter="default")
        self._enter_target(task, -1, 0)

    def _targets(self, task: Task, filter_index: int | None) -> tuple[Target, ...]:
        config = self.workflows[task.workflow_sid].config
        if filter_index is None:
            return ()
        if filter_index == -1:
            return () if config.default_filter is None else (config.default_filter,)
        if filter_index >= len(config.filters):
            return ()
        return config.filters[filter_index].targets

    def _enter_target(self, task: Task, filter_index: int, target_index: int) -> None:
        """Place the task on a workflow step; past the last step, fall to the default filter."""
        targets = self._targets(task, filter_index)
        if target_index >= len(targets):
            config = self.workflows[task.workflow_sid].config
            self._emit(ev.WORKFLOW_TIMEOUT, "task", task.sid, workflow_sid=task.workflow_sid)
            if filter_index != -1 and config.default_filter is not None:
                task.date_entered_workflow = self.clock.now()
                self._enter_target(task, -1, 0)
            else:
                # No step left: the task stays in its last queue, listed again if an ended offer unlisted it.
                task.target_deadline = None
                self._arm_ttl(task)
                if task.is_waiting and self._slots(task) > 0:
                    self._list(task)
                    self._dirty_tasks[task.sid] = None
            return
        target = targets[target_index]
        deadline = None
        if target.timeout is not None:
            elapsed = 0.0
            for step in targets[: target_index + 1]:
                elapsed += step.timeout or 0.0
            deadline = task.date_entered_workflow + elapsed
        self._enter_step(task, target, filter_index=filter_index, target_index=target_index, deadline=deadline)

    def _enter_step(
        self,
        task: Task,
        target: Target,
        *,
        filter_index: int | None,
        target_index: int,
        deadline: float | None = None,
    ) -> None:
        now = self.clock.now()
        self._unlist(task)
        old_queue = task.queue_sid
        task.filter_index = filter_index
        task.target_index = target_index
        task.queue_sid = target.queue
        task.target_expression = target.expression
        task.target_order_by = target.order_by
        task.known_worker_sid = self._known_worker(task, target)
        if target.priority is not None:
            task.priority = target.priority
        task.target_deadline = deadline
        task.held_step = None  # one held for an earlier step would be stale
        self._expired_step.discard(task.sid)
        if old_queue != target.queue:
            task.date_entered_queue = now
            if old_queue is not None:
                self._emit(ev.TASK_QUEUE_MOVED, "task", task.sid, queue_sid=target.queue, from_queue_sid=old_queue)
            self._emit_data(ev.TASK_QUEUE_ENTERED, "task", task.sid, self._task_data(task, now), now)
        self._emit(
            ev.WORKFLOW_TARGET_MATCHED,
            "task",
            task.sid,
            queue_sid=target.queue,
            filter_index=filter_index,
            target_index=target_index,
        )
        if deadline is not None:
            if deadline <= now:
                self._advance(task)
                return
            if self._offer_first is task:
                task.held_step = self._timers.reserve()  # see `_hold_step`
            else:
                self._timers.add(deadline, "step", task.sid, (filter_index, target_index, deadline))
        if deadline is None or deadline >= self._expiry(task):
            self._arm_ttl(task)
        if target.skip_if is not None:
            self._fresh_step.add(task.sid)
        if self._offer_first is task:
            self._offer_first = None  # create_task offers it, then lists it if it can take more offers
        else:
            self._list(task)
            self._dirty_tasks[task.sid] = None
        self._touch(task)

    @staticmethod
    def _expiry(task: Task) -> float:
        return task.date_created + task.timeout if task.expires_at is None else task.expires_at

    def _arm_ttl(self, task: Task) -> None:
        """Push the task's TTL deadline, once.

        A waiting task whose step has a deadline before its TTL does not need it in the heap yet: that step
        deadline comes due first and arms it (`_fire`). Most tasks are assigned before then, so their TTL is
        never pushed, and never has to be dropped from the heap as stale.
        """
        if not task.ttl_armed:
            task.ttl_armed = True
            self._timers.add(self._expiry(task), "ttl", task.sid, None)

    def _known_worker(self, task: Task, target: Target) -> str | None:
        if target.known_worker_sid is None and target.known_worker_friendly_name is None:
            return None

        def resolve(ref: str | None) -> str | None:
            if ref is None:
                return None
            if ref.startswith("task."):
                value: Any = task.attributes
                for part in ref[5:].split("."):
                    value = value.get(part) if isinstance(value, dict) else None
                return None if value is None else str(value)
            return ref

        by_sid = resolve(target.known_worker_sid)
        if by_sid is not None:
            return by_sid
        name = resolve(target.known_worker_friendly_name)
        if name is not None:
            worker = self.worker_by_name(name)
            return worker.sid if worker else "unknown:" + name
        return None

    def _advance(self, task: Task) -> None:
        if task.filter_index is None:
            return
        self._emit(ev.TASK_QUEUE_TIMEOUT, "task", task.sid, queue_sid=task.queue_sid)
        self._enter_target(task, task.filter_index, task.target_index + 1)

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
            self._dirty_workers.clear()
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
        ready = self.membership.worker_ready.get(worker.sid, frozenset())
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
            if task.known_worker_sid is not None:
                known = self.workers.get(task.known_worker_sid)
                ready = known is not None and task.channel in self.membership.worker_ready.get(known.sid, ())
                candidates: Sequence[Worker] = (
                    [known] if ready and known is not None and self._can_offer(task, known) else []
                )
            else:
                candidates = self._candidates(task)
            if candidates:
                queue = self.queues[task.queue_sid]  # type: ignore[index]
                if queue.strategy in (Strategy.RANDOM, Strategy.WEIGHTED_RANDOM):
                    candidates = sorted(
                        candidates, key=lambda w: w.seq
                    )  # draw in a fixed order, so a seed replays a run
                if slots == 1 and queue.strategy is Strategy.LONGEST_IDLE and not task.target_order_by:
                    chosen = [longest_idle(candidates)]
                else:
                    key = order_by_key(task.target_order_by, sort_key(queue, task.attributes, self._rng))
                    chosen = [min(candidates, key=key)] if slots == 1 else heapq.nsmallest(slots, candidates, key=key)
                for worker in chosen:
                    self._reserve(task, worker)
                    created += 1
        if task.sid in self._fresh_step:
            self._fresh_step.discard(task.sid)
            if created == 0:
                self._maybe_skip(task)
                return self._slots(task)  # a skip may have moved the task to another queue
        return slots - created

    def _candidates(self, task: Task) -> Sequence[Worker]:
        """The ready members of the task's queue that `_can_offer` would pass, found by set operations."""
        queue_sid: str = task.queue_sid  # type: ignore[assignment]
        membership = self.membership
        ready = membership.ready_on[task.channel]
        if not ready:
            return []
        expression = task.target_expression
        workers: Sequence[Worker]
        if expression is None:
            workers = membership.with_room(membership.members(queue_sid), task.channel)
        elif (matching := membership.matching(queue_sid, expression, task.attributes)) is not None:
            workers = membership.with_room(matching, task.channel)
        else:
            scope = {"task": task.attributes}
            workers = [
                w
                for w in membership.member_workers[queue_sid] & ready
                if expression.predicate(scope | {"worker": w.attributes})
            ]
        if task.excluded_workers or task.reservations:
            offered = {self.reservations[r].worker_sid for r in task.reservations}
            return [w for w in workers if w.sid not in task.excluded_workers and w.sid not in offered]
        return workers

    def _maybe_skip(self, task: Task) -> None:
        targets = self._targets(task, task.filter_index)
        if task.target_index >= len(targets):
            return
        target = targets[task.target_index]
        if target.skip_if is None or task.queue_sid is None:
            return
        members = self.membership.queue_members[task.queue_sid]
        available = sum(1 for s in members if self.is_available(self.workers[s]))
        counts: dict[str, Any] = {"available": available, "unavailable": len(members) - available}
        for sid in members:
            activity = self.workers[sid].activity_sid
            counts[activity] = counts.get(activity, 0) + 1
        if target.skip_if.evaluate({"workers": counts, "task": task.attributes}):
            self._emit(ev.WORKFLOW_SKIPPED, "task", task.sid, queue_sid=task.queue_sid)
            self._enter_target(task, task.filter_index, task.target_index + 1)  # type: ignore[arg-type]

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
        self.worker_reservations[worker.sid].add(res.sid)
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
        self.worker_reservations[worker.sid].discard(res.sid)
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
        res = self.reservation(sid)
        if res.status is not ReservationStatus.WRAPPING:
            raise InvalidStateError(
                f"reservation {sid} is {res.status}, not wrapping",
                error_id="reservation_invalid_state",
                sid=sid,
                status=str(res.status),
            )
        base = res.wrapup_deadline or self.clock.now()
        res.wrapup_deadline = base + seconds
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
        self._emit_data(ev.RESERVATION_COMPLETED, "reservation", sid, self._reservation_data(res, task, now), now)
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

    def _finish_task(self, task: Task, event: str) -> None:
        self._unlist(task)
        self._fresh_step.discard(task.sid)
        self._expired_step.discard(task.sid)
        now = self.clock.now()
        self._emit_data(event, "task", task.sid, self._task_data(task, now), now)
        self._touch(task)
        del self.tasks[task.sid]
        self._timers.went_stale(self._deadline_is_live)

    def _deadline_is_live(self, kind: str, sid: str, token: object) -> bool:
        """False for a deadline `_fire` would ignore because its task or reservation is gone."""
        if kind in ("reservation", "wrapup"):
            return sid in self.reservations
        return sid in self.tasks

    # Restoring from the store

    def adopt_worker(self, worker: Worker) -> None:
        """Take in a stored worker as it was (no events)."""
        self.workers[worker.sid] = worker
        self._name_worker(worker)
        self.worker_reservations[worker.sid] = set()
        self._worker_seq = itertools.count(max(worker.seq + 1, next(self._worker_seq)))
        self.membership.add_worker(worker)

    def adopt_tasks(self, tasks: list[Task], reservations: list[Reservation]) -> None:
        """Take in stored live tasks and their live reservations, then rebuild lists, counts and timers."""
        for task in tasks:
            self.tasks[task.sid] = task
            self._seq = itertools.count(max(task.seq + 1, next(self._seq)))
        for res in reservations:
            owner = self.tasks.get(res.task_sid)
            worker = self.workers.get(res.worker_sid)
            if owner is None or worker is None or res.channel not in worker.channels:
                continue
            self.reservations[res.sid] = res
            self.worker_reservations[worker.sid].add(res.sid)
            owner.reservations.add(res.sid)
            worker.channels[res.channel].used += 1
            if res.status is ReservationStatus.PENDING:
                self._timers.add(res.timeout_at, "reservation", res.sid, None)
            elif res.status is ReservationStatus.WRAPPING and res.wrapup_deadline is not None:
                self._timers.add(res.wrapup_deadline, "wrapup", res.sid, None)
        for task in tasks:
            if not task.is_waiting:
                continue
            if task.status is TaskStatus.RESERVED and not task.reservations:
                task.status = TaskStatus.PENDING
            task.ttl_armed = False
            self._arm_ttl(task)
            targets = self._targets(task, task.filter_index)
            if task.filter_index is not None and task.target_index < len(targets):
                target = targets[task.target_index]
                task.target_expression, task.target_order_by = target.expression, target.order_by
            if task.target_deadline is not None:
                token = (task.filter_index, task.target_index, task.target_deadline)
                self._timers.add(task.target_deadline, "step", task.sid, token)
                if task.status is TaskStatus.RESERVED and task.target_deadline <= self.clock.now():
                    self._expired_step.add(task.sid)  # the step ended while an offer rang
            if task.queue_sid in self.queues and self._slots(task) > 0:
                self._list(task)
                self._dirty_tasks[task.sid] = None
        for worker in self.workers.values():
            self._refresh_ready(worker)
        self._dispatch()

    # Time

    def next_deadline(self) -> float | None:
        return self._timers.next_deadline()

    def tick(self) -> int:
        """Fire every deadline that is due; returns how many fired."""
        fired = 0
        now = self.clock.now()
        while (due := self._timers.pop_due(now)) is not None:
            if self._fire(due[2], due[3], due[4]):
                fired += 1
        self._dispatch()
        return fired

    def _fire(self, kind: str, sid: str, token: object) -> bool:
        now = self.clock.now()
        if kind == "reservation":
            res = self.reservations.get(sid)
            if res is None or res.status is not ReservationStatus.PENDING or res.timeout_at > now:
                return False
            worker = self.workers[res.worker_sid]
            self._end_offer(res, ReservationStatus.TIMEOUT, reason="reservation timeout")
            if self.timeout_activity_sid is not None:
                self._set_activity(worker, self.timeout_activity_sid)
            return True
        if kind == "wrapup":
            res = self.reservations.get(sid)
            if res is None or res.status is not ReservationStatus.WRAPPING:
                return False
            if res.wrapup_deadline is None or res.wrapup_deadline > now:
                return False
            self.complete_reservation(sid, reason="wrap-up time ended")
            return True
        task = self.tasks.get(sid)
        if task is None or not task.is_waiting:
            return False
        if kind == "ttl":
            self.cancel_task(sid, TTL_EXCEEDED)
            return True
        if kind == "step":
            self._arm_ttl(task)  # the step deadline that stood in for the TTL deadline came due
            if token != (task.filter_index, task.target_index, task.target_deadline):
                return False
            if task.status is TaskStatus.RESERVED:
                # An offer is ringing: let it finish, then move on if it is not accepted.
                self._expired_step.add(sid)
                return True
            self._advance(task)
            return True
        raise AssertionError(f"unknown timer kind {kind}")
