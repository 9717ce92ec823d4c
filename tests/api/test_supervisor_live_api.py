"""What a supervisor does to agents at work (docs/api.md, "Supervising live"): force a state, move an agent
between queues by its attributes; each takes effect at once on the work waiting."""

from __future__ import annotations

from .api_support import Seed


async def members(seed: Seed, queue: str) -> list[str]:
    listed = (await seed.supervisor.get(seed.url(f"/workers?task_queue_sid={queue}"))).json()["items"]
    return [w["friendly_name"] for w in listed]


async def test_a_supervisor_moves_an_agent_to_another_queue_and_a_waiting_task_reaches_it(seed: Seed) -> None:
    body = {"workflow_sid": seed.workflow, "task_channel": "voice", "attributes": {"type": "sales"}}
    task = (await seed.supervisor.post(seed.url("/tasks"), json=body)).json()
    assert task["task_queue_sid"] == seed.sales and task["assignment_status"] == "pending"
    ready = await seed.supervisor.patch(seed.url(f"/workers/{seed.alice}"), json={"activity_sid": seed.available})
    assert ready.status_code == 200 and ready.json()["activity_name"] == "Available"
    assert await members(seed, seed.sales) == ["bob"] and await members(seed, seed.support) == ["alice"]

    moved = await seed.supervisor.patch(
        seed.url(f"/workers/{seed.alice}"), json={"attributes": {"skills": ["sales"], "languages": ["en"]}}
    )
    assert moved.status_code == 200 and moved.json()["attributes"]["skills"] == ["sales"]
    assert await members(seed, seed.sales) == ["alice", "bob"] and await members(seed, seed.support) == []
    offered = (await seed.supervisor.get(seed.url(f"/tasks/{task['sid']}"))).json()
    assert offered["assignment_status"] == "reserved"  # the waiting task went to her at once
    (reservation,) = (await seed.supervisor.get(seed.url(f"/tasks/{task['sid']}/reservations"))).json()["items"]
    assert reservation["worker_sid"] == seed.alice and reservation["reservation_status"] == "pending"

    # Forcing a reason code (a not-available activity) ends her pending offer; the task waits again.
    forced = await seed.supervisor.patch(seed.url(f"/workers/{seed.alice}"), json={"activity_sid": seed.on_break})
    assert forced.status_code == 200 and forced.json()["activity_name"] == "Break"
    assert (await seed.supervisor.get(seed.url(f"/tasks/{task['sid']}"))).json()["assignment_status"] == "pending"
    reasons = (await seed.supervisor.get(seed.url("/activities?available=false"))).json()["items"]
    assert {"Offline", "Break"} <= {a["friendly_name"] for a in reasons}
