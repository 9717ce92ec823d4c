"""Deadlines kept in one heap; stale entries are dropped when they come due."""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field


@dataclass(order=True, frozen=True)
class Deadline:
    when: float
    seq: int
    kind: str = field(compare=False)
    sid: str = field(compare=False)
    token: object = field(compare=False)


class Timers:
    """A heap of (when, kind, sid, token); the owner checks `token` still matches when one comes due."""

    def __init__(self) -> None:
        self._heap: list[Deadline] = []
        self._seq = itertools.count()

    def add(self, when: float, kind: str, sid: str, token: object) -> None:
        heapq.heappush(self._heap, Deadline(when, next(self._seq), kind, sid, token))

    def next_deadline(self) -> float | None:
        return self._heap[0].when if self._heap else None

    def pop_due(self, now: float) -> Deadline | None:
        if self._heap and self._heap[0].when <= now:
            return heapq.heappop(self._heap)
        return None

    def __len__(self) -> int:
        return len(self._heap)
