"""CRM contacts: who a caller is (found by the number they call from), whether they are a VIP, who manages
their account and which language they speak. A number belongs to at most one contact of a workspace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import CursorResult, RowMapping, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from callboard.core.errors import ConflictError, NotFoundError, ValidationError
from callboard.core.ids import CONTACT, is_sid, new_sid
from callboard.storage.ivr import check_e164
from callboard.storage.tables import contact_numbers, contacts
from callboard.storage.upsert import upsert
from callboard.storage.workspaces import WorkspacesMixin

CONTACT_FIELDS = ("sid", "name", "numbers", "vip", "manager", "language", "attributes")
_STORED_FIELDS = (*CONTACT_FIELDS, "date_created", "date_updated")


def _invalid(message: str, field: str) -> ValidationError:
    return ValidationError(f"contact: {message}", error_id="contact_invalid", field=field)


def contact_row(contact: Mapping[str, Any]) -> dict[str, Any]:
    """The contact's fields checked and with their defaults; raises `ValidationError`."""
    if not isinstance(contact, Mapping):
        raise ValidationError("a contact must be a mapping", error_id="contact_invalid")
    unknown = sorted(set(contact) - set(_STORED_FIELDS))
    if unknown:
        raise _invalid(f"unknown fields {unknown}", unknown[0])
    sid = contact.get("sid")
    if sid is not None and not (isinstance(sid, str) and is_sid(sid, CONTACT)):
        raise _invalid(f"sid must be a contact sid ({CONTACT}...), got {sid!r}", "sid")
    name = contact.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _invalid(f"name must be a non-empty string, got {name!r}", "name")
    given = contact.get("numbers", [])
    if not isinstance(given, list | tuple):
        raise _invalid("numbers must be a list of E.164 numbers", "numbers")
    numbers = list(dict.fromkeys(check_e164(n, "a contact's number") for n in given))
    vip = contact.get("vip", False)
    if not isinstance(vip, bool):
        raise _invalid(f"vip must be true or false, got {vip!r}", "vip")
    for field in ("manager", "language"):
        value = contact.get(field)
        if value is not None and not (isinstance(value, str) and value.strip()):
            raise _invalid(f"{field} must be a non-empty string or null, got {value!r}", field)
    attributes = contact.get("attributes", {})
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, Mapping):
        raise _invalid("attributes must be a mapping", "attributes")
    return {
        "sid": sid,
        "name": name,
        "numbers": numbers,
        "vip": vip,
        "manager": contact.get("manager"),
        "language": contact.get("language"),
        "attributes": dict(attributes),
    }


class ContactsMixin(WorkspacesMixin):
    """Saving, finding, listing and deleting contacts."""

    async def put_contact(self, workspace_sid: str, contact: Mapping[str, Any]) -> dict[str, Any]:
        """Create a contact (a new sid when it has none) or replace the one with its sid; returns it as stored.

        A number another contact of the workspace has raises `ConflictError` (`contact_number_taken`); a sid
        of another workspace's contact raises `NotFoundError`.
        """
        row = contact_row(contact)
        row["sid"] = row["sid"] or new_sid(CONTACT)
        now = self._clock.now()
        row.update(workspace_sid=workspace_sid, date_created=now, date_updated=now)
        try:
            async with self._write() as conn:
                owner = await conn.scalar(select(contacts.c.workspace_sid).where(contacts.c.sid == row["sid"]))
                if owner is not None and owner != workspace_sid:
                    raise NotFoundError(f"contact {row['sid']} not found", error_id="contact_not_found", sid=row["sid"])
                await _check_numbers_free(conn, workspace_sid, row["sid"], row["numbers"])
                await conn.execute(upsert(self.dialect, contacts, keep=("date_created",)), [row])
                await conn.execute(delete(contact_numbers).where(contact_numbers.c.contact_sid == row["sid"]))
                if row["numbers"]:
                    await conn.execute(
                        insert(contact_numbers),
                        [
                            {"workspace_sid": workspace_sid, "e164": n, "contact_sid": row["sid"]}
                            for n in row["numbers"]
                        ],
                    )
        except IntegrityError as exc:
            if not await self._workspace_exists(workspace_sid):
                raise NotFoundError(
                    f"workspace {workspace_sid} not found", error_id="workspace_not_found", sid=workspace_sid
                ) from exc
            raise ConflictError(
                "one of the contact's numbers was just given to another contact",
                error_id="contact_number_taken",
                numbers=row["numbers"],
            ) from exc
        stored = await self.get_contact(workspace_sid, row["sid"])
        assert stored is not None
        return stored

    async def get_contact(self, workspace_sid: str, sid: str) -> dict[str, Any] | None:
        query = _SELECT.where(contacts.c.workspace_sid == workspace_sid, contacts.c.sid == sid)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _contact(row)

    async def find_contact(self, workspace_sid: str, e164: str) -> dict[str, Any] | None:
        """The contact who has the number `e164`, or None."""
        query = _SELECT.join(contact_numbers, contact_numbers.c.contact_sid == contacts.c.sid).where(
            contact_numbers.c.workspace_sid == workspace_sid, contact_numbers.c.e164 == e164
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _contact(row)

    async def list_contacts(self, workspace_sid: str) -> list[dict[str, Any]]:
        """Every contact of the workspace, by name then sid."""
        query = _SELECT.where(contacts.c.workspace_sid == workspace_sid).order_by(contacts.c.name, contacts.c.sid)
        async with self._engine.connect() as conn:
            return [_contact(row) for row in (await conn.execute(query)).mappings()]

    async def delete_contact(self, workspace_sid: str, sid: str) -> bool:
        """Delete a contact and its numbers; False when there was none."""
        statement = delete(contacts).where(contacts.c.workspace_sid == workspace_sid, contacts.c.sid == sid)
        async with self._write() as conn:
            result: CursorResult[Any] = await conn.execute(statement)
        return result.rowcount > 0


_SELECT = select(*(contacts.c[name] for name in _STORED_FIELDS))


async def _check_numbers_free(conn: AsyncConnection, workspace_sid: str, sid: str, numbers: list[str]) -> None:
    if not numbers:
        return
    t = contact_numbers
    query = select(t.c.e164, t.c.contact_sid).where(
        t.c.workspace_sid == workspace_sid, t.c.e164.in_(numbers), t.c.contact_sid != sid
    )
    taken = {row.e164: row.contact_sid for row in await conn.execute(query)}
    if taken:
        first = next(n for n in numbers if n in taken)
        raise ConflictError(
            f"number {first} belongs to contact {taken[first]}",
            error_id="contact_number_taken",
            number=first,
            contact_sid=taken[first],
        )


def _contact(row: RowMapping) -> dict[str, Any]:
    contact = dict(row)
    contact["numbers"] = list(contact["numbers"])
    contact["attributes"] = dict(contact["attributes"] or {})
    return contact
