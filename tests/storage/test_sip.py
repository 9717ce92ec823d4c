"""Registrar bindings and users' SIP credentials in the store."""

from __future__ import annotations

import pytest

from callboard.core.errors import NotFoundError, ValidationError
from callboard.storage import Store
from callboard.voice.sip.digest import Algorithm, ha1
from conftest import Database

MD5 = ha1("alice", "callboard", "secret", Algorithm.MD5)
SHA256 = ha1("alice", "callboard", "secret", Algorithm.SHA_256)


async def test_bindings_are_upserted_by_aor_and_key_and_deleted(store: Store) -> None:
    assert await store.load_sip_bindings() == []
    await store.save_sip_binding("sip:alice@cb", "sip:alice@10.0.0.1", {"contact": "<sip:alice@10.0.0.1>", "cseq": 1})
    await store.save_sip_binding("sip:alice@cb", "sip:alice@10.0.0.2", {"contact": "<sip:alice@10.0.0.2>", "cseq": 1})
    await store.save_sip_binding("sip:bob@cb", "sip:alice@10.0.0.1", {"contact": "<sip:bob@10.0.0.1>", "cseq": 5})
    await store.save_sip_binding("sip:alice@cb", "sip:alice@10.0.0.1", {"contact": "<sip:alice@10.0.0.1>", "cseq": 2})
    assert await store.load_sip_bindings() == [
        {"contact": "<sip:alice@10.0.0.1>", "cseq": 2},
        {"contact": "<sip:alice@10.0.0.2>", "cseq": 1},
        {"contact": "<sip:bob@10.0.0.1>", "cseq": 5},
    ]
    await store.delete_sip_binding("sip:alice@cb", "sip:alice@10.0.0.1")
    await store.delete_sip_binding("sip:alice@cb", "sip:alice@10.0.0.1")  # already gone: nothing happens
    assert [b["contact"] for b in await store.load_sip_bindings()] == ["<sip:alice@10.0.0.2>", "<sip:bob@10.0.0.1>"]


async def test_bindings_survive_reopening_the_store(store: Store, database: Database) -> None:
    record = {"aor": "sip:alice@cb", "contact": "<sip:alice@10.0.0.1;transport=tcp>", "source": ["10.0.0.1", 5060]}
    await store.save_sip_binding("sip:alice@cb", "sip:alice@10.0.0.1;transport=tcp", record)
    reopened = await database.open()
    try:
        assert await reopened.load_sip_bindings() == [record]
    finally:
        await reopened.close()


async def test_credentials_are_set_read_by_username_and_cleared(store: Store) -> None:
    alice = await store.create_user("alice", "argon", "agent", workspace_sid="WS1", worker_sid="WK1")
    assert await store.get_sip_credentials("alice") is None  # no credentials yet
    assert await store.get_sip_credentials("nobody") is None

    await store.set_sip_credentials(alice["id"], "callboard", MD5, SHA256)
    assert await store.get_sip_credentials("alice") == {
        "username": "alice",
        "realm": "callboard",
        "ha1_md5": MD5,
        "ha1_sha256": SHA256,
        "worker_sid": "WK1",
        "workspace_sid": "WS1",
        "disabled": False,
    }
    await store.update_user(alice["id"], disabled=True)
    assert (await store.get_sip_credentials("alice") or {})["disabled"] is True

    await store.clear_sip_credentials(alice["id"])
    assert await store.get_sip_credentials("alice") is None
    with pytest.raises(NotFoundError):
        await store.set_sip_credentials("US404", "callboard", MD5, SHA256)


async def test_user_records_carry_the_credentials_for_the_voice_plane(store: Store) -> None:
    alice = await store.create_user("alice", "argon", "agent", workspace_sid="WS1", worker_sid="WK1")
    assert (alice["sip_realm"], alice["sip_ha1_md5"], alice["sip_ha1_sha256"]) == (None, None, None)
    await store.set_sip_credentials(alice["id"], "callboard", MD5, SHA256)
    expected = alice | {"sip_realm": "callboard", "sip_ha1_md5": MD5, "sip_ha1_sha256": SHA256}
    assert await store.get_user(alice["id"]) == expected
    assert await store.list_users() == [expected]
    assert await store.users_of_worker("WS1", "WK1") == [expected]
    assert await store.update_user(alice["id"], role="agent") == expected


async def test_a_new_username_drops_the_credentials_that_hash_the_old_one(store: Store) -> None:
    alice = await store.create_user("alice", "argon", "agent")
    await store.set_sip_credentials(alice["id"], "callboard", MD5, SHA256)
    await store.update_user(alice["id"], username="alice")  # the same name: they still work
    assert await store.get_sip_credentials("alice") is not None
    await store.update_user(alice["id"], username="alicia")
    assert await store.get_sip_credentials("alicia") is None
    assert await store.get_sip_credentials("alice") is None


@pytest.mark.parametrize(
    ("realm", "md5", "sha256"),
    [
        ("", MD5, SHA256),
        ("callboard", SHA256, MD5),
        ("callboard", MD5.upper(), SHA256),
        ("callboard", "x" * 32, SHA256),
    ],
)
async def test_malformed_credentials_are_refused(store: Store, realm: str, md5: str, sha256: str) -> None:
    alice = await store.create_user("alice", "argon", "agent")
    with pytest.raises(ValidationError):
        await store.set_sip_credentials(alice["id"], realm, md5, sha256)
    assert await store.get_sip_credentials("alice") is None


async def test_users_of_worker(store: Store) -> None:
    await store.create_user("bob", "argon", "agent", workspace_sid="WS1", worker_sid="WK1")
    await store.create_user("alice", "argon", "agent", workspace_sid="WS1", worker_sid="WK1")
    await store.create_user("carol", "argon", "agent", workspace_sid="WS1", worker_sid="WK2")
    await store.create_user("dave", "argon", "agent", workspace_sid="WS2", worker_sid="WK1")
    await store.create_user("admin", "argon", "admin")
    assert [u["username"] for u in await store.users_of_worker("WS1", "WK1")] == ["alice", "bob"]
    assert [u["username"] for u in await store.users_of_worker("WS2", "WK1")] == ["dave"]
    assert await store.users_of_worker("WS1", "WK9") == []


async def test_every_users_credentials_are_listed_at_once_for_the_registrar(store: Store) -> None:
    bob = await store.create_user("bob", "argon", "agent", workspace_sid="WS1", worker_sid="WK2")
    alice = await store.create_user("alice", "argon", "agent", workspace_sid="WS1", worker_sid="WK1")
    await store.create_user("carol", "argon", "supervisor", workspace_sid="WS1")  # no SIP credentials
    await store.set_sip_credentials(bob["id"], "callboard", MD5, SHA256)
    await store.set_sip_credentials(alice["id"], "other", MD5, SHA256)
    listed = await store.list_sip_credentials()
    assert [(c["username"], c["realm"], c["worker_sid"]) for c in listed] == [
        ("alice", "other", "WK1"),
        ("bob", "callboard", "WK2"),
    ]
    assert listed[1] == await store.get_sip_credentials("bob")
