"""Task channels: the kinds of work (voice, chat, email), each with a default worker capacity."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from callboard.api.access import AdminScope, Member
from callboard.api.params import PageDep
from callboard.api.schemas import ChannelCreate
from callboard.api.urls import WORKSPACE
from callboard.routing.model import TaskChannel
from callboard.routing.records import channel_record
from callboard.routing.workspace import Workspace

router = APIRouter(prefix=f"{WORKSPACE}/task-channels", tags=["task channels"])


def find_channel(engine: Workspace, ref: str) -> TaskChannel:
    """A channel by unique name or sid."""
    found = next((c for c in engine.channels.values() if c.sid == ref), None)
    return found or engine.channel(ref)


@router.get("")
async def list_channels(scope: Member, page: PageDep) -> dict[str, Any]:
    """Every member of the workspace, agents included, may list channels."""
    return page.slice([channel_record(c) for c in scope.engine.channels.values()])


@router.post("", status_code=201)
async def create_channel(body: ChannelCreate, scope: AdminScope) -> dict[str, Any]:
    channel = await scope.run(
        lambda w: w.add_channel(body.unique_name, friendly_name=body.friendly_name, capacity=body.default_capacity)
    )
    return channel_record(channel)


@router.get("/{channel}")
async def get_channel(channel: str, scope: Member) -> dict[str, Any]:
    return channel_record(find_channel(scope.engine, channel))


@router.delete("/{channel}", status_code=204)
async def delete_channel(channel: str, scope: AdminScope) -> None:
    unique_name = find_channel(scope.engine, channel).unique_name
    await scope.run(lambda w: w.delete_channel(unique_name))
