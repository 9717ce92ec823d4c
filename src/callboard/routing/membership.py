"""Which workers belong to which queues, and which members can take work now, kept by inverted indexes.

A queue's `target_workers` yields index keys (attribute path and value) that every matching worker must
have one of; only the workers holding those keys are evaluated. Queues whose expression yields no keys
are evaluated against every worker.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from callboard.routing.expressions import index_entries
from callboard.routing.model import TaskQueue, Worker


class Membership:
    """Queue members, worker queues, and per queue and channel the members with room for a task."""

    def __init__(self) -> None:
        self.queue_members: dict[str, set[str]] = {}
        self.worker_queues: dict[str, set[str]] = {}
        self.ready: dict[str, dict[str, set[str]]] = {}
        self.worker_ready: dict[str, frozenset[str]] = {}
        self._queues: dict[str, TaskQueue] = {}
        self._workers: dict[str, Worker] = {}
        self._queue_keys: dict[Any, set[str]] = defaultdict(set)
        self._queue_key_list: dict[str, frozenset[Any] | None] = {}
        self._unindexed_queues: set[str] = set()
        self._worker_keys: dict[Any, set[str]] = defaultdict(set)

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
        queue.members = members
        self.ready[queue.sid] = defaultdict(set)
        for sid in members:
            self.worker_queues[sid].add(queue.sid)
            for channel in self.worker_ready.get(sid, ()):
                self.ready[queue.sid][channel].add(sid)

    def remove_queue(self, queue_sid: str) -> None:
        keys = self._queue_key_list.pop(queue_sid, None)
        for key in keys or ():
            self._queue_keys[key].discard(queue_sid)
        self._unindexed_queues.discard(queue_sid)
        for sid in self.queue_members.pop(queue_sid, set()):
            self.worker_queues[sid].discard(queue_sid)
        self.ready.pop(queue_sid, None)
        self._queues.pop(queue_sid, None)

    # Workers

    def add_worker(self, worker: Worker) -> None:
        self._workers[worker.sid] = worker
        self.worker_queues[worker.sid] = set()
        self.worker_ready[worker.sid] = frozenset()
        self.update_attributes(worker)

    def remove_worker(self, worker_sid: str) -> None:
        self.set_ready(worker_sid, frozenset())
        worker = self._workers.pop(worker_sid)
        for key in worker.index_entries:
            self._worker_keys[key].discard(worker_sid)
        for queue_sid in self.worker_queues.pop(worker_sid, set()):
            self.queue_members[queue_sid].discard(worker_sid)
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
        ready = self.worker_ready[worker.sid]
        for queue_sid in before - now_in:
            self.queue_members[queue_sid].discard(worker.sid)
            for channel in ready:
                self.ready[queue_sid][channel].discard(worker.sid)
        for queue_sid in now_in - before:
            self.queue_members[queue_sid].add(worker.sid)
            for channel in ready:
                self.ready[queue_sid][channel].add(worker.sid)
        self.worker_queues[worker.sid] = now_in

    def set_ready(self, worker_sid: str, channels: frozenset[str]) -> None:
        """Record the channels on which the worker can take another task now."""
        before = self.worker_ready.get(worker_sid, frozenset())
        if before == channels:
            return
        self.worker_ready[worker_sid] = channels
        gone, new = before - channels, channels - before
        for queue_sid in self.worker_queues.get(worker_sid, ()):
            by_channel = self.ready[queue_sid]
            for channel in gone:
                by_channel[channel].discard(worker_sid)
            for channel in new:
                by_channel[channel].add(worker_sid)
