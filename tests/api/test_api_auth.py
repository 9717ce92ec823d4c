"""Logging in and out, sessions, CSRF, rate limiting and API tokens."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from callboard.api import create_api
from callboard.api.auth import SESSION_COOKIE, digest
from callboard.app.center import Center
from callboard.core.clock import VirtualClock

from .api_support import PASSWORD, Seed, error_id, make_client


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"username": username, "password": password})


async def test_login_sets_a_session_cookie_and_me_reads_it(seed: Seed, client: httpx.AsyncClient) -> None:
    response = await login(client, "sue")
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["username"] == "sue" and body["user"]["role"] == "supervisor"
    assert "password_hash" not in body["user"]
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    for flag in ("HttpOnly", "Path=/", "SameSite=lax", "Max-Age=28800"):
        assert flag.lower() in cookie.lower(), cookie
    assert "secure" not in cookie.lower()

    me = await client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json() == {"user": body["user"], "csrf_token": body["csrf_token"]}


async def test_the_store_keeps_only_a_digest_of_the_session_token(
    seed: Seed, client: httpx.AsyncClient, center: Center
) -> None:
    await login(client, "sue")
    token = client.cookies[SESSION_COOKIE]
    assert await center.store.get_session(token) is None
    assert (await center.store.get_session(digest(token)))["user_id"] == seed.users["supervisor"]["id"]


async def test_secure_cookies_when_configured(seed: Seed, center: Center) -> None:
    app = create_api(center, secure_cookies=True, session_ttl=600)
    async with make_client(app) as c:
        cookie = (await login(c, "sue")).headers["set-cookie"].lower()
    assert "secure" in cookie and "max-age=600" in cookie


async def test_wrong_password_and_unknown_user_are_401(seed: Seed, client: httpx.AsyncClient) -> None:
    wrong = await login(client, "sue", "not the password")
    unknown = await login(client, "nobody")
    assert wrong.status_code == unknown.status_code == 401
    assert error_id(wrong) == error_id(unknown) == "invalid_credentials"
    assert SESSION_COOKIE not in client.cookies


async def test_requests_without_credentials_are_401(seed: Seed, client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/auth/me")
    assert response.status_code == 401 and error_id(response) == "not_authenticated"
    response = await client.get(seed.url("/workers"), headers={"Authorization": "Bearer cb_forged"})
    assert response.status_code == 401 and error_id(response) == "invalid_token"


async def test_logins_are_rate_limited_per_username_and_address(
    seed: Seed, client: httpx.AsyncClient, clock: VirtualClock
) -> None:
    for _ in range(3):  # the fixture's limit
        assert (await login(client, "sue", "wrong")).status_code == 401
    limited = await login(client, "sue")
    assert limited.status_code == 429 and error_id(limited) == "rate_limited"
    assert limited.headers["Retry-After"] == "60"
    assert (await login(client, "admin")).status_code == 200  # another username is not limited

    clock.advance(61)
    assert (await login(client, "sue")).status_code == 200


async def test_a_successful_login_clears_the_failures(seed: Seed, client: httpx.AsyncClient) -> None:
    for _ in range(2):
        await login(client, "sue", "wrong")
    assert (await login(client, "sue")).status_code == 200
    for _ in range(2):
        await login(client, "sue", "wrong")
    assert (await login(client, "sue")).status_code == 200


async def test_sessions_expire(seed: Seed, client: httpx.AsyncClient, clock: VirtualClock) -> None:
    await login(client, "sue")
    clock.advance(8 * 3600 - 1)
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    clock.advance(1)
    expired = await client.get("/api/v1/auth/me")
    assert expired.status_code == 401 and error_id(expired) == "session_expired"


async def test_logout_ends_the_session(seed: Seed, client: httpx.AsyncClient, center: Center) -> None:
    csrf = (await login(client, "sue")).json()["csrf_token"]
    token = client.cookies[SESSION_COOKIE]
    response = await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    assert await center.store.get_session(digest(token)) is None
    client.cookies.set(SESSION_COOKIE, token)  # a stolen copy of the cookie is now worthless
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_cookie_requests_that_change_state_need_the_csrf_token(seed: Seed, client: httpx.AsyncClient) -> None:
    csrf = (await login(client, "sue")).json()["csrf_token"]
    body = {"workflow_sid": seed.workflow, "attributes": {"type": "support"}, "task_channel": "voice"}

    missing = await client.post(seed.url("/tasks"), json=body)
    assert missing.status_code == 403 and error_id(missing) == "csrf_failed"
    wrong = await client.post(seed.url("/tasks"), json=body, headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403 and error_id(wrong) == "csrf_failed"
    assert (await client.get(seed.url("/tasks"))).status_code == 200  # reading needs no token

    created = await client.post(seed.url("/tasks"), json=body, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201


async def test_bearer_requests_need_no_csrf_token(seed: Seed) -> None:
    body = {"workflow_sid": seed.workflow, "task_channel": "voice"}
    assert (await seed.supervisor.post(seed.url("/tasks"), json=body)).status_code == 201


async def test_api_tokens_are_shown_once_listed_without_secrets_and_revocable(seed: Seed, api: FastAPI) -> None:
    created = await seed.supervisor.post("/api/v1/auth/tokens", json={"name": "wallboard"})
    assert created.status_code == 201
    token = created.json()
    assert token["token"].startswith("cb_") and token["name"] == "wallboard"
    assert "token_hash" not in token

    listed = (await seed.supervisor.get("/api/v1/auth/tokens")).json()
    assert [t["name"] for t in listed["items"]] == ["supervisor test token", "wallboard"]
    assert all("token" not in t and "token_hash" not in t for t in listed["items"])

    async with make_client(api, token["token"]) as machine:
        me = await machine.get("/api/v1/auth/me")
        assert me.json()["user"]["username"] == "sue" and me.json()["csrf_token"] is None
        # Someone else's token cannot be deleted, and looks like it does not exist.
        other = await seed.admin.delete(f"/api/v1/auth/tokens/{token['id']}")
        assert other.status_code == 404 and error_id(other) == "token_not_found"

        assert (await seed.supervisor.delete(f"/api/v1/auth/tokens/{token['id']}")).status_code == 204
        revoked = await machine.get("/api/v1/auth/me")
        assert revoked.status_code == 401 and error_id(revoked) == "invalid_token"


async def test_disabled_users_cannot_log_in_or_use_tokens(seed: Seed, client: httpx.AsyncClient) -> None:
    response = await seed.admin.patch(f"/api/v1/users/{seed.users['supervisor']['id']}", json={"disabled": True})
    assert response.status_code == 200 and response.json()["disabled"] is True
    refused = await login(client, "sue")
    assert refused.status_code == 401 and error_id(refused) == "account_disabled"
    assert error_id(await seed.supervisor.get(seed.url("/workers"))) == "account_disabled"
