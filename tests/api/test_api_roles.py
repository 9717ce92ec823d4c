"""What each role may do: admins everything, supervisors read and steer, agents only their own work."""

from __future__ import annotations

import httpx
import pytest

from callboard.app.center import Center

from .api_support import Seed, error_id


def denied(response: httpx.Response) -> bool:
    return response.status_code == 403 and error_id(response) == "permission_denied"


async def offer_task_to_alice(seed: Seed) -> tuple[str, str]:
    """Make alice available, create a support task; returns (task sid, reservation sid)."""
    await seed.admin.patch(seed.url(f"/workers/{seed.alice}"), json={"activity_sid": seed.available})
    body = {"workflow_sid": seed.workflow, "task_channel": "voice"}
    task = (await seed.admin.post(seed.url("/tasks"), json=body)).json()
    reservations = (await seed.admin.get(seed.url(f"/tasks/{task['sid']}/reservations"))).json()["items"]
    return task["sid"], reservations[0]["sid"]


async def offer_task_to_bob(seed: Seed) -> tuple[str, str]:
    await seed.admin.patch(seed.url(f"/workers/{seed.bob}"), json={"activity_sid": seed.available})
    body = {"workflow_sid": seed.workflow, "task_channel": "voice", "attributes": {"type": "sales"}}
    task = (await seed.admin.post(seed.url("/tasks"), json=body)).json()
    reservations = (await seed.admin.get(seed.url(f"/tasks/{task['sid']}/reservations"))).json()["items"]
    return task["sid"], reservations[0]["sid"]


# Agents


async def test_an_agent_reads_and_moves_only_its_own_worker(seed: Seed) -> None:
    own = await seed.agent.get(seed.url(f"/workers/{seed.alice}"))
    assert own.status_code == 200 and own.json()["friendly_name"] == "alice"
    assert denied(await seed.agent.get(seed.url(f"/workers/{seed.bob}")))
    assert denied(await seed.agent.get(seed.url("/workers")))

    moved = await seed.agent.patch(seed.url(f"/workers/{seed.alice}"), json={"activity_sid": seed.available})
    assert moved.status_code == 200 and moved.json()["available"] is True
    assert denied(await seed.agent.patch(seed.url(f"/workers/{seed.bob}"), json={"activity_sid": seed.available}))
    assert denied(await seed.agent.patch(seed.url(f"/workers/{seed.alice}"), json={"attributes": {"skills": []}}))


async def test_an_agent_lists_activities_and_channels_for_its_desktop(seed: Seed) -> None:
    activities = await seed.agent.get(seed.url("/activities"))
    assert activities.status_code == 200 and activities.json()["meta"]["total"] == 3
    assert (await seed.agent.get(seed.url("/task-channels"))).json()["items"][0]["unique_name"] == "voice"
    assert denied(await seed.agent.post(seed.url("/activities"), json={"friendly_name": "Nap"}))


async def test_an_agent_handles_its_own_reservations_only(seed: Seed) -> None:
    task_sid, res_sid = await offer_task_to_alice(seed)
    other_task, other_res = await offer_task_to_bob(seed)

    assert (await seed.agent.get(seed.url(f"/reservations/{res_sid}"))).status_code == 200
    assert (await seed.agent.get(seed.url(f"/tasks/{task_sid}"))).status_code == 200
    mine = (await seed.agent.get(seed.url(f"/workers/{seed.alice}/reservations"))).json()["items"]
    assert [r["sid"] for r in mine] == [res_sid]
    listed = (await seed.agent.get(seed.url("/reservations"))).json()["items"]
    assert [r["sid"] for r in listed] == [res_sid]

    assert denied(await seed.agent.get(seed.url(f"/reservations/{other_res}")))
    assert denied(await seed.agent.post(seed.url(f"/reservations/{other_res}/accept")))
    assert denied(await seed.agent.get(seed.url(f"/tasks/{other_task}")))
    assert denied(await seed.agent.get(seed.url(f"/workers/{seed.bob}/reservations")))
    assert denied(await seed.agent.get(seed.url(f"/reservations?worker_sid={seed.bob}")))
    assert (await seed.agent.get(seed.url(f"/tasks/{other_task}/reservations"))).json()["items"] == []

    accepted = await seed.agent.post(seed.url(f"/reservations/{res_sid}/accept"))
    assert accepted.status_code == 200 and accepted.json()["reservation_status"] == "accepted"


