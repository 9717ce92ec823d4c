"""The baseline the routing engine is compared with: for every task, scan every worker.

It reads the same workspace objects as the engine and makes the same choice (the longest-idle available
worker with room on the channel who matches the queue's `target_workers` and the workflow step's
expression), but without the membership index or the ready sets: both expressions are evaluated with
`Expression.evaluate` for each of the workspace's workers.
"""

from __future__ import annotations

from typing import Any

from callboard.routing.model import Worker
from callboard.routing.workflow import Target
from callboard.routing.workspace import Workspace


class NaiveRouter:
    """Picks a worker for a new task by a full scan; it only chooses, it changes nothing."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def first_target(self, workflow_sid: str, attributes: dict[str, Any]) -> Target | None:
        config = self.ws.workflows[workflow_sid].config
        scope = {"task": attributes}
        for flt in config.filters:
            if flt.expression.evaluate(scope):
                return flt.targets[0]
        return config.default_filter

    def choose(self, workflow_sid: str, attributes: dict[str, Any], channel: str) -> Worker | None:
        target = self.first_target(workflow_sid, attributes)
        if target is None:
            return None
        queue = self.ws.queues[target.queue]
        activities = self.ws.activities
        best: Worker | None = None
        best_key: tuple[float, int] | None = None
        for worker in self.ws.workers.values():
            if not queue.target_workers.evaluate({"worker": worker.attributes}):
                continue
            if target.expression is not None and not target.expression.evaluate(
                {"task": attributes, "worker": worker.attributes}
            ):
                continue
            if not activities[worker.activity_sid].available or not worker.channels[channel].has_room():
                continue
            key = (worker.last_idle, worker.seq)
            if best_key is None or key < best_key:
                best, best_key = worker, key
        return best
