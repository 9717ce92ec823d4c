"""Routing records: committed in one transaction with their events, loaded back to restore or list them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from callboard.core.errors import ConflictError, NotFoundError, ValidationError
from callboard.core.events import Event
from callboard.storage.eventlog import event_rows
from callboard.storage.kinds import KINDS, Kind, check_record, kind_of
from callboard.storage.tables import events as events_table
from callboard.storage.upsert import upsert
from callboard.storage.workspaces import WorkspacesMixin

# Keeps `IN (...)` under SQLite's bound-parameter limit.
_DELETE_CHUNK = 500
# Namespace of the per-workspace advisory locks taken by commit (the migration lock uses one int8 key).
_COMMIT_LOCK_CLASS = 0x6362


class RecordsMixin(WorkspacesMixin):
    """Committing, loading, getting and listing the routing records of a workspace."""

    async def commit(
        self,
        workspace_sid: str,
        upserts: Sequence[tuple[str, Mapping[str, Any]]],
        deletes: Sequence[tuple[str, str]],
        events: Sequence[Event],
    ) -> None:
        """In one transaction: upsert records by sid (the last one of a sid wins), delete, append events."""
        now = self._clock.now()
        rows: dict[str, dict[str, dict[str, Any]]] = {}
        for name, record in upserts:
            kind = kind_of(name)
            check_record(kind, record)
            rows.setdefault(kind.name, {})[record["sid"]] = kind.row(workspace_sid, record, now)
        gone: dict[str, list[str]] = {}
        for name, sid in deletes:
            gone.setdefault(kind_of(name).name, []).append(sid)
        logged = event_rows(events)
        if not (rows or gone or logged):
            return
        try:
            async with self._write() as conn:
                await self._lock_workspace(conn, workspace_sid)
                for name, by_sid in rows.items():
                    await conn.execute(upsert(self.dialect, KINDS[name].table), list(by_sid.values()))
                for name, sids in gone.items():
                    await _delete(conn, KINDS[name], workspace_sid, sids)
                if logged:
                    await conn.execute(insert(events_table), logged)
        except IntegrityError as exc:
            if not await self._workspace_exists(workspace_sid):
                raise NotFoundError(f"workspace {workspace_sid} not found", sid=workspace_sid) from exc
            raise ConflictError("the commit conflicts with stored records", workspace_sid=workspace_sid) from exc

    async def _lock_workspace(self, conn: AsyncConnection, workspace_sid: str) -> None:
        # PostgreSQL hands out event ids before commit; serializing a workspace's commits makes its ids
        # visible in order, so a reader polling with after_id never skips one. SQLite has one writer anyway.
        if self.dialect == "postgresql":
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:cls, hashtext(:ws))"),
                {"cls": _COMMIT_LOCK_CLASS, "ws": workspace_sid},
            )

    async def load_live(self, workspace_sid: str) -> dict[str, list[dict[str, Any]]]:
        """Every record an engine needs to restore the workspace: all but finished tasks and reservations."""
        live: dict[str, list[dict[str, Any]]] = {}
        async with self._engine.connect() as conn:
            for kind in KINDS.values():
                t = kind.table
                query = (
                    select(t.c.data)
                    .where(t.c.workspace_sid == workspace_sid, kind.live())
                    .order_by(t.c.date_created, t.c.sid)
                )
                live[kind.name] = [dict(data) for data in (await conn.execute(query)).scalars()]
        return live

    async def get(self, workspace_sid: str, kind: str, sid: str) -> dict[str, Any] | None:
        t = kind_of(kind).table
        async with self._engine.connect() as conn:
            data = await conn.scalar(select(t.c.data).where(t.c.workspace_sid == workspace_sid, t.c.sid == sid))
            return None if data is None else dict(data)

    async def list(
        self,
        workspace_sid: str,
        kind: str,
        *,
        filters: Mapping[str, Any] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of records ordered by date_created then sid, and how many match in all.

        A filter value that is a list, tuple or set matches any of its items; None matches NULL.
        """
        spec = kind_of(kind)
        if limit < 0 or offset < 0:
            raise ValidationError("limit and offset must not be negative", limit=limit, offset=offset)
        t = spec.table
        where = [t.c.workspace_sid == workspace_sid, *_conditions(spec, filters or {})]
        page = select(t.c.data).where(*where).order_by(t.c.date_created, t.c.sid).limit(limit).offset(offset)
        count = select(func.count()).select_from(t).where(*where)
        async with self._engine.connect() as conn:
            records = [dict(data) for data in (await conn.execute(page)).scalars()]
            total = await conn.scalar(count)
        return records, int(total or 0)


def _conditions(kind: Kind, filters: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for name, value in filters.items():
        if not kind.filterable(name):
            raise ValidationError(
                f"cannot filter {kind.name} records on {name!r}",
                field=name,
                filterable=sorted((*kind.columns, "sid")),
            )
        column = kind.table.c[name]
        if isinstance(value, list | tuple | set | frozenset):
            conditions.append(column.in_(list(value)))
        elif value is None:
            conditions.append(column.is_(None))
        else:
            conditions.append(column == value)
    return conditions


async def _delete(conn: AsyncConnection, kind: Kind, workspace_sid: str, sids: list[str]) -> None:
    t = kind.table
    for i in range(0, len(sids), _DELETE_CHUNK):
        chunk = sids[i : i + _DELETE_CHUNK]
        await conn.execute(delete(t).where(t.c.workspace_sid == workspace_sid, t.c.sid.in_(chunk)))
