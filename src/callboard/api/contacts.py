"""CRM contacts: who a caller is, found by the number they call from. Numbers are kept in E.164; any way a
person writes an international number is normalised first.

Staff read every contact. An agent may only look up (`?number=`) the customer of a task it holds now (an
offer, an accepted or a wrapping task: its screen pop), and no other contact."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from callboard.api.access import AdminScope, Member, Scope, StaffScope
from callboard.api.auth import denied
from callboard.api.holding import customer_numbers, held_tasks
from callboard.api.ivr import e164, ivr_store
from callboard.api.params import PageDep
from callboard.api.ports import Record
from callboard.api.urls import WORKSPACE
from callboard.core.errors import NotFoundError, ValidationError

router = APIRouter(prefix=f"{WORKSPACE}/contacts", tags=["contacts"])


class ContactBody(BaseModel):
    """A contact as sent; PUT replaces every field."""

    name: str = Field(min_length=1, max_length=200)
    numbers: list[str] = Field(default_factory=list, max_length=50, examples=[["+34 600 111 222"]])
    vip: bool = False
    manager: str | None = Field(default=None, min_length=1, description="Who manages the account")
    language: str | None = Field(default=None, min_length=1, examples=["es"])
    attributes: dict[str, Any] = Field(default_factory=dict)

    def record(self, sid: str | None = None) -> Record:
        record = {**self.model_dump(), "numbers": [e164(n) for n in self.numbers]}
        return record if sid is None else {**record, "sid": sid}


def _not_found(sid: str) -> NotFoundError:
    return NotFoundError(f"no contact {sid}", error_id="contact_not_found", sid=sid)


async def _contact(scope: Scope, sid: str) -> Record:
    contact = await ivr_store(scope).get_contact(scope.sid, sid)
    if contact is None:
        raise _not_found(sid)
    return contact


def _held_numbers(scope: Scope) -> set[str]:
    """The customer numbers (E.164) of the tasks the agent holds."""
    numbers = set()
    for task in held_tasks(scope):
        for number in customer_numbers(task.attributes):
            try:
                numbers.add(e164(number))
            except ValidationError:
                continue  # a withheld or garbled caller id finds no contact
    return numbers


@router.get("")
async def list_contacts(
    scope: Member,
    page: PageDep,
    number: Annotated[str | None, Query(description="Only the contact with this number (any format)")] = None,
) -> dict[str, Any]:
    """Staff list or look up any contact; an agent only looks up the customer of a task it holds."""
    store = ivr_store(scope)
    wanted = None if number is None else e164(number)
    if scope.principal.is_agent and (wanted is None or wanted not in _held_numbers(scope)):
        raise denied("agents may only look up the customers of the tasks they hold")
    if wanted is not None:
        found = await store.find_contact(scope.sid, wanted)
        return page.slice([found] if found else [])
    return page.slice(await store.list_contacts(scope.sid))


@router.post("", status_code=201)
async def create_contact(body: ContactBody, scope: AdminScope) -> Record:
    """A number another contact has is refused (409 `contact_number_taken`)."""
    return await ivr_store(scope).put_contact(scope.sid, body.record())


@router.get("/{sid}")
async def get_contact(sid: str, scope: StaffScope) -> Record:
    return await _contact(scope, sid)


@router.put("/{sid}")
async def replace_contact(sid: str, body: ContactBody, scope: AdminScope) -> Record:
    await _contact(scope, sid)
    return await ivr_store(scope).put_contact(scope.sid, body.record(sid))


@router.delete("/{sid}", status_code=204)
async def delete_contact(sid: str, scope: AdminScope) -> None:
    if not await ivr_store(scope).delete_contact(scope.sid, sid):
        raise _not_found(sid)
