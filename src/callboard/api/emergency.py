"""The emergency switch: close a number or a whole site now, whatever its hours say, with a prompt or a text
callers hear instead; reopen by clearing the closure."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator

from callboard.api.access import Scope, StaffScope
from callboard.api.ivr import ListenerDep, catalog, changed, e164, ivr_store
from callboard.api.numbers import own_number
from callboard.api.params import PageDep
from callboard.api.ports import Record
from callboard.api.urls import WORKSPACE
from callboard.core.errors import NotFoundError, ValidationError

router = APIRouter(prefix=WORKSPACE, tags=["emergency"])


class Closure(BaseModel):
    """What callers hear while closed: a prompt of the library, or a text said with text-to-speech."""

    prompt: str | None = Field(default=None, min_length=1, examples=["emergency-closed"])
    text: str | None = Field(default=None, min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _one_of(self) -> Closure:
        if (self.prompt is None) == (self.text is None):
            raise ValueError("give exactly one of prompt and text")
        return self


async def _close(scope: Scope, kind: str, target: str, body: Closure, listener: ListenerDep) -> Record:
    if body.prompt is not None and body.prompt not in (await catalog(scope)).prompts:
        raise ValidationError(f"no prompt {body.prompt}", error_id="prompt_not_found", prompt=body.prompt)
    closure = await ivr_store(scope).set_closure(scope.sid, kind, target, prompt=body.prompt, text=body.text)
    changed(listener, scope.sid)
    return closure


async def _reopen(scope: Scope, kind: str, target: str, listener: ListenerDep) -> None:
    if not await ivr_store(scope).clear_closure(scope.sid, kind, target):
        raise NotFoundError(f"{kind} {target} is not closed", error_id="closure_not_found", scope=kind, target=target)
    changed(listener, scope.sid)


@router.get("/emergency")
async def list_closures(scope: StaffScope, page: PageDep) -> dict[str, Any]:
    """Every number and site closed now."""
    return page.slice(await ivr_store(scope).list_closures(scope.sid))


@router.put("/numbers/{number}/emergency")
async def close_number(number: str, body: Closure, scope: StaffScope, listener: ListenerDep) -> Record:
    normalised, _ = await own_number(scope, number)
    return await _close(scope, "number", normalised, body, listener)


@router.delete("/numbers/{number}/emergency", status_code=204)
async def reopen_number(number: str, scope: StaffScope, listener: ListenerDep) -> None:
    await _reopen(scope, "number", e164(number), listener)


@router.put("/sites/{site}/emergency")
async def close_site(site: str, body: Closure, scope: StaffScope, listener: ListenerDep) -> Record:
    """Close every number of the site (the numbers whose `site` is this name)."""
    return await _close(scope, "site", site, body, listener)


@router.delete("/sites/{site}/emergency", status_code=204)
async def reopen_site(site: str, scope: StaffScope, listener: ListenerDep) -> None:
    await _reopen(scope, "site", site, listener)
