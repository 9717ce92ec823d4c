"""Setting a user's password through the API gives it SIP digest credentials, which the API never shows."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from callboard.api import create_api
from callboard.app.center import Center
from callboard.voice.sip.digest import Algorithm, ha1

from .api_support import Seed, make_client

REALM = "acme.test"


@pytest.fixture
def api(center: Center) -> FastAPI:
    return create_api(center, login_rate_limit=3, sip_realm=REALM)


def assert_no_secrets(response: httpx.Response, *secrets: str) -> None:
    assert response.status_code in (200, 201), response.text
    for secret in secrets:
        assert secret not in response.text
    for key in ("password_hash", "sip_ha1_md5", "sip_ha1_sha256"):
        assert key not in response.text


async def test_creating_a_user_stores_ha1s_of_its_password_in_the_realm(
    seed: Seed, center: Center, api: FastAPI
) -> None:
    body = {"username": "carol", "password": "carol's long secret", "role": "agent"}
    body |= {"workspace_sid": seed.ws, "worker_sid": seed.bob}
    created = await seed.admin.post("/api/v1/users", json=body)
    md5 = ha1("carol", REALM, "carol's long secret", Algorithm.MD5)
    sha256 = ha1("carol", REALM, "carol's long secret", Algorithm.SHA_256)
    assert await center.store.get_sip_credentials("carol") == {
        "username": "carol",
        "realm": REALM,
        "ha1_md5": md5,
        "ha1_sha256": sha256,
        "worker_sid": seed.bob,
        "workspace_sid": seed.ws,
        "disabled": False,
    }
    assert_no_secrets(created, md5, sha256)
    assert created.json()["sip_realm"] == REALM
    user_id = created.json()["id"]
    assert_no_secrets(await seed.admin.get(f"/api/v1/users/{user_id}"), md5, sha256)
    assert_no_secrets(await seed.admin.get("/api/v1/users"), md5, sha256)

    async with make_client(api) as browser:
        login = await browser.post("/api/v1/auth/login", json={"username": "carol", "password": "carol's long secret"})
        assert_no_secrets(login, md5, sha256)
        assert_no_secrets(await browser.get("/api/v1/auth/me"), md5, sha256)


async def test_a_new_password_replaces_the_ha1s_and_other_changes_keep_them(seed: Seed, center: Center) -> None:
    body = {"username": "dan", "password": "first password", "role": "supervisor", "workspace_sid": seed.ws}
    user_id = (await seed.admin.post("/api/v1/users", json=body)).json()["id"]
    before = await center.store.get_sip_credentials("dan")
    assert before is not None and before["ha1_md5"] == ha1("dan", REALM, "first password")

    changed = await seed.admin.patch(f"/api/v1/users/{user_id}", json={"password": "second password"})
    after = await center.store.get_sip_credentials("dan")
    assert after is not None
    assert after["ha1_md5"] == ha1("dan", REALM, "second password", Algorithm.MD5)
    assert after["ha1_sha256"] == ha1("dan", REALM, "second password", Algorithm.SHA_256)
    assert_no_secrets(changed, after["ha1_md5"], after["ha1_sha256"])

    await seed.admin.patch(f"/api/v1/users/{user_id}", json={"role": "admin", "workspace_sid": None})
    assert await center.store.get_sip_credentials("dan") == after | {"workspace_sid": None}


async def test_users_without_a_password_set_through_the_api_have_no_sip_credentials(seed: Seed, center: Center) -> None:
    # The seeded users were created in the store directly, with a hash only.
    assert await center.store.get_sip_credentials("sue") is None
    user = (await seed.admin.get(f"/api/v1/users/{seed.users['supervisor']['id']}")).json()
    assert user["sip_realm"] is None
