"""An in-process event bus: publishers hand over lists of events, each subscriber reads its own queue."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from callboard.core.events import Event

log = logging.getLogger(__name__)

EventFilter = Callable[[Event], bool]


class Subscription:
    """One reader's bounded queue; when the reader falls behind, the oldest events are dropped and counted."""

    def __init__(self, bus: EventBus, accept: EventFilter | None, maxsize: int) -> None:
        self._bus = bus
        self.accept = accept
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.dropped = 0
        self.closed = False

    def offer(self, event: Event) -> None:
        if self.accept is not None and not self.accept(event):
            return
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(event)

    async def get(self) -> Event:
        return await self._queue.get()

    def get_nowait(self) -> Event | None:
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def close(self) -> None:
        self.closed = True
        self._bus.unsubscribe(self)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        return await self.get()


class EventBus:
    """Fan-out of published events to every subscription whose filter accepts them."""

    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []
        self.published = 0

    def subscribe(self, accept: EventFilter | None = None, *, maxsize: int = 10_000) -> Subscription:
        sub = Subscription(self, accept, maxsize)
        self._subscriptions.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subscriptions:
            self._subscriptions.remove(sub)

    def publish(self, events: list[Event]) -> None:
        self.published += len(events)
        for sub in self._subscriptions:
            for event in events:
                try:
                    sub.offer(event)
                except Exception:  # a broken filter must not stop the others
                    log.exception("event filter failed")

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)
