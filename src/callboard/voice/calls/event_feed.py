"""The one publisher of a leg's events (STYLE item 7): callbacks, and async iterators that replay from the start."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from callboard.voice.calls.events import Hangup, LegEvent

__all__ = ["EventFeed", "EventIterator"]


class EventFeed:
    """A leg's events in order; closed by the `Hangup`, after which iterators stop once they have read it."""

    def __init__(self) -> None:
        self.history: list[LegEvent] = []
        self.callbacks: list[Callable[[LegEvent], None]] = []
        self._changed: asyncio.Event | None = None  # made when an iterator waits: most events have no reader waiting

    @property
    def closed(self) -> bool:
        return bool(self.history) and isinstance(self.history[-1], Hangup)

    def publish(self, event: LegEvent) -> None:
        if self.closed:
            raise RuntimeError(f"event after the hangup: {event}")
        self.history.append(event)
        changed, self._changed = self._changed, None
        if changed is not None:
            changed.set()
        for callback in list(self.callbacks):
            callback(event)
        if isinstance(event, Hangup):
            # Nothing comes after the hangup. Callbacks often hold their leg (a closure over it, a bound method):
            # letting go of them leaves no cycle, so an ended leg is freed at once, not by a full collection.
            self.callbacks = []

    def __aiter__(self) -> EventIterator:
        return EventIterator(self)

    async def changed(self) -> None:
        if self._changed is None:
            self._changed = asyncio.Event()
        await self._changed.wait()


class EventIterator:
    """Every event of the leg from the first one, so a late reader misses nothing; ends after the Hangup."""

    def __init__(self, feed: EventFeed) -> None:
        self.feed = feed
        self.index = 0

    def __aiter__(self) -> EventIterator:
        return self

    async def __anext__(self) -> LegEvent:
        while self.index >= len(self.feed.history):
            if self.feed.closed:
                raise StopAsyncIteration
            await self.feed.changed()
        event = self.feed.history[self.index]
        self.index += 1
        return event
