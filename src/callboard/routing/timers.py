"""Deadlines kept in one heap; stale entries are dropped when they come due or when most of the heap is stale."""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable

# (when, seq, kind, sid, token): a plain tuple, compared in C and not tracked by the garbage collector once
# its items are atomic; `seq` is unique, so comparisons never reach `kind` or `token`.
Deadline = tuple[float, int, str, str, object]

# Below this size a heap of stale deadlines costs too little to be worth a rebuild.
MIN_COMPACT = 1024


class Timers:
    """A heap of (when, seq, kind, sid, token); the owner checks `token` still matches when one comes due.

    A deadline can be held back: `reserve()` gives it its place in the order (a `seq`) without pushing it,
    `add(..., seq=)` pushes it later in that place, and `passed(when, seq)` says whether it would already
    have come due and been popped had it been pushed at once.
    """

    def __init__(self) -> None:
        self._heap: list[Deadline] = []
        self._seq = itertools.count()
        self._stale = 0
        self._popped_to: tuple[float, float] = (-math.inf, -math.inf)  # every deadline before this key is popped

    def reserve(self) -> int:
        return next(self._seq)

    def add(self, when: float, kind: str, sid: str, token: object, seq: int | None = None) -> None:
        heapq.heappush(self._heap, (when, next(self._seq) if seq is None else seq, kind, sid, token))

    def next_deadline(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> Deadline | None:
        if self._heap and self._heap[0][0] <= now:
            due = heapq.heappop(self._heap)
            self._popped_to = (due[0], due[1])
            return due
        self._popped_to = (now, math.inf)
        return None

    def passed(self, when: float, seq: int) -> bool:
        """Whether a held-back deadline would have been popped by now (it sorts before the last one popped)."""
        return (when, seq) < self._popped_to

    def went_stale(self, live: Callable[[str, str, object], bool]) -> None:
        """One deadline can no longer fire (its task ended); rebuild once about half of the heap is stale.

        A finished task's TTL deadline would otherwise stay a day. `live(kind, sid, token)` says which to keep.
        """
        self._stale += 1
        if self._stale * 2 > len(self._heap) >= MIN_COMPACT:
            self._heap = [d for d in self._heap if live(d[2], d[3], d[4])]
            heapq.heapify(self._heap)
            self._stale = 0

    def __len__(self) -> int:
        return len(self._heap)
