"""What an agent is working on now: the tasks of its live reservations (offered, accepted, wrapping). An agent
may read the customer behind them (the CRM contact, the call, earlier calls), and nobody else's."""

from __future__ import annotations

from typing import Any

from callboard.api.access import Scope
from callboard.routing.model import Task

# Task attributes that hold the customer's number, in the order they are trusted.
NUMBER_ATTRIBUTES = ("caller", "callback_number", "from")


def held_tasks(scope: Scope) -> list[Task]:
    """The live tasks the caller's worker has a reservation for (none for staff, who need no such check)."""
    worker_sid = scope.principal.worker_sid
    if worker_sid is None:
        return []
    engine = scope.engine
    worker = engine.workers.get(worker_sid)
    reservations = (engine.reservations.get(sid) for sid in (worker.reservations if worker is not None else ()))
    tasks = (engine.tasks.get(res.task_sid) for res in reservations if res is not None)
    return [task for task in tasks if task is not None]


def customer_numbers(attributes: dict[str, Any]) -> list[str]:
    """The numbers a task's attributes give for its customer."""
    found = []
    for key in NUMBER_ATTRIBUTES:
        value = attributes.get(key)
        if isinstance(value, str) and value.strip() and value not in found:
            found.append(value.strip())
    return found
