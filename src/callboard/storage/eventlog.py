"""The append-only event log: written with each commit, read back by id or time for reports and streams."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row, select

from callboard.core.errors import ValidationError
from callboard.core.events import Event
from callboard.storage.base import StoreBase
from callboard.storage.tables import events as events_table


def event_rows(events: Iterable[Event]) -> list[dict[str, Any]]:
    return [
        {
            "workspace_sid": e.workspace_sid or None,
            "event_type": e.name,
            "resource_type": e.resource_type,
            "resource_sid": e.resource_sid,
            "timestamp": e.timestamp,
            "data": e.data,
        }
        for e in events
    ]


def _event(row: Row[Any]) -> tuple[int, Event]:
    return row.id, Event(
        name=row.event_type,
        workspace_sid=row.workspace_sid or "",
        resource_type=row.resource_type,
        resource_sid=row.resource_sid,
        timestamp=row.timestamp,
        data=dict(row.data),
    )


class EventLogMixin(StoreBase):
    """Reading the event log."""

    async def events(
        self,
        workspace_sid: str | None,
        *,
        start: float | None = None,
        end: float | None = None,
        after_id: int | None = None,
        event_types: list[str] | None = None,
        limit: int = 1000,
    ) -> list[tuple[int, Event]]:
        """(id, event) pairs in id order: of one workspace (or all), with start <= timestamp < end, id > after_id."""
        if limit < 0:
            raise ValidationError("limit must not be negative", limit=limit)
        t = events_table
        query = select(t).order_by(t.c.id).limit(limit)
        if workspace_sid is not None:
            query = query.where(t.c.workspace_sid == workspace_sid)
        if start is not None:
            query = query.where(t.c.timestamp >= start)
        if end is not None:
            query = query.where(t.c.timestamp < end)
        if after_id is not None:
            query = query.where(t.c.id > after_id)
        if event_types is not None:
            query = query.where(t.c.event_type.in_(event_types))
        async with self._engine.connect() as conn:
            return [_event(row) for row in await conn.execute(query)]
