"""Users of the web UI and API: a name, a password hash, a role, and optionally a workspace and worker.

A user record carries its SIP digest credentials (`sip_realm`, `sip_ha1_md5`, `sip_ha1_sha256`, None until
set; the voice plane reads them in bulk from `list_users`). Like `password_hash`, they are secrets: the API
never shows them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, delete, insert, select, update

from callboard.core.errors import NotFoundError, ValidationError
from callboard.core.ids import USER, new_sid
from callboard.storage.base import StoreBase, as_dict, conflicts
from callboard.storage.tables import users

UPDATABLE = frozenset({"username", "password_hash", "role", "workspace_sid", "worker_sid", "disabled"})
SIP_COLUMNS = ("sip_realm", "sip_ha1_md5", "sip_ha1_sha256")


class UsersMixin(StoreBase):
    """Creating, finding, changing and deleting users; deleting one ends its sessions and API tokens."""

    async def create_user(
        self,
        username: str,
        password_hash: str,
        role: str,
        workspace_sid: str | None = None,
        worker_sid: str | None = None,
    ) -> dict[str, Any]:
        user = {
            "id": new_sid(USER),
            "username": username,
            "password_hash": password_hash,
            "role": role,
            "workspace_sid": workspace_sid,
            "worker_sid": worker_sid,
            "date_created": self._clock.now(),
            "disabled": False,
            **dict.fromkeys(SIP_COLUMNS),
        }
        with conflicts(f"the username {username!r} is taken", username=username):
            async with self._write() as conn:
                await conn.execute(insert(users), [user])
        return user

    async def get_user(self, user_id: str) -> dict[str, Any] | None:
        async with self._engine.connect() as conn:
            return as_dict((await conn.execute(select(users).where(users.c.id == user_id))).mappings().first())

    async def get_user_by_name(self, username: str) -> dict[str, Any] | None:
        async with self._engine.connect() as conn:
            query = select(users).where(users.c.username == username)
            return as_dict((await conn.execute(query)).mappings().first())

    async def list_users(self) -> list[dict[str, Any]]:
        async with self._engine.connect() as conn:
            result = await conn.execute(select(users).order_by(users.c.username))
            return [dict(row) for row in result.mappings()]

    async def users_of_worker(self, workspace_sid: str, worker_sid: str) -> list[dict[str, Any]]:
        """The users who are this worker (an agent's login), by username."""
        query = (
            select(users)
            .where(users.c.workspace_sid == workspace_sid, users.c.worker_sid == worker_sid)
            .order_by(users.c.username)
        )
        async with self._engine.connect() as conn:
            return [dict(row) for row in (await conn.execute(query)).mappings()]

    async def update_user(self, user_id: str, **fields: Any) -> dict[str, Any]:
        """Change some of a user's fields (any of `UPDATABLE`) and return the user as it now is.

        A new username drops the SIP credentials: their HA1s hash the old name, so they could not work.
        """
        unknown = set(fields) - UPDATABLE
        if unknown:
            raise ValidationError(f"cannot update user fields {sorted(unknown)}", fields=sorted(unknown))
        if not fields:
            user = await self.get_user(user_id)
        else:
            values: dict[str, Any] = dict(fields)
            if "username" in fields:
                # SET expressions see the row as it was, so this compares with the old name.
                renamed = users.c.username != fields["username"]
                values.update({name: case((renamed, None), else_=users.c[name]) for name in SIP_COLUMNS})
            with conflicts(f"the username {fields.get('username')!r} is taken", username=fields.get("username")):
                async with self._write() as conn:
                    query = update(users).where(users.c.id == user_id).values(**values).returning(*users.columns)
                    user = as_dict((await conn.execute(query)).mappings().first())
        if user is None:
            raise NotFoundError(f"user {user_id} not found", id=user_id)
        return user

    async def delete_user(self, user_id: str) -> None:
        """Delete a user with its sessions and API tokens; deleting a missing user does nothing."""
        async with self._write() as conn:
            await conn.execute(delete(users).where(users.c.id == user_id))
