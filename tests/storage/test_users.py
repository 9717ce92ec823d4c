"""Users, sessions, API tokens and login attempts."""

from __future__ import annotations

import pytest

from callboard.core.errors import ConflictError, NotFoundError, ValidationError
from callboard.core.ids import USER, is_sid
from callboard.storage import Store


async def test_users(store: Store) -> None:
    admin = await store.create_user("admin", "hash-a", "admin")
    agent = await store.create_user("alice", "hash-b", "agent", workspace_sid="WS1", worker_sid="WK1")
    assert is_sid(admin["id"], USER)
    assert agent["workspace_sid"] == "WS1" and agent["worker_sid"] == "WK1" and agent["disabled"] is False
    assert await store.get_user(admin["id"]) == admin
    assert await store.get_user_by_name("alice") == agent
    assert await store.get_user_by_name("bob") is None
    assert await store.list_users() == [admin, agent]

    with pytest.raises(ConflictError):
        await store.create_user("alice", "hash-c", "agent")


async def test_update_user(store: Store) -> None:
    user = await store.create_user("alice", "hash", "agent")
    await store.create_user("bob", "hash", "agent")
    changed = await store.update_user(user["id"], disabled=True, role="supervisor", worker_sid="WK2")
    assert changed == user | {"disabled": True, "role": "supervisor", "worker_sid": "WK2"}
    assert await store.get_user(user["id"]) == changed
    assert await store.update_user(user["id"]) == changed

    with pytest.raises(ConflictError):
        await store.update_user(user["id"], username="bob")
    with pytest.raises(ValidationError):
        await store.update_user(user["id"], id="US-other")
    with pytest.raises(NotFoundError):
        await store.update_user("US404", role="admin")
    with pytest.raises(NotFoundError):
        await store.update_user("US404")


async def test_sessions(store: Store) -> None:
    user = await store.create_user("alice", "hash", "agent")
    await store.create_session("s1", user["id"], 100.0, "csrf1")
    await store.create_session("s2", user["id"], 200.0, "csrf2")
    session = await store.get_session("s1")
    assert session is not None
    assert (session["user_id"], session["expires_at"], session["csrf_token"]) == (user["id"], 100.0, "csrf1")

    assert await store.purge_sessions(150.0) == 1
    assert await store.get_session("s1") is None
    await store.delete_session("s2")
    await store.delete_session("s2")
    assert await store.get_session("s2") is None

    with pytest.raises(ConflictError):
        await store.create_session("s3", "US404", 100.0, "csrf")


async def test_api_tokens(store: Store) -> None:
    user = await store.create_user("alice", "hash", "agent")
    first = await store.create_api_token(user["id"], "ci", "th1")
    second = await store.create_api_token(user["id"], "crm", "th2")
    assert first["last_used"] is None
    assert await store.find_api_token("th1") == first
    assert await store.find_api_token("nope") is None
    assert [t["name"] for t in await store.list_api_tokens(user["id"])] == ["ci", "crm"]

    await store.touch_api_token(first["id"], 42.0)
    assert (await store.find_api_token("th1") or {})["last_used"] == 42.0

    with pytest.raises(ConflictError):
        await store.create_api_token(user["id"], "again", "th1")
    await store.delete_api_token(second["id"])
    assert [t["id"] for t in await store.list_api_tokens(user["id"])] == [first["id"]]


async def test_deleting_a_user_ends_its_sessions_and_tokens(store: Store) -> None:
    user = await store.create_user("alice", "hash", "agent")
    other = await store.create_user("bob", "hash", "agent")
    await store.create_session("s1", user["id"], 100.0, "csrf")
    await store.create_session("s2", other["id"], 100.0, "csrf")
    await store.create_api_token(user["id"], "ci", "th1")
    await store.delete_user(user["id"])
    await store.delete_user(user["id"])
    assert await store.get_user(user["id"]) is None
    assert await store.get_session("s1") is None
    assert await store.find_api_token("th1") is None
    assert await store.get_session("s2") is not None


async def test_login_attempts(store: Store) -> None:
    for t in (10.0, 20.0, 30.0):
        await store.record_login_attempt("alice", t)
    await store.record_login_attempt("10.0.0.1", 25.0)
    assert await store.count_login_attempts("alice", 20.0) == 2
    assert await store.count_login_attempts("alice", 0.0) == 3
    assert await store.count_login_attempts("bob", 0.0) == 0
    assert await store.purge_login_attempts(15.0) == 1
    await store.clear_login_attempts("alice")
    assert await store.count_login_attempts("alice", 0.0) == 0
    assert await store.count_login_attempts("10.0.0.1", 0.0) == 1
