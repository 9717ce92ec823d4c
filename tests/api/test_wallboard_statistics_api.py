"""The wallboard's statistics: every worker's figures in one response, and calls and service level per interval."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from callboard.core.clock import VirtualClock

from .api_support import Seed, error_id

MIDNIGHT = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
EIGHT_AM = MIDNIGHT + 8 * 3600


async def _offer(seed: Seed, **attributes: Any) -> str:
    body = {"workflow_sid": seed.workflow, "task_channel": "voice", "attributes": attributes}
    task = (await seed.supervisor.post(seed.url("/tasks"), json=body)).json()
    found = (await seed.admin.get(seed.url(f"/tasks/{task['sid']}/reservations"))).json()["items"]
    return str(found[0]["sid"]) if found else str(task["sid"])


@pytest.fixture
async def morning(seed: Seed, clock: VirtualClock) -> Seed:
    """alice (Support) is available from 08:00. 08:00 to 08:30: she answers a call after 5 s, talks 60 s and wraps
    up 30 s; a second caller hangs up after 30 s. 08:30 to 09:00: she answers one after 10 s and talks 30 s (no
    wrap-up), then answers +34600111222 after 2 s and is still on that call at 08:50."""
    clock.set(EIGHT_AM)
    await seed.admin.patch(seed.url(f"/workers/{seed.alice}"), json={"activity_sid": seed.available})
    first = await _offer(seed)
    clock.advance(5)
    await seed.agent.post(seed.url(f"/reservations/{first}/accept"))
    second = await _offer(seed)  # alice is busy: it waits
    clock.advance(30)
    await seed.supervisor.delete(seed.url(f"/tasks/{second}"))
    clock.advance(30)
    await seed.agent.post(seed.url(f"/reservations/{first}/wrapup"))
    clock.advance(30)
    await seed.agent.post(seed.url(f"/reservations/{first}/complete"))

    clock.set(EIGHT_AM + 40 * 60)
    third = await _offer(seed)
    clock.advance(10)
    await seed.agent.post(seed.url(f"/reservations/{third}/accept"))
    clock.advance(30)
    await seed.agent.post(seed.url(f"/reservations/{third}/complete"))

    clock.set(EIGHT_AM + 45 * 60)
    fourth = await _offer(seed, caller="+34600111222")
    clock.advance(2)
    await seed.agent.post(seed.url(f"/reservations/{fourth}/accept"))
    clock.set(EIGHT_AM + 50 * 60)
    return seed


async def test_every_workers_handled_tasks_aht_and_current_task(morning: Seed) -> None:
    response = await morning.supervisor.get(morning.url("/workers/statistics"))
    assert response.status_code == 200
    body = response.json()
    assert body["meta"]["total"] == 2
    alice, bob = body["items"]
    assert (alice["worker_sid"], alice["friendly_name"], bob["friendly_name"]) == (morning.alice, "alice", "bob")
    mine = alice["cumulative"]
    assert (mine["start_time"], mine["end_time"]) == (MIDNIGHT, EIGHT_AM + 50 * 60)
    assert mine["tasks_handled"] == 2 and mine["reservations_accepted"] == 3
    assert mine["aht"] == 60.0  # (60 + 30 talk + 30 wrap-up) / 2
    assert mine["handle_time"] == {"avg": 60.0, "min": 30.0, "max": 90.0, "total": 120.0}
    assert mine["talk_time"]["total"] == 90.0 and mine["wrapup_time"]["total"] == 30.0
    assert mine["occupancy"] == pytest.approx((90 + 30 + 298) / 3000)
    [held] = alice["realtime"]["tasks"]
    assert held["reservation_status"] == "accepted" and held["caller"] == "+34600111222"
    assert held["task_queue_friendly_name"] == "Support" and held["task_channel"] == "voice"
    assert held["date_accepted"] == EIGHT_AM + 45 * 60 + 2
    assert alice["realtime"]["activity_name"] == "Available"
    assert bob["cumulative"]["tasks_handled"] == 0 and bob["cumulative"]["aht"] == 0
    assert bob["realtime"]["tasks"] == []

    # the same figures as the worker's own statistics
    own = (await morning.agent.get(morning.url(f"/workers/{morning.alice}/statistics"))).json()["cumulative"]
    assert (own["aht"], own["occupancy"]) == (mine["aht"], mine["occupancy"])


async def test_workers_in_a_window_and_by_page(morning: Seed) -> None:
    early = f"start_date={EIGHT_AM}&end_date={EIGHT_AM + 1800}"
    body = (await morning.supervisor.get(morning.url(f"/workers/statistics?{early}"))).json()
    assert body["items"][0]["cumulative"]["tasks_handled"] == 1 and body["items"][0]["cumulative"]["aht"] == 90.0
    recent = (await morning.supervisor.get(morning.url("/workers/statistics?minutes=5"))).json()
    assert recent["items"][0]["cumulative"]["tasks_handled"] == 0
    paged = (await morning.supervisor.get(morning.url("/workers/statistics?page=1&page_size=1"))).json()
    assert [w["friendly_name"] for w in paged["items"]] == ["bob"] and paged["meta"]["total"] == 2


def _figures(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (i["tasks_entered"], i["reservations_accepted"], i["tasks_canceled"], i["service_level"]["percentage"])
        for i in items
    ]


async def test_calls_and_service_level_per_interval(morning: Seed) -> None:
    window = f"start_date={EIGHT_AM}&end_date={EIGHT_AM + 3600}"
    response = await morning.supervisor.get(morning.url(f"/statistics/intervals?{window}"))
    assert response.status_code == 200
    body = response.json()
    assert (body["interval"], body["task_queue_sid"], body["start_time"]) == (1800, None, EIGHT_AM)
    assert [(i["start_time"], i["end_time"]) for i in body["items"]] == [
        (EIGHT_AM, EIGHT_AM + 1800),
        (EIGHT_AM + 1800, EIGHT_AM + 3600),
    ]
    # 08:00: 1 answered within 20 s, 1 abandoned after it; 08:30: answered after 10 s and 2 s
    assert _figures(body["items"]) == [(2, 1, 1, 50.0), (2, 2, 0, 100.0)]
    assert body["items"][0]["service_level"] == {
        "threshold": 20,
        "tasks_within": 1,
        "tasks_measured": 2,
        "percentage": 50.0,
    }

    quarters = (await morning.supervisor.get(morning.url(f"/statistics/intervals?{window}&interval=900"))).json()
    assert _figures(quarters["items"]) == [(2, 1, 1, 50.0), (0, 0, 0, None), (1, 1, 0, 100.0), (1, 1, 0, 100.0)]


async def test_the_day_so_far_and_one_queue(morning: Seed) -> None:
    day = (await morning.supervisor.get(morning.url("/statistics/intervals"))).json()
    assert (day["start_time"], day["end_time"]) == (MIDNIGHT, EIGHT_AM + 50 * 60)
    assert len(day["items"]) == 18  # 00:00 to 08:50 by half hours, the last one ends now
    assert day["items"][-1]["end_time"] == EIGHT_AM + 50 * 60
    assert _figures(day["items"][:16]) == [(0, 0, 0, None)] * 16
    assert _figures(day["items"][16:]) == [(2, 1, 1, 50.0), (2, 2, 0, 100.0)]

    support = f"/statistics/intervals?task_queue_sid={morning.support}"
    assert _figures((await morning.supervisor.get(morning.url(support))).json()["items"][16:]) == _figures(
        day["items"][16:]
    )
    sales = (await morning.supervisor.get(morning.url(f"/statistics/intervals?task_queue_sid={morning.sales}"))).json()
    assert sales["task_queue_sid"] == morning.sales
    assert sum(i["tasks_entered"] for i in sales["items"]) == 0


@pytest.mark.parametrize(
    ("query", "status", "error"),
    [
        ("interval=59", 422, "invalid_interval"),
        ("interval=86401", 422, "invalid_interval"),
        ("interval=60&minutes=1441", 422, "invalid_interval"),
        ("interval=soon", 422, "request_invalid"),
        ("start_date=yesterday", 422, "invalid_date"),
        (f"start_date={EIGHT_AM}&end_date={EIGHT_AM - 60}", 422, "invalid_window"),
        ("task_queue_sid=WQnope", 404, "task_queue_not_found"),
    ],
)
async def test_bad_interval_parameters(morning: Seed, query: str, status: int, error: str) -> None:
    response = await morning.supervisor.get(morning.url(f"/statistics/intervals?{query}"))
    assert response.status_code == status and error_id(response) == error


async def test_an_interval_gets_its_field_and_bounds(morning: Seed) -> None:
    response = await morning.supervisor.get(morning.url("/statistics/intervals?interval=30"))
    details = response.json()["error"]["details"]
    assert details == {"field": "interval", "minimum": 60, "maximum": 86400}
    exact = await morning.supervisor.get(morning.url("/statistics/intervals?interval=60&minutes=1000"))
    assert exact.status_code == 200 and len(exact.json()["items"]) == 1000


async def test_agents_read_neither(morning: Seed) -> None:
    for path in ("/workers/statistics", "/statistics/intervals"):
        response = await morning.agent.get(morning.url(path))
        assert response.status_code == 403 and error_id(response) == "permission_denied"
    bad = await morning.supervisor.get(morning.url("/workers/statistics?end_date=later"))
    assert bad.status_code == 422 and error_id(bad) == "invalid_date"
