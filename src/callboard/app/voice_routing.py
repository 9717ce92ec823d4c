"""The voice node's side of routing. `voice` and `routing` never import each other (DESIGN.md); this module
adapts one to the other: `CenterRouting` is the B2BUA's `RoutingPort` over `Center`, `forward_offers` hands
the engine's reservation and task events to the B2BUA, and `release_orphans` ends the tasks of calls that did
not survive a restart."""

from __future__ import annotations

import logging
from typing import Any

from callboard.app.callback_retries import VOICE_CHANNEL, CallbackRetries
from callboard.app.center import Center
from callboard.app.ivr import IvrConfig
from callboard.app.sip_directory import Directory
from callboard.bus.memory import Subscription
from callboard.core import events as ev
from callboard.core.errors import ConflictError, NotFoundError, ValidationError
from callboard.routing.model import ReservationStatus, TaskStatus, Worker
from callboard.routing.workspace import Workspace
from callboard.voice.calls.b2bua import AgentContact, B2bua, Enqueued, Offer
from callboard.voice.sip.bindings import Binding, MemoryBindingStore
from callboard.voice.sip.uri import SipUri

__all__ = ["VOICE_CHANNEL", "CenterRouting", "forward_offers", "is_voice_event", "release_orphans"]

log = logging.getLogger(__name__)

ENDED_OFFERS = {
    ev.RESERVATION_TIMEOUT,
    ev.RESERVATION_CANCELED,
    ev.RESERVATION_RESCINDED,
    ev.RESERVATION_REJECTED,
}
ENDED_TASKS = {ev.TASK_CANCELED, ev.TASK_COMPLETED}
PHONE_ATTRIBUTE = "phone"  # a worker's attribute: how its calls reach it, "sip" (default) or "webrtc" (the browser)


