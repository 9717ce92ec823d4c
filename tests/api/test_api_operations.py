"""Health, Prometheus metrics, OpenAPI, and the event log endpoint."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from callboard.api import create_api
from callboard.app.center import Center
from callboard.core.clock import VirtualClock

from .api_support import Seed, error_id


async def test_healthz(seed: Seed, client: httpx.AsyncClient, center: Center, monkeypatch: pytest.MonkeyPatch) -> None:
    ok = await client.get("/healthz")
    assert ok.status_code == 200 and ok.json() == {"status": "ok"}

    async def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("connection refused")

    monkeypatch.setattr(center.store, "events", down)
    failing = await client.get("/healthz")
    assert failing.status_code == 503 and error_id(failing) == "store_unavailable"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics(seed: Seed, client: httpx.AsyncClient) -> None:
    await seed.admin.patch(seed.url(f"/workers/{seed.alice}"), json={"activity_sid": seed.available})
    await seed.supervisor.post(seed.url("/tasks"), json={"workflow_sid": seed.workflow, "task_channel": "voice"})
    await seed.supervisor.post(
        seed.url("/tasks"),
        json={"workflow_sid": seed.workflow, "task_channel": "voice", "attributes": {"type": "sales"}},
    )
    await client.get("/no/such/page")

    response = await client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    ws = ("workspace_sid", seed.ws)
    assert found["callboard_tasks", frozenset({ws, ("status", "reserved")})] == 1
    assert found["callboard_tasks", frozenset({ws, ("status", "pending")})] == 1
    assert found["callboard_workers_available", frozenset({ws})] == 1
    assert found["callboard_events_published_total", frozenset({("event_type", "task.created")})] == 2
    route = ("route", "/api/v1/workspaces/{ws}/tasks")
    assert found["callboard_http_requests_total", frozenset({("method", "POST"), route, ("status", "201")})] == 2
    assert found["callboard_http_request_duration_seconds_count", frozenset({("method", "POST"), route})] == 2
    unmatched = frozenset({("method", "GET"), ("route", "unmatched"), ("status", "404")})
    assert found["callboard_http_requests_total", unmatched] == 1


async def test_each_app_has_its_own_registry(seed: Seed, center: Center, api: FastAPI) -> None:
    other = create_api(center)
    assert other.state.metrics.registry is not api.state.metrics.registry


async def test_openapi_and_docs(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert {"auth", "workers", "tasks", "reservations", "statistics"} <= {t["name"] for t in spec["tags"]}
    assert "/api/v1/workspaces/{ws}/reservations/{sid}/accept" in spec["paths"]
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def test_event_log(seed: Seed, clock: VirtualClock) -> None:
    await seed.admin.patch(seed.url(f"/workers/{seed.alice}"), json={"activity_sid": seed.available})
    clock.advance(10)
    await seed.supervisor.post(seed.url("/tasks"), json={"workflow_sid": seed.workflow, "task_channel": "voice"})

    everything = (await seed.supervisor.get(seed.url("/events?page_size=1000"))).json()
    assert everything["items"][0]["event_type"] == "activity.created"
    ids = [e["id"] for e in everything["items"]]
    assert ids == sorted(ids)

    tasks = (await seed.supervisor.get(seed.url("/events?event_type=task.created,reservation.created"))).json()
    assert [e["event_type"] for e in tasks["items"]] == ["task.created", "reservation.created"]
    since = (await seed.supervisor.get(seed.url(f"/events?start_date={clock.now()}"))).json()["items"]
    assert "worker.activity.update" not in [e["event_type"] for e in since]

    first = (await seed.supervisor.get(seed.url("/events?page_size=2"))).json()
    after = first["meta"]["next_after_id"]
    second = (await seed.supervisor.get(seed.url(f"/events?page_size=2&after_id={after}"))).json()
    assert [e["id"] for e in first["items"] + second["items"]] == ids[:4]
