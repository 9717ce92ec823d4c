"""Users of the API and UI (admins only): who they are, their role, and for agents their worker."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from callboard.api.auth import (
    Admin,
    AuthConfigDep,
    CenterDep,
    Principal,
    Role,
    hash_password,
    store_sip_credentials,
    user_view,
)
from callboard.api.params import PageDep
from callboard.api.ports import CenterPort, Record
from callboard.api.schemas import UserCreate, UserUpdate
from callboard.api.urls import V1
from callboard.core.errors import ConflictError, NotFoundError, ValidationError

router = APIRouter(prefix=f"{V1}/users", tags=["users"])


def _check_agent_link(center: CenterPort, user: dict[str, Any]) -> dict[str, Any]:
    """An agent must name its workspace and worker; both must exist. Returns them resolved to sids."""
    if user["role"] != Role.AGENT:
        return user
    if not user.get("workspace_sid") or not user.get("worker_sid"):
        raise ValidationError("an agent needs a workspace_sid and a worker_sid", error_id="agent_without_worker")
    engine = center.workspace(user["workspace_sid"])
    engine.worker(user["worker_sid"])
    return {**user, "workspace_sid": engine.sid}


async def _user(center: CenterPort, user_id: str) -> Record:
    user = await center.store.get_user(user_id)
    if user is None:
        raise NotFoundError(f"no user {user_id}", error_id="user_not_found", id=user_id)
    return user


@router.get("")
async def list_users(_: Admin, center: CenterDep, page: PageDep, role: Role | None = None) -> dict[str, Any]:
    users = await center.store.list_users()
    return page.slice([user_view(u) for u in users if role is None or u["role"] == role])


@router.post("", status_code=201)
async def create_user(body: UserCreate, _: Admin, center: CenterDep, config: AuthConfigDep) -> dict[str, Any]:
    """The password also gives the user SIP credentials in the server's realm, for registering a phone."""
    fields = _check_agent_link(center, body.model_dump(mode="json", exclude={"password"}))
    if await center.store.get_user_by_name(body.username) is not None:
        raise ConflictError(f"user {body.username!r} exists", error_id="user_exists")
    user = await center.store.create_user(password_hash=await hash_password(body.password), **fields)
    await store_sip_credentials(center.store, user["id"], user["username"], body.password, config.sip_realm)
    return user_view(await _user(center, user["id"]))


@router.get("/{user_id}")
async def get_user(user_id: str, _: Admin, center: CenterDep) -> dict[str, Any]:
    return user_view(await _user(center, user_id))


def _not_yourself(principal: Principal, user: Record, action: str) -> None:
    """An admin cannot lock themselves out (and perhaps the center with them, if they were the last)."""
    if user["id"] == principal.user_id:
        raise ConflictError(f"you cannot {action} your own account", error_id="own_account")


@router.patch("/{user_id}")
async def update_user(
    user_id: str, body: UserUpdate, principal: Admin, center: CenterDep, config: AuthConfigDep
) -> dict[str, Any]:
    """A new password replaces the SIP credentials too."""
    user = await _user(center, user_id)
    changes = body.changes()
    if changes.get("disabled") or changes.get("role", Role.ADMIN) != Role.ADMIN:
        _not_yourself(principal, user, "disable or demote")
    linked = _check_agent_link(center, {**user, **changes})
    if "workspace_sid" in changes:
        changes["workspace_sid"] = linked["workspace_sid"]
    password = changes.pop("password", None)
    if password:
        changes["password_hash"] = await hash_password(password)
    updated = await center.store.update_user(user["id"], **changes)
    if password:
        await store_sip_credentials(center.store, user["id"], updated["username"], password, config.sip_realm)
        updated = await _user(center, user["id"])
    return user_view(updated)


@router.delete("/{user_id}", status_code=204)
async def delete_user(user_id: str, principal: Admin, center: CenterDep) -> None:
    user = await _user(center, user_id)
    _not_yourself(principal, user, "delete")
    await center.store.delete_user(user["id"])
