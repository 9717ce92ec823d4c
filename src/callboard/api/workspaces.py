"""Workspaces: the tenants of a center, each with its own routing engine."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from callboard.api.access import AdminScope, StaffScope
from callboard.api.auth import Admin, CenterDep, Staff
from callboard.api.params import PageDep
from callboard.api.schemas import WorkspaceCreate, WorkspaceUpdate
from callboard.api.urls import V1
from callboard.api.views import workspace_view

router = APIRouter(prefix=f"{V1}/workspaces", tags=["workspaces"])


@router.get("")
async def list_workspaces(_: Staff, center: CenterDep, page: PageDep) -> dict[str, Any]:
    return page.slice([workspace_view(engine) for engine in center.workspaces().values()])


@router.post("", status_code=201)
async def create_workspace(body: WorkspaceCreate, _: Admin, center: CenterDep) -> dict[str, Any]:
    settings = body.changes()
    engine = await center.create_workspace(settings.pop("friendly_name"), **settings)
    return workspace_view(engine)


@router.get("/{ws}")
async def get_workspace(scope: StaffScope) -> dict[str, Any]:
    return workspace_view(scope.engine)


@router.patch("/{ws}")
async def update_workspace(body: WorkspaceUpdate, scope: AdminScope) -> dict[str, Any]:
    engine = await scope.center.update_workspace(scope.sid, **body.changes())
    return workspace_view(engine)


@router.delete("/{ws}", status_code=204)
async def delete_workspace(scope: AdminScope) -> None:
    await scope.center.delete_workspace(scope.sid)
