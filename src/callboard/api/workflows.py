"""Workflows: TaskRouter-shaped routing configuration (filters with ordered targets)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from callboard.api.access import AdminScope, StaffScope
from callboard.api.params import PageDep
from callboard.api.schemas import WorkflowCreate, WorkflowUpdate
from callboard.api.urls import WORKSPACE
from callboard.routing.records import workflow_record

router = APIRouter(prefix=f"{WORKSPACE}/workflows", tags=["workflows"])


@router.get("")
async def list_workflows(scope: StaffScope, page: PageDep, friendly_name: str | None = None) -> dict[str, Any]:
    workflows = scope.engine.workflows.values()
    return page.slice(
        [workflow_record(w) for w in workflows if friendly_name is None or w.friendly_name == friendly_name]
    )


@router.post("", status_code=201)
async def create_workflow(body: WorkflowCreate, scope: AdminScope) -> dict[str, Any]:
    workflow = await scope.run(
        lambda w: w.add_workflow(
            body.friendly_name, body.configuration, task_reservation_timeout=body.task_reservation_timeout
        )
    )
    return workflow_record(workflow)


@router.get("/{sid}")
async def get_workflow(sid: str, scope: StaffScope) -> dict[str, Any]:
    return workflow_record(scope.engine.workflow(sid))


@router.patch("/{sid}")
async def update_workflow(sid: str, body: WorkflowUpdate, scope: AdminScope) -> dict[str, Any]:
    workflow = await scope.run(lambda w: w.update_workflow(sid, **body.changes()))
    return workflow_record(workflow)


@router.delete("/{sid}", status_code=204)
async def delete_workflow(sid: str, scope: AdminScope) -> None:
    await scope.run(lambda w: w.delete_workflow(sid))
