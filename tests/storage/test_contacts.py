"""CRM contacts: new sids, lookup by number, numbers unique in a workspace, and a workspace's contacts going with it."""

from __future__ import annotations

from typing import Any

import pytest

from callboard.core.errors import ConflictError, NotFoundError, ValidationError
from callboard.core.ids import CONTACT, is_sid
from callboard.storage import Store
from conftest import Database

ANA = {
    "name": "Ana García",
    "numbers": ["+34600000001", "+34910000009"],
    "vip": True,
    "manager": "alice",
    "language": "es",
    "attributes": {"account": "A-1001"},
}


def fields(contact: dict[str, Any] | None) -> dict[str, Any]:
    assert contact is not None
    return {k: v for k, v in contact.items() if k not in ("sid", "date_created", "date_updated")}


@pytest.fixture
async def crm(store: Store) -> Store:
    await store.save_workspace({"sid": "WS1", "friendly_name": "one"})
    await store.save_workspace({"sid": "WS2", "friendly_name": "two"})
    return store


async def test_a_new_contact_gets_a_sid_and_is_found_by_each_number(crm: Store) -> None:
    ana = await crm.put_contact("WS1", ANA)
    assert is_sid(ana["sid"], CONTACT)
    assert fields(ana) == ANA
    assert await crm.get_contact("WS1", ana["sid"]) == ana
    assert await crm.find_contact("WS1", "+34600000001") == ana
    assert await crm.find_contact("WS1", "+34910000009") == ana
    assert await crm.find_contact("WS1", "+34600000002") is None
    assert await crm.find_contact("WS2", "+34600000001") is None  # contacts are per workspace


async def test_defaults_and_an_update_by_sid(crm: Store) -> None:
    bob = await crm.put_contact("WS1", {"name": "Bob", "numbers": ["+13035550100"]})
    assert fields(bob) == {
        "name": "Bob",
        "numbers": ["+13035550100"],
        "vip": False,
        "manager": None,
        "language": None,
        "attributes": {},
    }
    updated = await crm.put_contact("WS1", {**bob, "numbers": ["+13035550101"], "vip": True})
    assert updated["sid"] == bob["sid"] and updated["vip"] is True
    assert updated["date_created"] == bob["date_created"]
    assert await crm.find_contact("WS1", "+13035550100") is None  # the old number is no longer his
    assert (await crm.find_contact("WS1", "+13035550101") or {})["sid"] == bob["sid"]
    assert [c["name"] for c in await crm.list_contacts("WS1")] == ["Bob"]


async def test_a_number_belongs_to_one_contact_of_a_workspace(crm: Store) -> None:
    ana = await crm.put_contact("WS1", ANA)
    with pytest.raises(ConflictError) as raised:
        await crm.put_contact("WS1", {"name": "Impostor", "numbers": ["+34910000009"]})
    assert raised.value.error_id == "contact_number_taken"
    assert raised.value.details["contact_sid"] == ana["sid"]
    assert [c["name"] for c in await crm.list_contacts("WS1")] == ["Ana García"]
    # another workspace may know the same person
    assert (await crm.put_contact("WS2", {"name": "Ana", "numbers": ["+34910000009"]}))["name"] == "Ana"
    # a repeated number in one contact is kept once
    carl = await crm.put_contact("WS1", {"name": "Carl", "numbers": ["+4930000000", "+4930000000"]})
    assert carl["numbers"] == ["+4930000000"]


async def test_a_contact_of_another_workspace_cannot_be_taken_over(crm: Store) -> None:
    ana = await crm.put_contact("WS1", ANA)
    with pytest.raises(NotFoundError):
        await crm.put_contact("WS2", {**ANA, "sid": ana["sid"]})
    assert await crm.get_contact("WS2", ana["sid"]) is None
    assert await crm.get_contact("WS1", ana["sid"]) == ana
    with pytest.raises(NotFoundError):
        await crm.put_contact("WS404", {"name": "x"})


@pytest.mark.parametrize(
    "contact",
    [
        {"numbers": ["+34600000001"]},
        {"name": ""},
        {"name": "x", "numbers": ["600 000 001"]},
        {"name": "x", "numbers": "+34600000001"},
        {"name": "x", "vip": "yes"},
        {"name": "x", "manager": ""},
        {"name": "x", "attributes": ["a"]},
        {"name": "x", "sid": "CT1"},
        {"name": "x", "nickname": "y"},
    ],
)
async def test_malformed_contacts_are_refused(crm: Store, contact: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        await crm.put_contact("WS1", contact)
    assert await crm.list_contacts("WS1") == []


async def test_delete_and_the_workspace_going(crm: Store, database: Database) -> None:
    ana = await crm.put_contact("WS1", ANA)
    bob = await crm.put_contact("WS1", {"name": "Bob", "numbers": ["+13035550100"]})
    assert await crm.delete_contact("WS1", bob["sid"]) is True
    assert await crm.delete_contact("WS1", bob["sid"]) is False
    assert await crm.find_contact("WS1", "+13035550100") is None
    assert await crm.put_contact("WS1", {"name": "Bob again", "numbers": ["+13035550100"]})  # the number is free

    reopened = await database.open()
    try:
        assert await reopened.get_contact("WS1", ana["sid"]) == ana
        await reopened.delete_workspace("WS1")
        assert await reopened.list_contacts("WS1") == []
        assert await reopened.find_contact("WS1", "+34600000001") is None
    finally:
        await reopened.close()