class CenterRouting:
    """The B2BUA's `RoutingPort`: calls become voice tasks of the center's first workspace and workflow."""

    def __init__(
        self, center: Center, directory: Directory, bindings: MemoryBindingStore, ivr: IvrConfig | None = None
    ) -> None:
        self.center = center
        self.directory = directory
        self.bindings = bindings
        self.ivr = ivr
        self.retries = CallbackRetries(center)

    def _inbound_workspace(self) -> Workspace:
        engines = sorted(self.center.workspaces().values(), key=lambda w: w.friendly_name)
        for engine in engines:
            if VOICE_CHANNEL in engine.channels and engine.workflows:
                return engine
        raise ValidationError("no workspace has a voice channel and a workflow", error_id="no_voice_workspace")

    async def workspace_for(self, called: str) -> str | None:
        """The workspace of the number called; with no numbers configured anywhere, the first voice workspace."""
        if self.ivr is not None and await self.ivr.has_numbers():
            found = await self.ivr.number(called)
            return found[0].workspace_sid if found is not None else None
        try:
            return self._inbound_workspace().sid
        except ValidationError:
            return None

    async def enqueue(
        self,
        workspace_sid: str,
        call_sid: str,
        attributes: dict[str, Any],
        *,
        workflow: str | None = None,
        priority: int = 0,
        ttl: int | None = None,
        known_worker: str | None = None,
    ) -> Enqueued:
        """A voice task; `known_worker` goes in the attribute `known_worker`, which a workflow target names as
        `known_worker_friendly_name: task.known_worker` to offer the task to that agent first."""
        engine = self.center.workspace(workspace_sid)
        if workflow is None:
            chosen = min(engine.workflows.values(), key=lambda w: w.friendly_name)
        else:
            found = next((w for w in engine.workflows.values() if w.friendly_name == workflow), None)
            if found is None:
                raise NotFoundError(f"no workflow named {workflow!r}", error_id="workflow_not_found")
            chosen = found
        if known_worker:
            attributes = {**attributes, "known_worker": known_worker}
        options: dict[str, Any] = {"priority": priority} | ({"timeout": float(ttl)} if ttl else {})
        task = await self.center.run(
            engine.sid,
            lambda w: w.create_task(chosen.sid, attributes=attributes, channel=VOICE_CHANNEL, **options),
        )
        return Enqueued(engine.sid, task.sid)

    async def outbound_task(self, workspace_sid: str, worker_sid: str, attributes: dict[str, Any]) -> tuple[str, str]:
        """A task for the agent alone, in the first of its queues by name (or the workspace's first queue), past
        the workflow's filters, whose reservation is accepted at once, all in one step of the engine. An agent who
        is not available (or has no room for a voice task) cannot be given it: the task is canceled."""

        def op(w: Workspace) -> tuple[str, str] | None:
            w.worker(worker_sid)
            queues = w.membership.worker_queues.get(worker_sid) or set(w.queues)
            queue = min(queues, key=lambda sid: w.queues[sid].friendly_name)
            task = w.create_task(
                _first_workflow(w), attributes=attributes, channel=VOICE_CHANNEL, queue_sid=queue, worker_sid=worker_sid
            )
            reservation = _pending_for(w, task.sid, worker_sid)
            if reservation is None:
                w.cancel_task(task.sid, "agent not available for an outbound call")
                return None
            w.accept_reservation(reservation)
            return task.sid, reservation

        engine = self.center.workspace(workspace_sid)
        if not engine.workflows or not engine.queues:
            raise ConflictError("the workspace has no workflow or no queue", error_id="agent_not_available")
        made = await self.center.run(workspace_sid, op)
        if made is None:
            raise ConflictError(
                f"worker {worker_sid} cannot take a call now (not available, or busy)", error_id="agent_not_available"
            )
        return made

    async def queue_task(self, workspace_sid: str, queue: str, attributes: dict[str, Any]) -> Enqueued:
        """A task put straight in the queue named `queue`, past the workflow's filters."""

        def op(w: Workspace) -> str:
            found = next((q for q in w.queues.values() if q.friendly_name == queue), None)
            if found is None:
                raise NotFoundError(f"no queue named {queue!r}", error_id="queue_not_found", name=queue)
            task = w.create_task(_first_workflow(w), attributes=attributes, channel=VOICE_CHANNEL, queue_sid=found.sid)
            return task.sid

        if not self.center.workspace(workspace_sid).workflows:
            raise NotFoundError("the workspace has no workflow", error_id="queue_not_found")
        return Enqueued(workspace_sid, await self.center.run(workspace_sid, op))

    async def update(self, workspace_sid: str, task_sid: str, attributes: dict[str, Any]) -> None:
        def op(w: Workspace) -> None:
            task = w.task(task_sid)
            w.update_task(task_sid, attributes={**task.attributes, **attributes})

        await self.center.run(workspace_sid, op)

    async def callback_failed(self, workspace_sid: str, task_sid: str) -> None:
        await self.retries.plan(workspace_sid, task_sid)

    async def cancel(self, workspace_sid: str, task_sid: str, reason: str) -> None:
        def op(w: Workspace) -> None:
            task = w.tasks.get(task_sid)
            if task is not None and task.status in (TaskStatus.PENDING, TaskStatus.RESERVED):
                w.cancel_task(task_sid, reason)

        await self.center.run(workspace_sid, op)

    async def accept(self, workspace_sid: str, reservation_sid: str) -> bool:
        def op(w: Workspace) -> bool:
            res = w.reservations.get(reservation_sid)
            if res is None or res.status is not ReservationStatus.PENDING:
                return False
            w.accept_reservation(reservation_sid)
            return True

        return await self.center.run(workspace_sid, op)

    async def reject(self, workspace_sid: str, reservation_sid: str, *, unreachable: bool) -> None:
        def op(w: Workspace) -> None:
            res = w.reservations.get(reservation_sid)
            if res is not None and res.status is ReservationStatus.PENDING:
                # A worker with no phone to ring is set to the timeout activity, as a missed offer would.
                w.reject_reservation(reservation_sid, activity_sid=w.timeout_activity_sid if unreachable else None)

        await self.center.run(workspace_sid, op)

    async def wrap_up(self, workspace_sid: str, reservation_sid: str) -> None:
        def op(w: Workspace) -> None:
            res = w.reservations.get(reservation_sid)
            if res is not None and res.status is ReservationStatus.ACCEPTED:
                w.wrapup_reservation(reservation_sid)

        await self.center.run(workspace_sid, op)

    async def transfer(self, workspace_sid: str, task_sid: str, target: str) -> Enqueued:
        """`target` names a queue (by name) or an agent (by worker name or user name)."""

        def op(w: Workspace) -> str:
            queue = next((q for q in w.queues.values() if q.friendly_name == target), None)
            worker = None if queue is not None else w.worker_by_name(target) or self._worker_of_user(w, target)
            if queue is None and worker is None:
                raise NotFoundError(
                    f"no queue or agent named {target!r}", error_id="transfer_target_not_found", target=target
                )
            moved = w.transfer_task(
                task_sid, queue_sid=queue.sid if queue else None, worker_sid=worker.sid if worker else None
            )
            return moved.sid

        return Enqueued(workspace_sid, await self.center.run(workspace_sid, op))

    def _worker_of_user(self, w: Workspace, username: str) -> Worker | None:
        sid = self.directory.worker_of(username)
        return w.workers.get(sid) if sid is not None else None

    async def agent(self, username: str) -> tuple[str, str] | None:
        for engine in self.center.workspaces().values():
            worker = self._worker_of_user(engine, username)
            if worker is not None:
                return engine.sid, worker.sid
        return None

    async def worker_named(self, workspace_sid: str, name: str) -> tuple[str, str] | None:
        engine = self.center.workspace(workspace_sid)
        worker = engine.worker_by_name(name) or self._worker_of_user(engine, name)
        if worker is None:
            return None
        return worker.sid, str(worker.attributes.get(PHONE_ATTRIBUTE) or "sip")

    async def contacts_named(self, workspace_sid: str, name: str) -> list[AgentContact]:
        engine = self.center.workspace(workspace_sid)
        worker = engine.worker_by_name(name) or self._worker_of_user(engine, name)
        return await self.contacts(workspace_sid, worker.sid) if worker is not None else []

    async def contacts(self, workspace_sid: str, worker_sid: str) -> list[AgentContact]:
        names = set(self.directory.usernames(worker_sid))
        if not names:
            return []
        contacts: list[AgentContact] = []
        for aor in self.bindings.aors:
            if not any(aor.startswith(f"sip:{name}@") or aor.startswith(f"sips:{name}@") for name in names):
                continue
            contacts.extend(AgentContact(b.contact.uri, _reach(b)) for b in self.bindings.lookup(aor))
        return contacts

    async def save_call(self, record: dict[str, Any]) -> None:
        await self.center.store.save_call(record)


