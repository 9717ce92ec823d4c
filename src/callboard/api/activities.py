"""Activities: the states a worker can be in (Available, Break, Offline...)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from callboard.api.access import AdminScope, Member
from callboard.api.params import PageDep
from callboard.api.schemas import ActivityCreate, ActivityUpdate
from callboard.api.urls import WORKSPACE
from callboard.routing.records import activity_record

router = APIRouter(prefix=f"{WORKSPACE}/activities", tags=["activities"])


@router.get("")
async def list_activities(
    scope: Member, page: PageDep, friendly_name: str | None = None, available: bool | None = None
) -> dict[str, Any]:
    """Every member of the workspace, agents included, may list activities (an agent desktop needs them)."""
    items = [
        activity_record(a)
        for a in scope.engine.activities.values()
        if (friendly_name is None or a.friendly_name == friendly_name)
        and (available is None or a.available == available)
    ]
    return page.slice(items)


@router.post("", status_code=201)
async def create_activity(body: ActivityCreate, scope: AdminScope) -> dict[str, Any]:
    activity = await scope.run(lambda w: w.add_activity(body.friendly_name, body.available))
    return activity_record(activity)


@router.get("/{sid}")
async def get_activity(sid: str, scope: Member) -> dict[str, Any]:
    return activity_record(scope.engine.activity(sid))


@router.patch("/{sid}")
async def update_activity(sid: str, body: ActivityUpdate, scope: AdminScope) -> dict[str, Any]:
    activity = await scope.run(lambda w: w.update_activity(sid, **body.changes()))
    return activity_record(activity)


@router.delete("/{sid}", status_code=204)
async def delete_activity(sid: str, scope: AdminScope) -> None:
    await scope.run(lambda w: w.delete_activity(sid))
