"""Numbers (DIDs) of a workspace: the flow a call starts in, the hours and holidays it keeps, what callers
hear when it is closed. A number in a path is E.164, URL-encoded (`%2B34910000000`); any way a person
writes it is normalised first."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from callboard.api.access import AdminScope, Scope, StaffScope
from callboard.api.ivr import ListenerDep, changed, document, e164, invalid, ivr_store, load_ivr
from callboard.api.params import PageDep
from callboard.api.ports import Record
from callboard.api.urls import WORKSPACE
from callboard.core.errors import ConflictError, NotFoundError

router = APIRouter(prefix=f"{WORKSPACE}/numbers", tags=["numbers"])

NumberBody = Annotated[
    dict[str, Any],
    Body(description="One number as in the center file's `numbers:` list; `number` may be left out (the path's)"),
]


def number_view(name: str, body: Record) -> Record:
    return {**body, "number": name}


def not_found(number: str) -> NotFoundError:
    return NotFoundError(f"no number {number} in this workspace", error_id="number_not_found", number=number)


async def own_number(scope: Scope, text: str) -> tuple[str, Record]:
    """The normalised number and its stored body; 404 when this workspace does not hold it."""
    number = e164(text)
    body = await ivr_store(scope).get_document(scope.sid, "number", number)
    if body is None:
        raise not_found(number)
    return number, body


@router.get("")
async def list_numbers(scope: StaffScope, page: PageDep) -> dict[str, Any]:
    documents = await ivr_store(scope).list_documents(scope.sid, "number")
    return page.slice([number_view(d["name"], d["body"]) for d in documents])


@router.get("/{number}")
async def get_number(number: str, scope: StaffScope) -> Record:
    return number_view(*await own_number(scope, number))


@router.put("/{number}", responses={201: {"description": "The number was added"}})
async def put_number(
    number: str, body: NumberBody, scope: AdminScope, listener: ListenerDep, response: Response
) -> Record:
    """Add or replace a number, checked against the workspace's flows, schedules and prompts; a number
    another workspace holds is refused (409 `number_taken`). A national number needs the body's `region`."""
    region = body.get("region") if isinstance(body.get("region"), str) else None
    normalised = e164(number, region)
    if isinstance(body.get("number"), str):
        body = {**body, "number": e164(body["number"], region)}
    data = document("number", normalised, body)
    store = ivr_store(scope)
    held = await store.find_number(normalised)
    if held is not None and held[0] != scope.sid:
        raise ConflictError(
            f"number {normalised} belongs to another workspace", error_id="number_taken", number=normalised
        )
    ivr = await load_ivr(scope)
    problems = replace(ivr, numbers={**ivr.numbers, normalised: data}).problems(scope).get(("numbers", normalised))
    if problems:
        raise invalid("number_config_invalid", f"number {normalised}", problems)
    stored = {k: v for k, v in data.items() if k != "number"}
    await store.put_document(scope.sid, "number", normalised, stored)
    if held is None:
        response.status_code = 201
    changed(listener, scope.sid)
    return number_view(normalised, stored)


@router.delete("/{number}", status_code=204)
async def delete_number(number: str, scope: AdminScope, listener: ListenerDep) -> None:
    """Release the number; an emergency closure of it goes too."""
    normalised = e164(number)
    store = ivr_store(scope)
    if not await store.delete_document(scope.sid, "number", normalised):
        raise not_found(normalised)
    await store.clear_closure(scope.sid, "number", normalised)
    changed(listener, scope.sid)