def _pending_for(w: Workspace, task_sid: str, worker_sid: str) -> str | None:
    """The task's pending reservation for the worker, if the engine made one."""
    task = w.tasks[task_sid]
    for sid in task.reservations:
        res = w.reservations[sid]
        if res.worker_sid == worker_sid and res.status is ReservationStatus.PENDING:
            return sid
    return None


def _reach(binding: Binding) -> tuple[str, int] | None:
    """Where to send to a phone: its contact, unless NAT rewrote the address it registered from (the contact
    names another host than the REGISTER came from) or it registered over a connection: then that source."""
    source, uri = binding.source, binding.contact.uri
    if source is None or not isinstance(uri, SipUri):
        return source
    if binding.transport != "UDP" or source[0] != uri.host.strip("[]"):
        return source
    return None


async def forward_offers(center: Center, b2bua: B2bua, subscription: Subscription) -> None:
    """Hands the engine's voice reservations and task endings to the B2BUA, as the bus delivers them."""
    async for event in subscription:
        try:
            _forward(center, b2bua, event)
        except Exception:
            log.exception("routing event %s not handled by the B2BUA", event.name)


def _forward(center: Center, b2bua: B2bua, event: ev.Event) -> None:
    data = event.data
    if event.name == ev.RESERVATION_CREATED:
        engine = center.workspaces().get(event.workspace_sid)
        res = engine.reservations.get(event.resource_sid) if engine is not None else None
        if res is None or res.channel != VOICE_CHANNEL or res.status is not ReservationStatus.PENDING:
            return
        ring = max(0.0, res.timeout_at - center.clock.now())
        task = engine.tasks.get(res.task_sid) if engine is not None else None
        call_sid = task.attributes.get("call_sid") if task is not None else None
        callback = task.attributes.get("callback_number") if task is not None else None
        worker = engine.workers.get(res.worker_sid) if engine is not None else None
        phone = str(worker.attributes.get(PHONE_ATTRIBUTE) or "sip") if worker is not None else "sip"
        b2bua.offer(
            Offer(
                res.task_sid,
                res.sid,
                res.worker_sid,
                res.queue_sid,
                ring,
                call_sid,
                event.workspace_sid,
                str(callback) if callback else None,
                phone,
            )
        )
    elif event.name in ENDED_OFFERS:
        b2bua.offer_ended(data.get("task_sid", ""), event.resource_sid)
    elif event.name in ENDED_TASKS:
        b2bua.task_ended(event.resource_sid, str(data.get("reason") or event.name))


def is_voice_event(event: ev.Event) -> bool:
    return event.name == ev.RESERVATION_CREATED or event.name in ENDED_OFFERS or event.name in ENDED_TASKS


async def release_orphans(center: Center, live_calls: set[str]) -> int:
    """Ends the voice tasks whose calls did not survive a restart: waiting ones are canceled, talking ones
    go to wrap-up. Returns how many."""
    released = 0
    for sid, engine in list(center.workspaces().items()):
        orphans = [
            t.sid
            for t in engine.tasks.values()
            if t.channel == VOICE_CHANNEL
            and not t.attributes.get("callback_number")  # a callback's task outlives the call it came from
            and t.attributes.get("call_sid")
            and t.attributes["call_sid"] not in live_calls
        ]
        if not orphans:
            continue

        def op(w: Workspace, orphans: list[str] = orphans) -> int:
            count = 0
            for task_sid in orphans:
                task = w.tasks.get(task_sid)
                if task is None:
                    continue
                if task.status in (TaskStatus.PENDING, TaskStatus.RESERVED):
                    w.cancel_task(task_sid, "call lost in a restart")
                    count += 1
                elif task.status is TaskStatus.ASSIGNED:
                    for res_sid in list(task.reservations):
                        if w.reservations[res_sid].status is ReservationStatus.ACCEPTED:
                            w.wrapup_reservation(res_sid)
                            count += 1
            return count

        released += await center.run(sid, op)
    return released


def _first_workflow(w: Workspace) -> str:
    """The workflow a task put straight in a queue is made by (for its reservation timeout and reports)."""
    return min(w.workflows.values(), key=lambda f: f.friendly_name).sid
