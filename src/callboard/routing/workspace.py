"""The routing engine of one workspace: resources, tasks, reservations, timers and dispatch.

Every public operation changes state, then dispatches until no available eligible worker and waiting
task are left unmatched (work conservation), and queues its events. Time comes from the injected clock;
`tick()` fires the deadlines that are due. Nothing here does I/O.

The engine is three layers: `WorkspaceState` (state.py) holds the resources, `Offers` (offers.py) the
waiting lists, dispatch and reservations, and `Workspace` here tasks, their workflow steps, restoring
and time.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

from callboard.core import events as ev
from callboard.core import ids
from callboard.core.errors import InvalidStateError, ValidationError
from callboard.routing import ewt
from callboard.routing.model import (
    Reservation,
    ReservationStatus,
    Task,
    TaskStatus,
    Worker,
)
from callboard.routing.offers import Offers
from callboard.routing.workflow import Target, Workflow

log = logging.getLogger(__name__)

TTL_EXCEEDED = "Task TTL Exceeded"
DEFAULT_TASK_TIMEOUT = 86_400.0
MAX_RESERVED_LIMIT = 50


class Workspace(Offers):
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
        queue_sid: str | None = None,
        worker_sid: str | None = None,
    ) -> Task:
        """A new task, routed by the workflow's filters; or, with `queue_sid`, put straight in that queue (for
        `worker_sid` alone, if given), past the filters, as a transfer does: a call an agent places, a consultation
        of a queue. It is then offered in the same step, to nobody else."""
        workflow = self.workflow(workflow_sid)
        if channel not in self.channels:
            raise ValidationError(f"unknown task channel {channel!r}", error_id="task_channel_not_found")
        if timeout <= 0:
            raise ValidationError("timeout must be > 0", field="timeout")
        if worker_sid is not None and queue_sid is None:
            raise ValidationError("a task for a worker needs its queue", error_id="transfer_target_missing")
        forced = None
        if queue_sid is not None:
            known = self.worker(worker_sid).sid if worker_sid is not None else None
            forced = Target(self.queue(queue_sid).sid, known_worker_sid=known)
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
        if forced is None:
            self._check_routable(workflow, task)
        self.tasks[task.sid] = task
        self._emit_data(ev.TASK_CREATED, "task", task.sid, self._task_data(task, now), now)
        self._offer_first = task  # the TTL deadline is pushed when it could fire first (`_arm_ttl`)
        try:
            if forced is None:
                self._route(task)
            else:
                task.date_entered_workflow = now
                self._enter_step(task, forced, filter_index=None, target_index=0)
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

    def wait_estimate(self, task_sid: str) -> ewt.WaitEstimate | None:
        """The task's position in line and estimated wait (ewt.py); None when there is nothing to announce:
        an offer of it is ringing, an agent accepted it, or it ended (or never existed)."""
        task = self.tasks.get(task_sid)
        return None if task is None else ewt.estimate(self, task)

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

    def _finish_task(self, task: Task, event: str) -> None:
        self._unlist(task)
        self._fresh_step.discard(task.sid)
        self._expired_step.discard(task.sid)
        now = self.clock.now()
        self._emit_data(event, "task", task.sid, self._task_data(task, now), now)
        self._touch(task)
        del self.tasks[task.sid]
        self._timers.went_stale(self._deadline_is_live)

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

    # Restoring from the store

    def adopt_worker(self, worker: Worker) -> None:
        """Take in a stored worker as it was (no events)."""
        self.workers[worker.sid] = worker
        self._name_worker(worker)
        worker.reservations = set()
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
            worker.reservations.add(res.sid)
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

    def _deadline_is_live(self, kind: str, sid: str, token: object) -> bool:
        """False for a deadline `_fire` would ignore because its task or reservation is gone."""
        if kind in ("reservation", "wrapup"):
            return sid in self.reservations
        return sid in self.tasks
