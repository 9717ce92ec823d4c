"""What the SIP registrar keeps: its bindings, and the digest credentials agent phones register with.

Digest authentication (RFC 7616) needs H(username:realm:password), not the argon2 hash of the password,
so the HA1 of each algorithm is stored beside it when the password is set. Computing them is the
voice plane's job; the store only keeps the hex strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import CursorResult, delete, select, update

from callboard.core.errors import NotFoundError, ValidationError
from callboard.storage.base import StoreBase
from callboard.storage.tables import sip_bindings, users
from callboard.storage.upsert import upsert

_HEX = {"ha1_md5": re.compile(r"[0-9a-f]{32}"), "ha1_sha256": re.compile(r"[0-9a-f]{64}")}


class SipMixin(StoreBase):
    """Registrar bindings and users' SIP credentials."""

    # Bindings

    async def save_sip_binding(self, aor: str, key: str, record: Mapping[str, Any]) -> None:
        """Add the binding of `aor` identified by `key` (its contact), or replace it."""
        if not aor or not key or not isinstance(record, Mapping):
            raise ValidationError("a SIP binding needs an aor, a key and a record mapping", aor=aor, key=key)
        async with self._write() as conn:
            await conn.execute(upsert(self.dialect, sip_bindings), [{"aor": aor, "key": key, "record": dict(record)}])

    async def delete_sip_binding(self, aor: str, key: str) -> None:
        """Forget a binding; forgetting one that is not there does nothing."""
        async with self._write() as conn:
            await conn.execute(delete(sip_bindings).where(sip_bindings.c.aor == aor, sip_bindings.c.key == key))

    async def load_sip_bindings(self) -> list[dict[str, Any]]:
        """Every binding's record, expired or not (the registrar purges what expired while it was down)."""
        query = select(sip_bindings.c.record).order_by(sip_bindings.c.aor, sip_bindings.c.key)
        async with self._engine.connect() as conn:
            return [dict(record) for record in (await conn.execute(query)).scalars()]

    # Credentials

    async def set_sip_credentials(self, user_id: str, realm: str, ha1_md5: str, ha1_sha256: str) -> None:
        """Store a user's HA1s (lower-case hex) for `realm`; raises `NotFoundError` for an unknown user."""
        if not isinstance(realm, str) or not realm:
            raise ValidationError("a SIP realm must be a non-empty string", field="realm")
        for field, value in (("ha1_md5", ha1_md5), ("ha1_sha256", ha1_sha256)):
            if not isinstance(value, str) or not _HEX[field].fullmatch(value):
                raise ValidationError(f"{field} must be the lower-case hex of the digest", field=field)
        await self._set_sip_columns(user_id, sip_realm=realm, sip_ha1_md5=ha1_md5, sip_ha1_sha256=ha1_sha256)

    async def clear_sip_credentials(self, user_id: str) -> None:
        """Remove a user's SIP credentials: its phones can no longer register."""
        await self._set_sip_columns(user_id, sip_realm=None, sip_ha1_md5=None, sip_ha1_sha256=None)

    async def _set_sip_columns(self, user_id: str, **values: str | None) -> None:
        async with self._write() as conn:
            result: CursorResult[Any] = await conn.execute(update(users).where(users.c.id == user_id).values(**values))
        if result.rowcount == 0:
            raise NotFoundError(f"user {user_id} not found", error_id="user_not_found", id=user_id)

    async def get_sip_credentials(self, username: str) -> dict[str, Any] | None:
        """{username, realm, ha1_md5, ha1_sha256, worker_sid, workspace_sid, disabled}, or None when the user
        is unknown or has no SIP credentials. A disabled user's are returned too: the caller refuses them."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(_CREDENTIALS.where(users.c.username == username))).mappings().first()
        if row is None or row["realm"] is None or row["ha1_md5"] is None or row["ha1_sha256"] is None:
            return None
        return dict(row)

    async def list_sip_credentials(self) -> list[dict[str, Any]]:
        """The SIP credentials of every user that has them (as `get_sip_credentials`), by username."""
        query = _CREDENTIALS.where(
            users.c.sip_realm.is_not(None), users.c.sip_ha1_md5.is_not(None), users.c.sip_ha1_sha256.is_not(None)
        ).order_by(users.c.username)
        async with self._engine.connect() as conn:
            return [dict(row) for row in (await conn.execute(query)).mappings()]


_CREDENTIALS = select(
    users.c.username,
    users.c.sip_realm.label("realm"),
    users.c.sip_ha1_md5.label("ha1_md5"),
    users.c.sip_ha1_sha256.label("ha1_sha256"),
    users.c.worker_sid,
    users.c.workspace_sid,
    users.c.disabled,
)
