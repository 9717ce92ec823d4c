"""The event log of a workspace (supervisors and admins), read forward with a cursor."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from callboard.api.access import StaffScope
from callboard.api.params import MAX_PAGE_SIZE, csv, parse_date
from callboard.api.urls import WORKSPACE

router = APIRouter(prefix=f"{WORKSPACE}/events", tags=["events"])


@router.get("")
async def list_events(
    scope: StaffScope,
    start_date: Annotated[str | None, Query(description="Epoch seconds or ISO 8601")] = None,
    end_date: Annotated[str | None, Query(description="Epoch seconds or ISO 8601 (exclusive)")] = None,
    event_type: Annotated[str | None, Query(description="Comma-separated event types")] = None,
    after_id: Annotated[int | None, Query(ge=0, description="Only events after this id")] = None,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> dict[str, Any]:
    """Events in the order they happened. To read on, pass `meta.next_after_id` as `after_id`."""
    rows = await scope.center.store.events(
        scope.sid,
        start=parse_date(start_date, "start_date"),
        end=parse_date(end_date, "end_date"),
        after_id=after_id,
        event_types=csv(event_type),
        limit=page_size,
    )
    items = [{"id": event_id, **event.to_dict()} for event_id, event in rows]
    next_after_id = rows[-1][0] if rows else after_id
    return {"items": items, "meta": {"page_size": page_size, "after_id": after_id, "next_after_id": next_after_id}}
