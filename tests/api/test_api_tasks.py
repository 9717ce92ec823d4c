"""Tasks and reservations over HTTP: the lifecycle, list filters from the store, transfers and conflicts."""

from __future__ import annotations

from typing import Any

from callboard.app.center import Center
from callboard.core.clock import VirtualClock

from .api_support import Seed, error_id


async def make_available(seed: Seed, *workers: str) -> None:
    for sid in workers:
        response = await seed.admin.patch(seed.url(f"/workers/{sid}"), json={"activity_sid": seed.available})
        assert response.status_code == 200


async def create_task(seed: Seed, **fields: Any) -> dict[str, Any]:
    response = await seed.supervisor.post(
        seed.url("/tasks"), json={"workflow_sid": seed.workflow, "task_channel": "voice", **fields}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_reservation_lifecycle(seed: Seed, center: Center, clock: VirtualClock) -> None:
    await make_available(seed, seed.alice)
    task = await create_task(seed, attributes='{"type": "support", "caller": "+3312345678"}', priority=2)
    assert task["attributes"] == {"type": "support", "caller": "+3312345678"}
    assert task["assignment_status"] == "reserved" and task["task_queue_sid"] == seed.support
    assert task["age"] == 0

    offers = (await seed.agent.get(seed.url(f"/workers/{seed.alice}/reservations"))).json()["items"]
    assert len(offers) == 1 and offers[0]["reservation_status"] == "pending"
    res = offers[0]["sid"]

    clock.advance(5)
    accepted = await seed.agent.post(seed.url(f"/reservations/{res}/accept"))
    assert accepted.status_code == 200 and accepted.json()["reservation_status"] == "accepted"
    assigned = (await seed.agent.get(seed.url(f"/tasks/{task['sid']}"))).json()
    assert assigned["assignment_status"] == "assigned" and assigned["worker_sid"] == seed.alice
    assert assigned["age"] == 5

    clock.advance(60)
    queue = await seed.admin.patch(seed.url(f"/task-queues/{seed.support}"), json={"wrapup_seconds": 60})
    assert queue.status_code == 200, queue.text
    wrapping = await seed.agent.post(seed.url(f"/reservations/{res}/wrapup"))
    assert wrapping.json()["reservation_status"] == "wrapping" and wrapping.json()["wrapup_seconds"] == 60
    extended = await seed.agent.post(seed.url(f"/reservations/{res}/extend-wrapup"), json={"seconds": 30})
    assert extended.json()["wrapup_deadline"] == clock.now() + 90
    assert (await seed.agent.get(seed.url(f"/tasks/{task['sid']}"))).json()["assignment_status"] == "wrapping"

    clock.advance(10)
    completed = await seed.agent.post(seed.url(f"/reservations/{res}/complete"), json={"reason": "resolved"})
    assert completed.json()["reservation_status"] == "completed"
    # Ended tasks and reservations leave the engine but stay readable from the store.
    done = (await seed.agent.get(seed.url(f"/tasks/{task['sid']}"))).json()
    assert done["assignment_status"] == "completed" and done["reason"] == "resolved" and done["age"] == 75
    assert (await seed.agent.get(seed.url(f"/reservations/{res}"))).json()["reservation_status"] == "completed"
    again = await seed.agent.post(seed.url(f"/reservations/{res}/accept"))
    assert again.status_code == 409 and error_id(again) == "reservation_invalid_state"

    logged = [event.name for _, event in await center.store.events(seed.ws)]
    for name in (
        "task.created",
        "reservation.created",
        "reservation.accepted",
        "reservation.wrapup",
        "reservation.completed",
        "task.completed",
    ):
        assert name in logged
    assert logged.index("reservation.accepted") < logged.index("task.completed")


async def test_reject_moves_the_offer_on_and_can_change_activity(seed: Seed, clock: VirtualClock) -> None:
    await make_available(seed, seed.alice)
    await seed.admin.patch(seed.url(f"/workers/{seed.bob}"), json={"attributes": {"skills": ["support"]}})
    await make_available(seed, seed.bob)
    task = await create_task(seed)
    first = (await seed.admin.get(seed.url(f"/tasks/{task['sid']}/reservations"))).json()["items"][0]
    rejecter = seed.alice if first["worker_sid"] == seed.alice else seed.bob

    clock.advance(1)
    rejected = await seed.admin.post(
        seed.url(f"/reservations/{first['sid']}/reject"), json={"activity_sid": seed.on_break}
    )
    assert rejected.json()["reservation_status"] == "rejected"
    worker = (await seed.admin.get(seed.url(f"/workers/{rejecter}"))).json()
    assert worker["activity_name"] == "Break"
    offers = (await seed.admin.get(seed.url(f"/tasks/{task['sid']}/reservations"))).json()["items"]
    assert [r["reservation_status"] for r in offers] == ["rejected", "pending"]
    assert offers[1]["worker_sid"] != rejecter

    rejected_only = (await seed.admin.get(seed.url("/reservations?reservation_status=rejected,timeout"))).json()
    assert [r["sid"] for r in rejected_only["items"]] == [first["sid"]]
    by_worker = (await seed.admin.get(seed.url(f"/reservations?worker_sid={rejecter}"))).json()
    assert by_worker["meta"]["total"] == 1


async def test_task_list_filters_come_from_the_store(seed: Seed, clock: VirtualClock) -> None:
    await make_available(seed, seed.alice)
    assigned = await create_task(seed)
    res = (await seed.admin.get(seed.url(f"/tasks/{assigned['sid']}/reservations"))).json()["items"][0]
    await seed.agent.post(seed.url(f"/reservations/{res['sid']}/accept"))
    clock.advance(1)  # lists are in creation order
    waiting = await create_task(seed, attributes={"type": "sales"})
    clock.advance(1)
    canceled = await create_task(seed)
    assert (await seed.supervisor.delete(seed.url(f"/tasks/{canceled['sid']}"))).status_code == 204

    async def sids(query: str) -> list[str]:
        response = await seed.supervisor.get(seed.url(f"/tasks?{query}"))
        assert response.status_code == 200, response.text
        return [t["sid"] for t in response.json()["items"]]

    assert await sids("") == [assigned["sid"], waiting["sid"], canceled["sid"]]
    assert await sids("assignment_status=pending") == [waiting["sid"]]
    assert await sids("assignment_status=assigned,canceled") == [assigned["sid"], canceled["sid"]]
    assert await sids(f"task_queue_sid={seed.sales}") == [waiting["sid"]]
    assert await sids(f"worker_sid={seed.alice}") == [assigned["sid"]]
    assert await sids(f"workflow_sid={seed.workflow}&page_size=2&page=1") == [canceled["sid"]]
    page = (await seed.supervisor.get(seed.url("/tasks?page_size=2"))).json()["meta"]
    assert page == {"page": 0, "page_size": 2, "total": 3}


async def test_update_reroutes_and_prioritizes_a_waiting_task(seed: Seed) -> None:
    task = await create_task(seed)
    assert task["task_queue_sid"] == seed.support and task["assignment_status"] == "pending"
    updated = await seed.supervisor.patch(
        seed.url(f"/tasks/{task['sid']}"), json={"attributes": '{"type": "sales"}', "priority": 9}
    )
    assert updated.status_code == 200
    assert updated.json()["task_queue_sid"] == seed.sales and updated.json()["priority"] == 9
    stored = (await seed.supervisor.get(seed.url(f"/tasks/{task['sid']}"))).json()
    assert stored["task_queue_sid"] == seed.sales


async def test_update_assignment_status_completes_an_assigned_task(seed: Seed) -> None:
    await make_available(seed, seed.alice)
    task = await create_task(seed)
    res = (await seed.admin.get(seed.url(f"/tasks/{task['sid']}/reservations"))).json()["items"][0]
    await seed.agent.post(seed.url(f"/reservations/{res['sid']}/accept"))
    wrapping = await seed.supervisor.patch(seed.url(f"/tasks/{task['sid']}"), json={"assignment_status": "wrapping"})
    assert wrapping.json()["assignment_status"] == "wrapping"
    done = await seed.supervisor.patch(
        seed.url(f"/tasks/{task['sid']}"), json={"assignment_status": "completed", "reason": "done"}
    )
    assert done.json()["assignment_status"] == "completed"
    late = await seed.supervisor.patch(seed.url(f"/tasks/{task['sid']}"), json={"priority": 1})
    assert late.status_code == 409 and error_id(late) == "task_invalid_state"
    bad = await seed.supervisor.patch(seed.url(f"/tasks/{task['sid']}"), json={"assignment_status": "pending"})
    assert bad.status_code == 422 and error_id(bad) == "request_invalid"


async def test_delete_cancels_only_a_waiting_task(seed: Seed) -> None:
    await make_available(seed, seed.alice)
    assigned = await create_task(seed)
    res = (await seed.admin.get(seed.url(f"/tasks/{assigned['sid']}/reservations"))).json()["items"][0]
    await seed.agent.post(seed.url(f"/reservations/{res['sid']}/accept"))
    refused = await seed.supervisor.delete(seed.url(f"/tasks/{assigned['sid']}"))
    assert refused.status_code == 409 and error_id(refused) == "task_invalid_state"

    waiting = await create_task(seed)
    assert (await seed.supervisor.delete(seed.url(f"/tasks/{waiting['sid']}?reason=hung up"))).status_code == 204
    canceled = (await seed.supervisor.get(seed.url(f"/tasks/{waiting['sid']}"))).json()
    assert canceled["assignment_status"] == "canceled" and canceled["reason"] == "hung up"
    twice = await seed.supervisor.delete(seed.url(f"/tasks/{waiting['sid']}"))
    assert twice.status_code == 409 and twice.json()["error"]["details"]["status"] == "canceled"


async def test_transfer_a_waiting_task_and_an_assigned_one(seed: Seed) -> None:
    waiting = await create_task(seed)
    moved = await seed.supervisor.post(
        seed.url(f"/tasks/{waiting['sid']}/transfer"), json={"task_queue_sid": seed.sales}
    )
    assert moved.status_code == 200
    assert moved.json()["sid"] == waiting["sid"] and moved.json()["task_queue_sid"] == seed.sales

    await make_available(seed, seed.alice)
    assigned = await create_task(seed)
    res = (await seed.admin.get(seed.url(f"/tasks/{assigned['sid']}/reservations"))).json()["items"][0]
    await seed.agent.post(seed.url(f"/reservations/{res['sid']}/accept"))
    handed = await seed.supervisor.post(
        seed.url(f"/tasks/{assigned['sid']}/transfer"), json={"task_queue_sid": seed.sales, "worker_sid": seed.bob}
    )
    assert handed.status_code == 200
    new = handed.json()
    assert new["sid"] != assigned["sid"] and new["transferred_from"] == assigned["sid"]
    assert new["attributes"]["transferred_from"] == {"task_sid": assigned["sid"], "worker_sid": seed.alice}
    empty = await seed.supervisor.post(seed.url(f"/tasks/{new['sid']}/transfer"), json={})
    assert empty.status_code == 422 and error_id(empty) == "transfer_target_missing"


async def test_task_creation_errors(seed: Seed) -> None:
    unknown_workflow = await seed.supervisor.post(seed.url("/tasks"), json={"workflow_sid": "WWnope"})
    assert unknown_workflow.status_code == 404 and error_id(unknown_workflow) == "workflow_not_found"
    unknown_channel = await seed.supervisor.post(
        seed.url("/tasks"), json={"workflow_sid": seed.workflow, "task_channel": "fax"}
    )
    assert unknown_channel.status_code == 422 and error_id(unknown_channel) == "task_channel_not_found"
    bad_json = await seed.supervisor.post(
        seed.url("/tasks"), json={"workflow_sid": seed.workflow, "attributes": "{not json"}
    )
    assert bad_json.status_code == 422 and error_id(bad_json) == "request_invalid"
    assert bad_json.json()["error"]["details"]["errors"][0]["loc"] == ["body", "attributes"]
