"""How users prove who they are: browser sessions, API tokens, and the login attempts that rate-limit both.

Only hashes of secrets are stored; hashing and checking them is the API's job.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, delete, func, insert, select, update

from callboard.core.ids import TOKEN, new_sid
from callboard.storage.base import StoreBase, as_dict, conflicts
from callboard.storage.tables import api_tokens, login_attempts, sessions


class CredentialsMixin(StoreBase):
    """Sessions, API tokens and login attempts."""

    # Sessions

    async def create_session(self, token_hash: str, user_id: str, expires_at: float, csrf_token: str) -> None:
        row = {
            "token_hash": token_hash,
            "user_id": user_id,
            "expires_at": expires_at,
            "csrf_token": csrf_token,
            "date_created": self._clock.now(),
        }
        with conflicts("the session cannot be created (unknown user or reused token)", user_id=user_id):
            async with self._write() as conn:
                await conn.execute(insert(sessions), [row])

    async def get_session(self, token_hash: str) -> dict[str, Any] | None:
        """The session, expired or not: the caller compares `expires_at` with its clock."""
        async with self._engine.connect() as conn:
            query = select(sessions).where(sessions.c.token_hash == token_hash)
            return as_dict((await conn.execute(query)).mappings().first())

    async def delete_session(self, token_hash: str) -> None:
        async with self._write() as conn:
            await conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash))

    async def purge_sessions(self, now: float) -> int:
        """Delete the sessions expired at `now`; returns how many."""
        async with self._write() as conn:
            result: CursorResult[Any] = await conn.execute(delete(sessions).where(sessions.c.expires_at <= now))
            return result.rowcount

    # API tokens

    async def create_api_token(self, user_id: str, name: str, token_hash: str) -> dict[str, Any]:
        token = {
            "id": new_sid(TOKEN),
            "user_id": user_id,
            "name": name,
            "token_hash": token_hash,
            "date_created": self._clock.now(),
            "last_used": None,
        }
        with conflicts("the API token cannot be created (unknown user or reused token)", user_id=user_id):
            async with self._write() as conn:
                await conn.execute(insert(api_tokens), [token])
        return token

    async def find_api_token(self, token_hash: str) -> dict[str, Any] | None:
        async with self._engine.connect() as conn:
            query = select(api_tokens).where(api_tokens.c.token_hash == token_hash)
            return as_dict((await conn.execute(query)).mappings().first())

    async def touch_api_token(self, token_id: str, now: float) -> None:
        """Record that the token was just used."""
        async with self._write() as conn:
            await conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used=now))

    async def list_api_tokens(self, user_id: str) -> list[dict[str, Any]]:
        async with self._engine.connect() as conn:
            query = (
                select(api_tokens)
                .where(api_tokens.c.user_id == user_id)
                .order_by(api_tokens.c.date_created, api_tokens.c.id)
            )
            return [dict(row) for row in (await conn.execute(query)).mappings()]

    async def delete_api_token(self, token_id: str) -> None:
        async with self._write() as conn:
            await conn.execute(delete(api_tokens).where(api_tokens.c.id == token_id))

    # Login attempts

    async def record_login_attempt(self, key: str, now: float) -> None:
        async with self._write() as conn:
            await conn.execute(insert(login_attempts), [{"key": key, "timestamp": now}])

    async def count_login_attempts(self, key: str, since: float) -> int:
        """How many attempts were made with `key` at or after `since`."""
        async with self._engine.connect() as conn:
            query = select(func.count()).where(login_attempts.c.key == key, login_attempts.c.timestamp >= since)
            return int(await conn.scalar(query) or 0)

    async def clear_login_attempts(self, key: str) -> None:
        async with self._write() as conn:
            await conn.execute(delete(login_attempts).where(login_attempts.c.key == key))

    async def purge_login_attempts(self, before: float) -> int:
        """Forget attempts older than `before`, which no rate window looks at any more; returns how many."""
        async with self._write() as conn:
            result: CursorResult[Any] = await conn.execute(
                delete(login_attempts).where(login_attempts.c.timestamp < before)
            )
            return result.rowcount
