"""Which workers belong to which queues, and which members can take work now, kept by inverted indexes.

A queue's `target_workers` yields index keys (attribute path and value) that every matching worker must
have one of; only the workers holding those keys are evaluated. Queues whose expression yields no keys
are evaluated against every worker.

Which workers have room is kept per channel, not per queue: a queue's ready members are its members
intersected with the channel's ready workers, so a worker taking or finishing a task updates one set per
channel instead of one per queue it belongs to (27.6 on average in the benchmark).

A workflow step's worker expression is kept the same way, per queue and per task values it reads
(`matching`): the members that pass it are found once, then kept as workers change, so choosing a worker
intersects two sets instead of evaluating the expression for every ready member of the queue.

Choosing a worker reads a queue's members or a match set as a tuple, kept beside the set and rebuilt after
the set changes (rarely: attributes change, workers come and go). A tuple of 50 workers is 400 bytes in a
row; the set's hash table is 2 to 4 KiB, and at full size it is out of the CPU caches. Copying it (`matching
- unready`) was about half of the last-level cache misses of a routing decision (callgrind, full size).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from itertools import filterfalse
from typing import Any

from callboard.core.expressions import Expression, index_entries
from callboard.routing.model import TaskQueue, Worker

_NONE: frozenset[str] = frozenset()

# Distinct task values seen per queue before its match sets are dropped and rebuilt on demand.
MAX_MATCH_SETS = 256


class WorkerGroup:
    """Workers kept as a set, for changes and lookups, and as a tuple, for reading them all.

    The tuple is rebuilt after the set changes, which is rare (attributes change, workers come and go).
    """

    __slots__ = ("_listed", "workers")

    def __init__(self, workers: Iterable[Worker] = ()) -> None:
        self.workers: set[Worker] = set(workers)
        self._listed: tuple[Worker, ...] | None = None

    def add(self, worker: Worker) -> None:
        if worker not in self.workers:
            self.workers.add(worker)
            self._listed = None

    def discard(self, worker: Worker) -> None:
        if worker in self.workers:
            self.workers.discard(worker)
            self._listed = None

    def listed(self) -> tuple[Worker, ...]:
        if self._listed is None:
            self._listed = tuple(self.workers)
        return self._listed


class _Match(WorkerGroup):
    """The members of one queue that pass one step expression for one set of task values."""

    __slots__ = ("expression", "scope")

    def __init__(self, expression: Expression, scope: dict[str, Any], members: Iterable[Worker]) -> None:
        self.expression, self.scope = expression, scope
        super().__init__(w for w in members if self.passes(w))

    def passes(self, worker: Worker) -> bool:
        return self.expression.predicate({"task": self.scope, "worker": worker.attributes})

    def update(self, worker: Worker) -> None:
        """Add or drop the worker as it passes the expression now."""
        if self.passes(worker):
            self.add(worker)
        else:
            self.discard(worker)


class Membership:
    """Queue members, worker queues, per channel the workers with room for a task, and step match sets."""

    def __init__(self) -> None:
        self.queue_members: dict[str, set[str]] = {}
        self.worker_queues: dict[str, set[str]] = {}
        # Worker objects, not sids: choosing a worker reads each candidate, and a group of objects hands them
        # over without a dict lookup (and its cache misses) per candidate. `member_workers` holds the groups'
        # sets; change them through the group, so that its tuple is rebuilt.
        self._groups: dict[str, WorkerGroup] = {}
        self.member_workers: dict[str, set[Worker]] = {}
        self.ready_on: dict[str, set[Worker]] = defaultdict(set)
        # Per channel once anyone had room on it: every other worker. When most workers are free, filtering
        # candidates against this small set touches fewer cold hash-table slots than probing `ready_on`.
        self._unready_on: dict[str, set[Worker]] = {}
        self.worker_ready: dict[str, frozenset[str]] = {}
        self._queues: dict[str, TaskQueue] = {}
        self._workers: dict[str, Worker] = {}
        self._queue_keys: dict[Any, set[str]] = defaultdict(set)
        self._queue_key_list: dict[str, frozenset[Any] | None] = {}
        self._unindexed_queues: set[str] = set()
        self._worker_keys: dict[Any, set[str]] = defaultdict(set)
        self._matches: dict[str, dict[Hashable, _Match]] = {}

    # Queues

    def add_queue(self, queue: TaskQueue) -> None:
        self._queues[queue.sid] = queue
        keys = queue.target_workers.index_keys("worker")
        self._queue_key_list[queue.sid] = keys
        if keys is None:
            self._unindexed_queues.add(queue.sid)
            candidates: Iterable[str] = self._workers
        else:
            for key in keys:
                self._queue_keys[key].add(queue.sid)
            found: set[str] = set()
            for key in keys:
                found |= self._worker_keys.get(key, set())
            candidates = found
        members = {
            sid for sid in candidates if queue.target_workers.evaluate({"worker": self._workers[sid].attributes})
        }
        self.queue_members[queue.sid] = members
        group = self._groups[queue.sid] = WorkerGroup(self._workers[sid] for sid in members)
        self.member_workers[queue.sid] = group.workers
        self._matches[queue.sid] = {}
        queue.members = members
        for sid in members:
            self.worker_queues[sid].add(queue.sid)

    def remove_queue(self, queue_sid: str) -> None:
        keys = self._queue_key_list.pop(queue_sid, None)
        for key in keys or ():
            self._queue_keys[key].discard(queue_sid)
        self._unindexed_queues.discard(queue_sid)
        for sid in self.queue_members.pop(queue_sid, set()):
            self.worker_queues[sid].discard(queue_sid)
        self.member_workers.pop(queue_sid, None)
        self._groups.pop(queue_sid, None)
        self._matches.pop(queue_sid, None)
        self._queues.pop(queue_sid, None)

    # Workers

    def add_worker(self, worker: Worker) -> None:
        self._workers[worker.sid] = worker
        for unready in self._unready_on.values():
            unready.add(worker)
        self.worker_queues[worker.sid] = set()
        self.worker_ready[worker.sid] = frozenset()
        self.update_attributes(worker)

    def remove_worker(self, worker_sid: str) -> None:
        self.set_ready(worker_sid, frozenset())
        worker = self._workers.pop(worker_sid)
        for unready in self._unready_on.values():
            unready.discard(worker)
        for key in worker.index_entries:
            self._worker_keys[key].discard(worker_sid)
        for queue_sid in self.worker_queues.pop(worker_sid, set()):
            self.queue_members[queue_sid].discard(worker_sid)
            self._groups[queue_sid].discard(worker)
            for match in self._matches[queue_sid].values():
                match.discard(worker)
        self.worker_ready.pop(worker_sid, None)

    def update_attributes(self, worker: Worker) -> None:
        for key in worker.index_entries:
            self._worker_keys[key].discard(worker.sid)
        worker.index_entries = index_entries(worker.attributes)
        for key in worker.index_entries:
            self._worker_keys[key].add(worker.sid)
        candidates = set(self._unindexed_queues)
        for key in worker.index_entries:
            candidates |= self._queue_keys.get(key, set())
        scope = {"worker": worker.attributes}
        now_in = {sid for sid in candidates if self._queues[sid].target_workers.evaluate(scope)}
        before = self.worker_queues[worker.sid]
        for queue_sid in before - now_in:
            self.queue_members[queue_sid].discard(worker.sid)
            self._groups[queue_sid].discard(worker)
            for match in self._matches[queue_sid].values():
                match.discard(worker)
        for queue_sid in now_in - before:
            self.queue_members[queue_sid].add(worker.sid)
            self._groups[queue_sid].add(worker)
        self.worker_queues[worker.sid] = now_in
        for queue_sid in now_in:
            for match in self._matches[queue_sid].values():
                match.update(worker)

    def members(self, queue_sid: str) -> WorkerGroup:
        return self._groups[queue_sid]

    def matching(
        self, queue_sid: str, expression: Expression, task_attributes: Mapping[str, Any]
    ) -> WorkerGroup | None:
        """The queue's members that pass a step's worker `expression` for a task with these attributes.

        None when the task's values cannot be keyed; the caller then evaluates the expression itself.
        """
        binding = expression.task_binding(task_attributes)
        if binding is None:
            return None
        key, scope = binding
        matches = self._matches[queue_sid]
        match = matches.get(key)
        if match is None:
            if len(matches) >= MAX_MATCH_SETS:
                matches.clear()
            match = matches[key] = _Match(expression, scope, self.member_workers[queue_sid])
        return match

    def set_ready(self, worker_sid: str, channels: frozenset[str]) -> bool:
        """Record the channels on which the worker can take another task now; True if it gained one."""
        before = self.worker_ready.get(worker_sid, _NONE)
        if before == channels:
            return False
        self.worker_ready[worker_sid] = channels
        worker = self._workers[worker_sid]
        for channel in before - channels:
            self.ready_on[channel].discard(worker)
            self._unready_on[channel].add(worker)
        for channel in channels - before:
            ready = self.ready_on[channel]
            ready.add(worker)
            unready = self._unready_on.get(channel)
            if unready is None:
                self._unready_on[channel] = set(self._workers.values()) - ready
            else:
                unready.discard(worker)
        return not channels <= before

    def with_room(self, group: WorkerGroup, channel: str) -> Sequence[Worker]:
        """The group's workers with room on the channel now, read from its tuple (the tuple itself if all do).

        When few workers are busy, only they are looked up in the group's set; otherwise each of the group
        is looked up in the smaller of the channel's two sets.
        """
        listed = group.listed()
        ready = self.ready_on[channel]
        unready = self._unready_on.get(channel)
        if unready is None or len(ready) <= len(unready):
            return list(filter(ready.__contains__, listed))
        busy = unready.intersection(group.workers) if len(unready) < len(listed) else unready
        return list(filterfalse(busy.__contains__, listed)) if busy else listed
