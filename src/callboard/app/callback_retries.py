"""Callbacks whose customer did not answer, tried again later (the plan kept on the failed task, in the store)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from callboard.app.center import Center
from callboard.core import events as ev
from callboard.core import ids
from callboard.routing.workspace import Workspace

__all__ = ["RETRY", "CallbackRetries"]

log = logging.getLogger(__name__)

VOICE_CHANNEL = "voice"
RETRY = "callback_retry"  # a failed callback task's attribute: its planned retry, {"sid": ..., "at": ...}
RETRY_HORIZON = 86_400.0  # seconds: how far back a starting node looks for planned callback retries
PAGE = 500  # events or records read at a time (and sids in one IN, under SQLite's parameter limit)


class CallbackRetries:
    """Callbacks to try again: while attempts remain (`callback_retries` after the first), a new task of the same
    workflow, priority and number, `callback_retry_every` seconds after the customer did not answer.

    The plan is kept on the failed task (`callback_retry`: the retry's task sid and when it is due), so the store
    holds it and the routing engine needs no timer of its own; a starting node looks at the tasks updated in the
    last day (`resume`) and makes each planned retry whose task does not exist yet, at once if it is overdue.
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
        await self.center.run(workspace_sid, lambda w: w.update_task(task_sid, attributes=attributes))
        self._schedule(workspace_sid, task.workflow_sid, task.priority, attributes)

    async def resume(self) -> int:
        """After a restart: schedules the retries planned in the last day and not yet made. Returns how many."""
        store, since, resumed = self.center.store, self.center.clock.now() - RETRY_HORIZON, 0
        for sid, engine in list(self.center.workspaces().items()):
            updated: dict[str, None] = {}  # the sids of tasks updated since, in order
            after: int | None = None
            while page := await store.events(
                sid, start=since, after_id=after, event_types=[ev.TASK_UPDATED], limit=PAGE
            ):
                updated.update(dict.fromkeys(e.resource_sid for _, e in page))
                after = page[-1][0]
            sids = list(updated)
            for start in range(0, len(sids), PAGE):
                records, _ = await store.list(sid, "task", filters={"sid": sids[start : start + PAGE]}, limit=PAGE)
                for record in records:
                    retry = record["attributes"].get(RETRY)
                    if not isinstance(retry, dict) or retry["sid"] in engine.tasks or retry["sid"] in self._waiting:
                        continue
                    if await store.get(sid, "task", retry["sid"]) is not None:
                        continue  # made, and finished since
                    self._schedule(sid, record["workflow_sid"], record["priority"], record["attributes"])
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
                await self.center.run(workspace_sid, make)
            except Exception:  # the workflow or the workspace went away meanwhile
                log.exception("callback retry %s not made", retry_sid)

        waiting = asyncio.get_running_loop().create_task(later(), name=f"callback-retry-{retry_sid}")
        self._waiting[retry_sid] = waiting
        waiting.add_done_callback(lambda _: self._waiting.pop(retry_sid, None))

    async def close(self) -> None:
        """The node stops: the waits end here, the plans stay in the store."""
        for waiting in list(self._waiting.values()):
            waiting.cancel()
        await asyncio.gather(*self._waiting.values(), return_exceptions=True)
