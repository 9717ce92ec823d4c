"""Which workspace a request is about, and what the caller may do in it.

Admins do everything; supervisors read everything and steer live work; an agent only reaches its own
workspace, and inside it only its own worker, its own reservations and the tasks they are for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Path

from callboard.api.auth import AnyUser, CenterDep, Principal, denied
from callboard.api.ports import CenterPort
from callboard.routing.workspace import Workspace

T = TypeVar("T")


@dataclass(frozen=True)
class Scope:
    """The caller and the workspace engine of one request."""

    center: CenterPort
    principal: Principal
    engine: Workspace

    @property
    def sid(self) -> str:
        return self.engine.sid

    async def run(self, op: Callable[[Workspace], T]) -> T:
        """Change the workspace: the center persists and publishes what the operation did."""
        return await self.center.run(self.engine.sid, op)

    def require_worker(self, worker_sid: str) -> None:
        """Staff reach every worker; an agent only its own."""
        if not self.principal.is_staff and self.principal.worker_sid != worker_sid:
            raise denied("agents may only reach their own worker")


def workspace_scope(
    ws: Annotated[str, Path(description="Workspace sid or friendly name")],
    principal: AnyUser,
    center: CenterDep,
) -> Scope:
    engine = center.workspace(ws)
    if principal.is_agent and principal.workspace_sid != engine.sid:
        raise denied("agents may only reach their own workspace")
    return Scope(center, principal, engine)


def staff_scope(scope: Annotated[Scope, Depends(workspace_scope)]) -> Scope:
    scope.principal.require_staff()
    return scope


def admin_scope(scope: Annotated[Scope, Depends(workspace_scope)]) -> Scope:
    scope.principal.require_admin()
    return scope


Member = Annotated[Scope, Depends(workspace_scope)]
StaffScope = Annotated[Scope, Depends(staff_scope)]
AdminScope = Annotated[Scope, Depends(admin_scope)]