@pytest.mark.parametrize(
    "path",
    [
        "/events",
        "/statistics",
        "/task-queues",
        "/task-queues/statistics",
        "/workflows",
        "/tasks",
        "",
    ],
)
async def test_an_agent_cannot_read_workspace_data(seed: Seed, path: str) -> None:
    assert denied(await seed.agent.get(seed.url(path)))


async def test_an_agent_cannot_read_others_statistics_or_admin_data(seed: Seed) -> None:
    assert (await seed.agent.get(seed.url(f"/workers/{seed.alice}/statistics"))).status_code == 200
    assert denied(await seed.agent.get(seed.url(f"/workers/{seed.bob}/statistics")))
    assert denied(await seed.agent.get(f"/api/v1/users/{seed.users['agent']['id']}"))
    assert denied(await seed.agent.get("/api/v1/users"))
    assert denied(await seed.agent.get("/api/v1/workspaces"))


async def test_an_agent_cannot_reach_another_workspace(seed: Seed, center: Center) -> None:
    other = await center.create_workspace("elsewhere")
    assert denied(await seed.agent.get(f"/api/v1/workspaces/{other.sid}/activities"))
    assert denied(await seed.agent.get("/api/v1/workspaces/elsewhere/activities"))


async def test_an_agent_cannot_create_or_steer_tasks(seed: Seed) -> None:
    task_sid, _ = await offer_task_to_bob(seed)
    assert denied(await seed.agent.post(seed.url("/tasks"), json={"workflow_sid": seed.workflow}))
    assert denied(await seed.agent.patch(seed.url(f"/tasks/{task_sid}"), json={"priority": 5}))
    assert denied(await seed.agent.delete(seed.url(f"/tasks/{task_sid}")))


# Supervisors


async def test_a_supervisor_reads_everything_and_steers_live_work(seed: Seed) -> None:
    for path in ("/workers", "/task-queues", "/workflows", "/tasks", "/events", "/statistics", ""):
        assert (await seed.supervisor.get(seed.url(path))).status_code == 200, path
    assert (await seed.supervisor.get("/api/v1/workspaces")).status_code == 200

    changed = await seed.supervisor.patch(
        seed.url(f"/workers/{seed.bob}"), json={"activity_sid": seed.on_break, "attributes": {"skills": ["support"]}}
    )
    assert changed.status_code == 200 and changed.json()["activity_name"] == "Break"
    task_sid, res_sid = await offer_task_to_alice(seed)
    assert (await seed.supervisor.post(seed.url(f"/reservations/{res_sid}/reject"))).status_code == 200
    assert (await seed.supervisor.patch(seed.url(f"/tasks/{task_sid}"), json={"priority": 3})).status_code == 200
    assert (await seed.supervisor.delete(seed.url(f"/tasks/{task_sid}"))).status_code == 204


async def test_a_supervisor_cannot_change_the_configuration(seed: Seed) -> None:
    assert denied(await seed.supervisor.post(seed.url("/task-queues"), json={"friendly_name": "VIP"}))
    assert denied(await seed.supervisor.delete(seed.url(f"/task-queues/{seed.sales}")))
    assert denied(await seed.supervisor.post(seed.url("/activities"), json={"friendly_name": "Nap"}))
    assert denied(await seed.supervisor.post(seed.url("/task-channels"), json={"unique_name": "chat"}))
    assert denied(await seed.supervisor.patch(seed.url(f"/workflows/{seed.workflow}"), json={"friendly_name": "x"}))
    assert denied(await seed.supervisor.post(seed.url("/workers"), json={"friendly_name": "carol"}))
    assert denied(await seed.supervisor.patch(seed.url(f"/workers/{seed.bob}"), json={"friendly_name": "robert"}))
    assert denied(await seed.supervisor.post("/api/v1/workspaces", json={"friendly_name": "new"}))
    assert denied(await seed.supervisor.patch(seed.url(), json={"wrapup_seconds": 5}))
    assert denied(await seed.supervisor.get("/api/v1/users"))
