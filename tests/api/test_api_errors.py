"""Every error answers `{"error": {"id", "message", "details"}}` with the right status, and is logged with its id."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI

from .api_support import Seed, error_id


async def test_not_found_resource(seed: Seed, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="callboard.api.errors"):
        response = await seed.admin.get(seed.url("/workers/WKnope"))
    assert response.status_code == 404 and error_id(response) == "worker_not_found"
    assert response.json()["error"]["details"] == {"sid": "WKnope"}
    assert "404 worker_not_found" in caplog.text
    missing_ws = await seed.admin.get("/api/v1/workspaces/nowhere/activities")
    assert missing_ws.status_code == 404 and error_id(missing_ws) == "workspace_not_found"


async def test_unknown_route(seed: Seed, client: httpx.AsyncClient) -> None:
    for response in (await client.get("/api/v1/nothing-here"), await client.get("/nothing")):
        assert response.status_code == 404 and error_id(response) == "not_found"


async def test_method_not_allowed(seed: Seed) -> None:
    response = await seed.admin.put(seed.url("/workers"))
    assert response.status_code == 405 and error_id(response) == "method_not_allowed"
    assert "GET" in response.headers["allow"]


async def test_conflict(seed: Seed) -> None:
    response = await seed.admin.post(seed.url("/activities"), json={"friendly_name": "Break"})
    assert response.status_code == 409 and error_id(response) == "activity_exists"


async def test_invalid_state_is_a_conflict(seed: Seed) -> None:
    await seed.admin.patch(seed.url(f"/workers/{seed.alice}"), json={"activity_sid": seed.available})
    await seed.admin.post(seed.url("/tasks"), json={"workflow_sid": seed.workflow, "task_channel": "voice"})
    res = (await seed.admin.get(seed.url("/reservations"))).json()["items"][0]["sid"]
    response = await seed.admin.post(seed.url(f"/reservations/{res}/wrapup"))  # not accepted yet
    assert response.status_code == 409 and error_id(response) == "reservation_invalid_state"
    assert response.json()["error"]["details"]["status"] == "pending"


async def test_request_validation(seed: Seed) -> None:
    response = await seed.admin.post(seed.url("/activities"), json={"available": "perhaps", "colour": "red"})
    assert response.status_code == 422 and error_id(response) == "request_invalid"
    errors = response.json()["error"]["details"]["errors"]
    assert {tuple(e["loc"]) for e in errors} == {
        ("body", "friendly_name"),
        ("body", "available"),
        ("body", "colour"),
    }
    assert all(e["message"] and e["type"] for e in errors)

    broken = await seed.admin.post(
        seed.url("/activities"), content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 422 and error_id(broken) == "request_invalid"
    bad_query = await seed.admin.get(seed.url("/workers?available=perhaps"))
    assert bad_query.status_code == 422
    assert bad_query.json()["error"]["details"]["errors"][0]["loc"] == ["query", "available"]


async def test_domain_validation(seed: Seed) -> None:
    response = await seed.admin.get(seed.url("/events?start_date=yesterday"))
    assert response.status_code == 422 and error_id(response) == "invalid_date"
    assert response.json()["error"]["details"] == {"field": "start_date"}


async def test_unhandled_errors_are_500_with_a_logged_reference(
    seed: Seed, api: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom() -> None:
        raise RuntimeError("disk on fire")

    api.add_api_route("/boom", boom)
    with caplog.at_level(logging.ERROR, logger="callboard.api.errors"):
        response = await seed.admin.get("/boom")
    assert response.status_code == 500 and error_id(response) == "internal_error"
    ref = response.json()["error"]["details"]["ref"]
    assert "disk on fire" not in response.text
    assert f"500 internal_error (ref {ref})" in caplog.text and "disk on fire" in caplog.text
