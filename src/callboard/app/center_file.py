"""The API's `CenterFilePort`: export, plan and apply a whole center file against the running center.

The same code as `callboard export` and `callboard apply` (`app/apply.py`), with what a running center adds:
one apply at a time, and a plan checked against live work first. A change the engine would refuse while
calls and chats are in progress (deleting a queue that holds tasks, a worker with an offer) blocks the whole
apply before anything changes, rather than stopping it halfway.
"""

from __future__ import annotations

import asyncio

from callboard.api.ports import Blocked, CenterPlan
from callboard.app.apply import Applier, export_center, plan_center, with_sip_credentials
from callboard.app.center import Center as Runtime
from callboard.config import model as m
from callboard.config.plan import Change, format_plan
from callboard.core.errors import CallboardError, ConflictError
from callboard.routing.workspace import Workspace


class CenterFile:
    """Export, plan and apply for one running center; `sip_realm` is the server's (clear passwords in a file
    give SIP credentials in it, as `callboard apply` does)."""

    def __init__(self, runtime: Runtime, sip_realm: str) -> None:
        self.runtime = runtime
        self.sip_realm = sip_realm
        self._lock = asyncio.Lock()  # two applies at once would each plan against a center the other changes

    async def export(self) -> m.Center:
        return await export_center(self.runtime)

    async def plan(self, desired: m.Center) -> CenterPlan:
        changes = await plan_center(self.runtime, desired, sip_realm=self.sip_realm)
        return CenterPlan(changes, blocked_changes(self.runtime.workspaces(), changes, desired))

    async def apply(self, desired: m.Center) -> list[Change]:
        """Carry out the plan, in its order; 409 `apply_blocked` (nothing changed) when live work blocks a
        change, 409 `apply_incomplete` when a step fails anyway (the steps before it stay made)."""
        async with self._lock:
            planned = await self.plan(desired)
            if planned.blocked:
                raise ConflictError(
                    f"{len(planned.blocked)} change(s) cannot be made while work is in progress; nothing was changed",
                    error_id="apply_blocked",
                    blocked=[{"change": format_plan([b.change]), "reason": b.reason} for b in planned.blocked],
                )
            applier = Applier(self.runtime, with_sip_credentials(desired, self.sip_realm))
            for done, change in enumerate(planned.changes):
                try:
                    await applier.apply(change)
                except CallboardError as exc:
                    raise ConflictError(
                        f"applied {done} of {len(planned.changes)} changes; {format_plan([change])} failed: "
                        f"{exc.message}",
                        error_id="apply_incomplete",
                        applied=[format_plan([c]) for c in planned.changes[:done]],
                        failed=format_plan([change]),
                        cause={"id": exc.error_id, "message": exc.message},
                    ) from exc
            return planned.changes


def blocked_changes(engines: dict[str, Workspace], changes: list[Change], desired: m.Center) -> list[Blocked]:
    """The deletes the engines would refuse now because of live tasks, offers or agents in a state.

    Only deletes can be: creates and updates never meet live work the engine refuses. The children of a
    deleted workspace go with it, so only the workspace itself is looked at.
    """
    by_name = {w.friendly_name: w for w in engines.values()}
    gone = {c.name for c in changes if c.kind == "workspace" and c.action == "delete"}
    deleted_workers = {(c.workspace, c.name) for c in changes if c.kind == "worker" and c.action == "delete"}
    blocked: list[Blocked] = []
    for change in changes:
        ws = by_name.get(change.workspace or "")
        if change.action != "delete" or ws is None or (change.kind != "workspace" and change.workspace in gone):
            continue
        reason = _busy(ws, change, desired, deleted_workers)
        if reason is not None:
            blocked.append(Blocked(change, reason))
    return blocked


def _tasks(count: int, where: str) -> str:
    return f"{count} live task{'s' if count != 1 else ''} {where}"


def _busy(ws: Workspace, change: Change, desired: m.Center, deleted_workers: set[tuple[str | None, str]]) -> str | None:
    live = list(ws.tasks.values())
    if change.kind == "workspace":
        return _tasks(len(live), "in the workspace") if live else None
    if change.kind == "queue":
        queue = ws.queue_by_name(change.name)
        count = sum(1 for t in live if queue is not None and t.queue_sid == queue.sid)
        return _tasks(count, "in the queue") if count else None
    if change.kind == "workflow":
        sids = {w.sid for w in ws.workflows.values() if w.friendly_name == change.name}
        count = sum(1 for t in live if t.workflow_sid in sids)
        return _tasks(count, "routed by the workflow") if count else None
    if change.kind == "channel":
        count = sum(1 for t in live if t.channel == change.name)
        return _tasks(count, "on the channel") if count else None
    if change.kind == "worker":
        worker = ws.worker_by_name(change.name)
        if worker is not None and worker.reservations:
            return "the worker has live reservations (a task offered, in progress or in wrap-up)"
        return None
    if change.kind == "activity":
        return _activity_in_use(ws, change, desired, deleted_workers)
    return None


def _activity_in_use(
    ws: Workspace, change: Change, desired: m.Center, deleted_workers: set[tuple[str | None, str]]
) -> str | None:
    """Workers left in the activity: not deleted, and not moved to another one by the file."""
    space = desired.workspace(ws.friendly_name)
    wanted = {w.name: w.activity for w in space.workers} if space is not None else {}
    stuck = [
        w.friendly_name
        for w in ws.workers.values()
        if ws.activities[w.activity_sid].friendly_name == change.name
        and (ws.friendly_name, w.friendly_name) not in deleted_workers
        and wanted.get(w.friendly_name) in (None, change.name)
    ]
    if not stuck:
        return None
    return f"workers are in the activity and the file moves them nowhere else: {', '.join(sorted(stuck))}"
