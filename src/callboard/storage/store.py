"""The store: one object the app opens on a database URL, made of one part per concept."""

from __future__ import annotations

from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine

from callboard.core.clock import Clock, SystemClock
from callboard.storage import migrate
from callboard.storage.calls import CallsMixin
from callboard.storage.contacts import ContactsMixin
from callboard.storage.credentials import CredentialsMixin
from callboard.storage.engine import open_engine
from callboard.storage.eventlog import EventLogMixin
from callboard.storage.ivr import IvrMixin
from callboard.storage.records import RecordsMixin
from callboard.storage.sip import SipMixin
from callboard.storage.users import UsersMixin


class Store(RecordsMixin, EventLogMixin, UsersMixin, CredentialsMixin, CallsMixin, SipMixin, IvrMixin, ContactsMixin):
    """Workspaces, routing records, the event log, users and credentials, calls, SIP state, the IVR (flows,
    schedules, numbers, prompts, closures) and CRM contacts in SQLite or PostgreSQL."""

    def __init__(self, engine: AsyncEngine, clock: Clock | None = None) -> None:
        super().__init__(engine, clock or SystemClock())

    @classmethod
    async def open(cls, url: str, *, schema: str | None = None, clock: Clock | None = None) -> Self:
        """A store on `url` (`sqlite+aiosqlite:///path` or `postgresql+asyncpg://...`); it does not migrate.

        `schema` (PostgreSQL only) is the schema to use; `clock` dates users, sessions and tokens.
        """
        return cls(open_engine(url, schema=schema), clock)

    async def migrate(self) -> None:
        """Bring the schema up to date; safe to run on every start."""
        await migrate.upgrade(self._engine)

    async def close(self) -> None:
        await self._engine.dispose()
