"""Workspaces: the tenants every routing record belongs to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from callboard.core.errors import ValidationError
from callboard.storage.base import StoreBase, conflicts
from callboard.storage.tables import workspaces
from callboard.storage.upsert import upsert


class WorkspacesMixin(StoreBase):
    """Saving, listing and deleting workspace records."""

    async def save_workspace(self, record: dict[str, Any]) -> None:
        """Insert or replace a workspace record; its creation date is kept from the first save."""
        sid, name = record.get("sid"), record.get("friendly_name")
        if not isinstance(sid, str) or not sid or not isinstance(name, str):
            raise ValidationError("a workspace record needs a string 'sid' and 'friendly_name'")
        created = record.get("date_created")
        row = {
            "sid": sid,
            "friendly_name": name,
            "data": record,
            "date_created": float(created) if isinstance(created, int | float) else self._clock.now(),
        }
        with conflicts(f"a workspace named {name!r} already exists", friendly_name=name):
            async with self._write() as conn:
                await conn.execute(upsert(self.dialect, workspaces, keep=("date_created",)), [row])

    async def delete_workspace(self, sid: str) -> None:
        """Delete a workspace and, by cascade, every routing record and call record in it; the event log stays."""
        async with self._write() as conn:
            await conn.execute(delete(workspaces).where(workspaces.c.sid == sid))

    async def load_workspaces(self) -> list[dict[str, Any]]:
        async with self._engine.connect() as conn:
            result = await conn.execute(select(workspaces.c.data).order_by(workspaces.c.date_created, workspaces.c.sid))
            return [dict(data) for data in result.scalars()]

    async def get_workspace(self, sid: str) -> dict[str, Any] | None:
        async with self._engine.connect() as conn:
            data = await conn.scalar(select(workspaces.c.data).where(workspaces.c.sid == sid))
            return None if data is None else dict(data)

    async def _workspace_exists(self, sid: str) -> bool:
        async with self._engine.connect() as conn:
            return await conn.scalar(select(workspaces.c.sid).where(workspaces.c.sid == sid)) is not None
