"""Callbacks whose customer did not answer, tried again later (the plan kept in the store until the retry is made)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from callboard.app.center import Center
from callboard.core import ids
from callboard.routing.workspace import Workspace

__all__ = ["PLANS", "RETRY", "CallbackRetries"]

log = logging.getLogger(__name__)

VOICE_CHANNEL = "voice"
RETRY = "callback_retry"  # a failed callback task's attribute: its planned retry, {"sid": ..., "at": ...}
PLANS = "callback_retry"  # the store's document kind of a retry not made yet, named by the retry's task sid


class CallbackRetries:
    """Callbacks to try again: while attempts remain (`callback_retries` after the first), a new task of the same
    workflow, priority and number, `callback_retry_every` seconds after the customer did not answer.

    The plan is shown on the failed task (`callback_retry`: the retry's task sid and when it is due) and kept in
    the store as a document until the retry is made, so the routing engine needs no timer of its own and a node
    that starts (`resume`) makes every planned retry, at once if it is overdue, however long it was down.
    """

    def __init__(self, center: Center) -> None:
        self.center = center
        self._waiting: dict[str, asyncio.Task[None]] = {}  # retry task sid -> its wait

    async def plan(self, workspace_sid: str, task_sid: str) -> None:
        """The customer of the callback task did not answer: keep a retry on the task and wait for it."""
        task = self.center.workspace(workspace_sid).tasks.get(task_sid)
        if task is None:
            return
        attributes = dict(task.attributes)
        if int(attributes.get("callback_attempt", 1)) > int(attributes.get("callback_retries", 0)):
            log.info("callback task %s: no attempts left", task_sid)
            return
        due = self.center.clock.now() + float(attributes.get("callback_retry_every", 300))
        attributes[RETRY] = {"sid": ids.new_sid(ids.TASK), "at": due}
        plan = {"workflow_sid": task.workflow_sid, "priority": task.priority, "attributes": attributes}
        await self.center.store.put_document(workspace_sid, PLANS, attributes[RETRY]["sid"], plan)
        await self.center.run(workspace_sid, lambda w: w.update_task(task_sid, attributes=attributes))
        self._schedule(workspace_sid, task.workflow_sid, task.priority, attributes)

    async def resume(self) -> int:
        """After a restart: schedules the retries planned and not made yet. Returns how many."""
        store, resumed = self.center.store, 0
        for sid, engine in list(self.center.workspaces().items()):
            for document in await store.list_documents(sid, PLANS):
                retry_sid, plan = document["name"], document["body"]
                if retry_sid in self._waiting:
                    continue
                if retry_sid in engine.tasks or await store.get(sid, "task", retry_sid) is not None:
                    await store.delete_document(sid, PLANS, retry_sid)  # made, the plan's removal was lost
                    continue
                self._schedule(sid, plan["workflow_sid"], plan["priority"], plan["attributes"])
                resumed += 1
        return resumed

    def _schedule(self, workspace_sid: str, workflow_sid: str, priority: int, attributes: dict[str, Any]) -> None:
        retry_sid, due = str(attributes[RETRY]["sid"]), float(attributes[RETRY]["at"])
        again = {k: v for k, v in attributes.items() if k != RETRY}
        again["callback_attempt"] = int(attributes.get("callback_attempt", 1)) + 1

        def make(w: Workspace) -> None:
            if retry_sid not in w.tasks:
                w.create_task(workflow_sid, attributes=again, channel=VOICE_CHANNEL, priority=priority, sid=retry_sid)

        async def later() -> None:
            await asyncio.sleep(max(0.0, due - self.center.clock.now()))
            try:
                await self.center.run(workspace_sid, make)  # stored when it returns
            except Exception:  # the workflow or the workspace went away meanwhile: the plan cannot be kept
                log.exception("callback retry %s not made", retry_sid)
            try:
                await self.center.store.delete_document(workspace_sid, PLANS, retry_sid)
            except Exception:  # the next start finds the retry made and removes its plan then
                log.exception("callback retry %s: its plan stays in the store", retry_sid)

        waiting = asyncio.get_running_loop().create_task(later(), name=f"callback-retry-{retry_sid}")
        self._waiting[retry_sid] = waiting
        waiting.add_done_callback(lambda _: self._waiting.pop(retry_sid, None))

    async def close(self) -> None:
        """The node stops: the waits end here, the plans stay in the store."""
        for waiting in list(self._waiting.values()):
            waiting.cancel()
        await asyncio.gather(*self._waiting.values(), return_exceptions=True)
