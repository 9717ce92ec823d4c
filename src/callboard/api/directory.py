"""The workspace's directory: who and what a call can be transferred to, readable by every member.

Agents may not list workers or queues (their attributes and expressions are the staff's), but a transfer
needs names to pick from, as Twilio Flex's worker directory gives them: queue names, and each other agent's
name with whether they can take a call now.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from callboard.api.access import Member
from callboard.api.urls import WORKSPACE

router = APIRouter(prefix=f"{WORKSPACE}/directory", tags=["workers"])


@router.get("")
async def directory(scope: Member) -> dict[str, Any]:
    """`queues` by name and `agents` by name with `available` (their activity takes work now), both sorted by
    name; the caller's own worker is left out of `agents`."""
    engine = scope.engine
    me = scope.principal.worker_sid
    queues = sorted(({"sid": q.sid, "name": q.friendly_name} for q in engine.queues.values()), key=_name)
    agents = sorted(
        (
            {"sid": w.sid, "name": w.friendly_name, "available": engine.activities[w.activity_sid].available}
            for w in engine.workers.values()
            if w.sid != me
        ),
        key=_name,
    )
    return {"queues": queues, "agents": agents}


def _name(entry: dict[str, Any]) -> str:
    return str(entry["name"]).casefold()
