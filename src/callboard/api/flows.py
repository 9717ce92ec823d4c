"""Contact flows (IVR and chat bots), versioned: each publish that changes a flow adds a version.

A call holds the flow version it started with, so publishing never changes the calls in progress.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from callboard.api.access import AdminScope, Scope, StaffScope
from callboard.api.ivr import ListenerDep, changed, check_removal, document, invalid, ivr_store, load_ivr
from callboard.api.params import PageDep
from callboard.api.ports import Record
from callboard.api.urls import WORKSPACE
from callboard.core.errors import NotFoundError

router = APIRouter(prefix=f"{WORKSPACE}/flows", tags=["flows"])

FlowBody = Annotated[
    dict[str, Any],
    Body(description="One flow as in the center file's `flows:` list; `name` may be left out (the path's)"),
]


def _not_found(name: str, version: int | None = None) -> NotFoundError:
    which = f"flow {name} version {version}" if version is not None else f"flow {name}"
    return NotFoundError(f"no {which}", error_id="flow_not_found", name=name, version=version)


async def _flow(scope: Scope, name: str, version: int | None = None) -> Record:
    flow = await ivr_store(scope).get_flow(scope.sid, name, version)
    if flow is None:
        raise _not_found(name, version)
    return flow


@router.get("")
async def list_flows(scope: StaffScope, page: PageDep) -> dict[str, Any]:
    """The latest version of each flow."""
    return page.slice(await ivr_store(scope).list_flows(scope.sid))


@router.get("/{name}")
async def get_flow(
    name: str,
    scope: StaffScope,
    version: Annotated[int | None, Query(ge=1, description="A version (default: the latest)")] = None,
) -> Record:
    return await _flow(scope, name, version)


@router.put("/{name}", responses={201: {"description": "The flow's first version"}})
async def publish_flow(
    name: str, body: FlowBody, scope: AdminScope, listener: ListenerDep, response: Response
) -> Record:
    """Check the flow against the workspace (its queues, workflows, channels, schedules, prompts and other
    flows, subflow cycles through them included) and publish it as a new version; an unchanged flow keeps
    its version (200), a new flow answers 201."""
    data = document("name", name, body)
    ivr = await load_ivr(scope)
    published = replace(ivr, flows={**ivr.flows, name: data})
    problems = published.problems(scope).get(("flows", name))
    if problems:
        raise invalid("flow_invalid", f"flow {name}", problems)
    version = await ivr_store(scope).publish_flow(scope.sid, name, {k: v for k, v in data.items() if k != "name"})
    if name not in ivr.flows:
        response.status_code = 201
    if ivr.flows.get(name) != data:
        changed(listener, scope.sid)
    return await _flow(scope, name, version)


@router.get("/{name}/versions")
async def flow_versions(name: str, scope: StaffScope, page: PageDep) -> dict[str, Any]:
    """Every version of the flow, oldest first."""
    versions = await ivr_store(scope).flow_versions(scope.sid, name)
    if not versions:
        raise _not_found(name)
    return page.slice(versions)


@router.delete("/{name}", status_code=204)
async def delete_flow(name: str, scope: AdminScope, listener: ListenerDep) -> None:
    """Delete every version; refused (409 `flow_in_use`) while a number or another flow uses it. Calls
    running the flow finish with their snapshot."""
    ivr = await load_ivr(scope)
    if name not in ivr.flows:
        raise _not_found(name)
    without = replace(ivr, flows={k: v for k, v in ivr.flows.items() if k != name})
    check_removal(scope, ivr, without, "flow_in_use", f"flow {name}")
    if not await ivr_store(scope).delete_flow(scope.sid, name):
        raise _not_found(name)
    changed(listener, scope.sid)
