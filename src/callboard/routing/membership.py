"""Which workers belong to which queues, and which members can take work now, kept by inverted indexes.

A queue's `target_workers` yields index keys (attribute path and value) that every matching worker must
have one of; only the workers holding those keys are evaluated. Queues whose expression yields no keys
are evaluated against every worker.

Which workers have room is kept per channel, not per queue, so a worker taking or finishing a task updates
one entry per channel instead of one per queue it belongs to (27.6 on average in the benchmark). Every
worker has a slot, and per channel an array of doubles holds, at each slot, the worker's `last_idle` while
it has room on the channel and infinity otherwise.

A workflow step's worker expression is kept the same way, per queue and per task values it reads
(`matching`): the members that pass it are found once, then kept as workers change, so choosing a worker
reads one group instead of evaluating the expression for every member of the queue.

Choosing a worker reads a queue's members or a match set as a tuple, kept beside the set and rebuilt after
the set changes (rarely: attributes change, workers come and go), together with a NumPy array of the
members' slots. One gather through it reads the group's values out of a channel's idle array: who has room,
and for the default strategy, longest idle, the answer itself (`argmin`), without touching a worker or a
Python float. Reading `last_idle` off each candidate cost two cache misses a candidate at full size (the
worker, then its float), and probing a channel's set of ready workers a cold hash-table slot; gathering
with an `itemgetter` of slot numbers from a Python array made a float object a member and read the int
objects of the slots, about twice the time of NumPy's gather for a group of 83.
"""

from __future__ import annotations

import math
import operator
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping
from itertools import compress
from typing import Any

import numpy as np
import numpy.typing as npt

from callboard.core.expressions import Expression, index_entries
from callboard.routing.model import TaskQueue, Worker

_NONE: frozenset[str] = frozenset()
_NO_ROOM = math.inf  # an idle array's value for a worker without room on its channel
_SEQ: Callable[[Worker], int] = operator.attrgetter("seq")

IdleArray = npt.NDArray[np.float64]
Slots = npt.NDArray[np.intp]

# Distinct task values seen per queue before its match sets are dropped and rebuilt on demand.
MAX_MATCH_SETS = 256


class WorkerGroup:
    """Workers kept as a set, for changes and lookups, and as a tuple, for reading them all.

    The tuple is rebuilt after the set changes, which is rare (attributes change, workers come and go). It is
    in `seq` order, so the first of several workers idle since the same moment is the one longest idle's
    tie-break picks.
    """

    __slots__ = ("_listed", "_slots", "workers")

    def __init__(self, workers: Iterable[Worker] = ()) -> None:
        self.workers: set[Worker] = set(workers)
        self._listed: tuple[Worker, ...] | None = None
        self._slots: Slots | None = None

    def add(self, worker: Worker) -> None:
        if worker not in self.workers:
            self.workers.add(worker)
            self._listed = self._slots = None

    def discard(self, worker: Worker) -> None:
        if worker in self.workers:
            self.workers.discard(worker)
            self._listed = self._slots = None

    def listed(self) -> tuple[Worker, ...]:
        if self._listed is None:
            self._listed = tuple(sorted(self.workers, key=_SEQ))
        return self._listed

    def slots(self) -> Slots:
        """The members' slots in the idle arrays, in the order of `listed()`."""
        if self._slots is None:
            listed = self.listed()
            self._slots = np.fromiter((w.slot for w in listed), dtype=np.intp, count=len(listed))
        return self._slots


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
        # Per channel, at each worker's slot: its `last_idle` while it has room on the channel, else infinity.
        self._idle_on: dict[str, IdleArray] = {}
        self._ready_count: dict[str, int] = defaultdict(int)  # per channel, the workers with room on it
        self._free_slots: list[int] = []
        self._slot_count = 0
        self._capacity = 0  # the length of every idle array, slots in use or not
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
        if self._free_slots:
            worker.slot = self._free_slots.pop()
        else:
            worker.slot = self._slot_count
            self._slot_count += 1
            if self._slot_count > self._capacity:
                self._capacity = max(64, 2 * self._capacity)
                for channel, idle in self._idle_on.items():
                    self._idle_on[channel] = grown = self._new_idle_array()
                    grown[: len(idle)] = idle
        self.worker_queues[worker.sid] = set()
        worker.ready = _NONE
        self.update_attributes(worker)

    def remove_worker(self, worker_sid: str) -> None:
        worker = self._workers.pop(worker_sid)
        self.set_ready(worker, frozenset())
        self._free_slots.append(worker.slot)
        for key in worker.index_entries:
            self._worker_keys[key].discard(worker_sid)
        for queue_sid in self.worker_queues.pop(worker_sid, set()):
            self.queue_members[queue_sid].discard(worker_sid)
            self._groups[queue_sid].discard(worker)
            for match in self._matches[queue_sid].values():
                match.discard(worker)

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

    def set_ready(self, worker: Worker, channels: frozenset[str]) -> bool:
        """Record the channels on which the worker can take another task now; True if it gained one.

        It also copies the worker's `last_idle` into the idle arrays of those channels, so every change of
        `last_idle` must be followed by a call, before the next routing decision (the engine's
        `_refresh_ready`, at the end of each change).
        """
        slot, idle_on = worker.slot, self._idle_on
        if channels:
            since = worker.last_idle
            for channel in channels:
                try:
                    idle_on[channel][slot] = since
                except KeyError:  # the first worker with room on this channel
                    idle = idle_on[channel] = self._new_idle_array()
                    idle[slot] = since
        before = worker.ready
        if before == channels:
            return False
        worker.ready = channels
        count = self._ready_count
        for channel in before - channels:
            idle_on[channel][slot] = _NO_ROOM
            count[channel] -= 1
        gained = False
        for channel in channels:
            if channel not in before:
                count[channel] += 1
                gained = True
        return gained

    def _new_idle_array(self) -> IdleArray:
        return np.full(self._capacity, _NO_ROOM, dtype=np.float64)

    def anyone_ready(self, channel: str) -> bool:
        """Whether any worker has room on the channel now."""
        return self._ready_count[channel] > 0

    def longest_idle(self, group: WorkerGroup, channel: str) -> Worker | None:
        """The group's worker with room on the channel that has been idle longest; None if none has room.

        Ties go to the lowest `seq`, as `strategies.longest_idle` breaks them: the group's tuple is in `seq`
        order, and `argmin` finds the first of equal values.
        """
        idle = self._idle_on.get(channel)
        slots = group.slots()
        if idle is None or not len(slots):
            return None
        idles = idle[slots]
        first = int(idles.argmin())
        return None if idles[first] == _NO_ROOM else group.listed()[first]

    def with_room(self, group: WorkerGroup, channel: str) -> list[Worker]:
        """The group's workers with room on the channel now, in `seq` order."""
        idle = self._idle_on.get(channel)
        if idle is None:
            return []
        return list(compress(group.listed(), (idle[group.slots()] != _NO_ROOM).tolist()))
