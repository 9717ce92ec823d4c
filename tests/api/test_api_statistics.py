"""Statistics endpoints: TaskRouter's field names, real-time from the engine, cumulative from the stored log."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from callboard.core.clock import VirtualClock

from .api_support import Seed, error_id

EIGHT_AM = datetime(2026, 1, 1, 8, tzinfo=UTC).timestamp()


@pytest.fixture
async def day(seed: Seed, clock: VirtualClock) -> Seed:
    """At 08:00 alice takes a task after 5 s and handles it for 60 s; a second caller hangs up after 30 s."""
    clock.set(EIGHT_AM)
    await seed.admin.patch(seed.url(f"/workers/{seed.alice}"), json={"activity_sid": seed.available})
    task = {"workflow_sid": seed.workflow, "task_channel": "voice"}
    first = (await seed.supervisor.post(seed.url("/tasks"), json=task)).json()
    res = (await seed.admin.get(seed.url(f"/tasks/{first['sid']}/reservations"))).json()["items"][0]["sid"]
    clock.advance(5)
    await seed.agent.post(seed.url(f"/reservations/{res}/accept"))
    second = (await seed.supervisor.post(seed.url("/tasks"), json=task)).json()
    clock.advance(30)
    await seed.supervisor.delete(seed.url(f"/tasks/{second['sid']}"))
    clock.advance(30)
    await seed.agent.post(seed.url(f"/reservations/{res}/complete"))
    clock.advance(600)
    return seed


async def test_workspace_statistics(day: Seed) -> None:
    response = await day.supervisor.get(day.url("/statistics"))
    assert response.status_code == 200
    body = response.json()
    assert body["workspace_sid"] == day.ws
    realtime = body["realtime"]
    assert realtime["total_workers"] == 2 and realtime["total_available_workers"] == 1
    assert realtime["tasks_by_status"] == {"pending": 0, "reserved": 0, "assigned": 0, "wrapping": 0}
    assert {a["friendly_name"]: a["workers"] for a in realtime["activity_statistics"]} == {
        "Available": 1,
        "Offline": 1,
        "Break": 0,
    }
    cumulative = body["cumulative"]
    assert cumulative["start_time"] == datetime(2026, 1, 1, tzinfo=UTC).timestamp()  # midnight UTC by default
    assert cumulative["tasks_entered"] == 2
    assert cumulative["tasks_completed"] == 1 and cumulative["tasks_canceled"] == 1
    assert cumulative["reservations_created"] == 1 and cumulative["reservations_accepted"] == 1
    assert cumulative["avg_task_acceptance_time"] == 5
    assert cumulative["wait_duration_until_accepted"]["max"] == 5
    assert cumulative["wait_duration_until_canceled"]["avg"] == 30
    assert cumulative["service_level"] == {
        "threshold": 20,
        "tasks_within": 1,
        "tasks_measured": 2,
        "percentage": 50.0,
    }
    assert cumulative["aht"] == 60 and cumulative["asa"] == 5


async def test_queue_statistics(day: Seed) -> None:
    one = (await day.supervisor.get(day.url(f"/task-queues/{day.support}/statistics"))).json()
    assert one["task_queue_sid"] == day.support and one["friendly_name"] == "Support"
    assert one["realtime"]["total_eligible_workers"] == 1
    assert one["realtime"]["longest_task_waiting_age"] == 0
    assert one["cumulative"]["tasks_entered"] == 2 and one["cumulative"]["reservations_accepted"] == 1

    every = (await day.supervisor.get(day.url("/task-queues/statistics"))).json()
    assert every["meta"]["total"] == 2
    by_queue = {q["friendly_name"]: q["cumulative"]["tasks_entered"] for q in every["items"]}
    assert by_queue == {"Support": 2, "Sales": 0}
    paged = (await day.supervisor.get(day.url("/task-queues/statistics?page=1&page_size=1"))).json()
    assert [q["friendly_name"] for q in paged["items"]] == ["Sales"]
    missing = await day.supervisor.get(day.url("/task-queues/WQnope/statistics"))
    assert missing.status_code == 404 and error_id(missing) == "task_queue_not_found"


async def test_workflow_and_worker_statistics(day: Seed) -> None:
    workflow = (await day.supervisor.get(day.url(f"/workflows/{day.workflow}/statistics"))).json()
    assert workflow["workflow_sid"] == day.workflow
    assert workflow["realtime"]["total_tasks"] == 0 and workflow["cumulative"]["tasks_entered"] == 2

    worker = (await day.agent.get(day.url(f"/workers/{day.alice}/statistics"))).json()
    assert worker["worker_sid"] == day.alice
    assert worker["realtime"]["activity_name"] == "Available" and worker["realtime"]["tasks_assigned"] == 1
    assert worker["cumulative"]["reservations_accepted"] == 1
    assert worker["cumulative"]["occupancy"] == pytest.approx(60 / 665)


async def test_the_cumulative_window(day: Seed, clock: VirtualClock) -> None:
    recent = (await day.supervisor.get(day.url("/statistics?minutes=5"))).json()["cumulative"]
    assert recent["tasks_entered"] == 0 and recent["end_time"] == clock.now()

    start, end = "2026-01-01T08:00:00Z", str(EIGHT_AM + 10)
    early = (await day.supervisor.get(day.url(f"/statistics?start_date={start}&end_date={end}"))).json()
    assert early["cumulative"]["start_time"] == EIGHT_AM and early["cumulative"]["end_time"] == EIGHT_AM + 10
    assert early["cumulative"]["tasks_entered"] == 2 and early["cumulative"]["tasks_canceled"] == 0

    split = (await day.supervisor.get(day.url("/statistics?split_by_wait_time=3,10"))).json()["cumulative"]
    assert split["split_by_wait_time"]["3"]["above"] == {"tasks_accepted": 1, "tasks_canceled": 1}
    assert split["split_by_wait_time"]["10"]["below"] == {"tasks_accepted": 1, "tasks_canceled": 0}

    backwards = await day.supervisor.get(day.url(f"/statistics?start_date={end}&end_date={start}"))
    assert backwards.status_code == 422 and error_id(backwards) == "invalid_window"
    bad_split = await day.supervisor.get(day.url("/statistics?split_by_wait_time=soon"))
    assert bad_split.status_code == 422 and error_id(bad_split) == "invalid_split"
