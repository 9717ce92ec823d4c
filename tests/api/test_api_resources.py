"""CRUD, list filters and pagination of workspaces, activities, channels, workers, queues and workflows."""

from __future__ import annotations

import json

import httpx

from callboard.app.center import Center

from .api_support import PASSWORD, Seed, error_id


async def test_workspaces_crud(seed: Seed, center: Center) -> None:
    created = await seed.admin.post("/api/v1/workspaces", json={"friendly_name": "beta", "wrapup_seconds": 15})
    assert created.status_code == 201
    ws = created.json()
    assert ws["friendly_name"] == "beta" and ws["wrapup_seconds"] == 15 and ws["sid"].startswith("WS")

    listed = (await seed.admin.get("/api/v1/workspaces")).json()
    assert [w["friendly_name"] for w in listed["items"]] == ["acme", "beta"]
    assert listed["meta"] == {"page": 0, "page_size": 50, "total": 2}
    by_name = await seed.admin.get("/api/v1/workspaces/beta")
    assert by_name.json()["sid"] == ws["sid"]

    activity = (await seed.admin.post("/api/v1/workspaces/beta/activities", json={"friendly_name": "Ready"})).json()
    updated = await seed.admin.patch(
        f"/api/v1/workspaces/{ws['sid']}",
        json={"service_level_threshold": 30, "default_activity_sid": activity["sid"]},
    )
    assert updated.status_code == 200
    assert updated.json()["service_level_threshold"] == 30
    assert updated.json()["default_activity_sid"] == activity["sid"]

    assert (await seed.admin.delete(f"/api/v1/workspaces/{ws['sid']}")).status_code == 204
    gone = await seed.admin.get(f"/api/v1/workspaces/{ws['sid']}")
    assert gone.status_code == 404 and error_id(gone) == "workspace_not_found"
    assert await center.store.get_workspace(ws["sid"]) is None


async def test_activities_crud_and_filters(seed: Seed) -> None:
    created = await seed.admin.post(seed.url("/activities"), json={"friendly_name": "Lunch", "available": False})
    assert created.status_code == 201
    sid = created.json()["sid"]
    unavailable = (await seed.admin.get(seed.url("/activities?available=false"))).json()["items"]
    assert [a["friendly_name"] for a in unavailable] == ["Offline", "Break", "Lunch"]
    named = (await seed.admin.get(seed.url("/activities?friendly_name=Lunch"))).json()["items"]
    assert [a["sid"] for a in named] == [sid]

    renamed = await seed.admin.patch(seed.url(f"/activities/{sid}"), json={"friendly_name": "Meal"})
    assert renamed.json()["friendly_name"] == "Meal"
    assert (await seed.admin.get(seed.url(f"/activities/{sid}"))).json()["friendly_name"] == "Meal"
    assert (await seed.admin.delete(seed.url(f"/activities/{sid}"))).status_code == 204
    assert (await seed.admin.get(seed.url(f"/activities/{sid}"))).status_code == 404

    in_use = await seed.admin.delete(seed.url(f"/activities/{seed.offline}"))  # alice and bob are in it
    assert in_use.status_code == 409 and error_id(in_use) == "in_use"


async def test_task_channels_crud(seed: Seed) -> None:
    created = await seed.admin.post(
        seed.url("/task-channels"), json={"unique_name": "chat", "friendly_name": "Chat", "default_capacity": 3}
    )
    assert created.status_code == 201 and created.json()["default_capacity"] == 3
    by_sid = await seed.admin.get(seed.url(f"/task-channels/{created.json()['sid']}"))
    assert by_sid.json()["unique_name"] == "chat"
    assert (await seed.admin.get(seed.url("/task-channels/chat"))).json()["sid"] == created.json()["sid"]
    # Existing workers get the new channel at its default capacity.
    alice = (await seed.admin.get(seed.url(f"/workers/{seed.alice}/channels"))).json()["items"]
    assert {c["task_channel"]: c["capacity"] for c in alice} == {"voice": 1, "chat": 3}

    duplicate = await seed.admin.post(seed.url("/task-channels"), json={"unique_name": "chat"})
    assert duplicate.status_code == 409 and error_id(duplicate) == "task_channel_exists"
    assert (await seed.admin.delete(seed.url("/task-channels/chat"))).status_code == 204
    assert (await seed.admin.get(seed.url("/task-channels"))).json()["meta"]["total"] == 1


async def test_workers_crud(seed: Seed) -> None:
    created = await seed.admin.post(
        seed.url("/workers"),
        json={"friendly_name": "carol", "attributes": json.dumps({"skills": ["support", "sales"]})},
    )
    assert created.status_code == 201
    carol = created.json()
    assert carol["attributes"] == {"skills": ["support", "sales"]}
    assert carol["activity_name"] == "Available" and carol["available"] is True  # the workspace default

    updated = await seed.admin.patch(
        seed.url(f"/workers/{carol['sid']}"),
        json={"friendly_name": "caroline", "attributes": {"skills": ["sales"]}, "activity_sid": seed.on_break},
    )
    assert updated.status_code == 200
    assert updated.json()["friendly_name"] == "caroline" and updated.json()["activity_name"] == "Break"
    assert updated.json()["available"] is False

    channel = await seed.admin.patch(
        seed.url(f"/workers/{carol['sid']}/channels/voice"), json={"capacity": 2, "available": False}
    )
    assert channel.json() == {"task_channel": "voice", "capacity": 2, "available": False, "used": 0}

    assert (await seed.admin.delete(seed.url(f"/workers/{carol['sid']}"))).status_code == 204
    missing = await seed.admin.get(seed.url(f"/workers/{carol['sid']}"))
    assert missing.status_code == 404 and error_id(missing) == "worker_not_found"


async def test_worker_list_filters(seed: Seed) -> None:
    await seed.admin.patch(seed.url(f"/workers/{seed.alice}"), json={"activity_sid": seed.available})

    async def names(query: str) -> list[str]:
        response = await seed.supervisor.get(seed.url(f"/workers?{query}"))
        assert response.status_code == 200, response.text
        return [w["friendly_name"] for w in response.json()["items"]]

    assert await names("") == ["alice", "bob"]
    assert await names("available=true") == ["alice"]
    assert await names(f"activity_sid={seed.offline}") == ["bob"]
    assert await names("friendly_name=bob") == ["bob"]
    assert await names(f"task_queue_sid={seed.sales}") == ["bob"]
    assert await names('target_workers_expression=languages HAS "en"') == ["alice"]
    assert await names('target_workers_expression=skills HAS "support" OR languages HAS "fr"') == ["alice", "bob"]
    assert await names("available=false&friendly_name=alice") == []

    bad = await seed.supervisor.get(seed.url("/workers?target_workers_expression=skills HAS"))
    assert bad.status_code == 422


async def test_pagination(seed: Seed) -> None:
    for i in range(5):
        await seed.admin.post(seed.url("/workers"), json={"friendly_name": f"w{i}"})
    first = (await seed.admin.get(seed.url("/workers?page=0&page_size=3"))).json()
    second = (await seed.admin.get(seed.url("/workers?page=1&page_size=3"))).json()
    assert first["meta"] == {"page": 0, "page_size": 3, "total": 7}
    assert [w["friendly_name"] for w in first["items"]] == ["alice", "bob", "w0"]
    assert [w["friendly_name"] for w in second["items"]] == ["w1", "w2", "w3"]
    beyond = (await seed.admin.get(seed.url("/workers?page=9&page_size=3"))).json()
    assert beyond["items"] == [] and beyond["meta"]["total"] == 7

    too_big = await seed.admin.get(seed.url("/workers?page_size=1001"))
    assert too_big.status_code == 422 and error_id(too_big) == "request_invalid"
    assert (await seed.admin.get(seed.url("/workers?page_size=1000"))).status_code == 200
    assert (await seed.admin.get(seed.url("/workers?page=-1"))).status_code == 422


async def test_queues_crud_and_filters(seed: Seed) -> None:
    created = await seed.admin.post(
        seed.url("/task-queues"),
        json={
            "friendly_name": "French",
            "target_workers": 'languages HAS "fr"',
            "strategy": "round_robin",
            "task_order": "lifo",
            "max_reserved_workers": 2,
            "reservation_activity_sid": seed.on_break,
        },
    )
    assert created.status_code == 201
    queue = created.json()
    assert queue["strategy"] == "round_robin" and queue["task_order"] == "lifo"
    assert queue["max_reserved_workers"] == 2 and queue["target_workers"] == 'languages HAS "fr"'

    named = (await seed.supervisor.get(seed.url("/task-queues?friendly_name=French"))).json()["items"]
    assert [q["sid"] for q in named] == [queue["sid"]]
    bobs = (await seed.supervisor.get(seed.url(f"/task-queues?worker_sid={seed.bob}"))).json()["items"]
    assert [q["friendly_name"] for q in bobs] == ["Sales", "French"]

    updated = await seed.admin.patch(
        seed.url(f"/task-queues/{queue['sid']}"), json={"target_workers": 'languages HAS "en"', "wrapup_seconds": 10}
    )
    assert updated.status_code == 200 and updated.json()["wrapup_seconds"] == 10
    alices = (await seed.supervisor.get(seed.url(f"/task-queues?worker_sid={seed.alice}"))).json()["items"]
    assert [q["friendly_name"] for q in alices] == ["Support", "French"]

    bad = await seed.admin.patch(seed.url(f"/task-queues/{queue['sid']}"), json={"strategy": "fastest"})
    assert bad.status_code == 422 and error_id(bad) == "invalid_queue_setting"
    assert (await seed.admin.delete(seed.url(f"/task-queues/{queue['sid']}"))).status_code == 204
    in_use = await seed.admin.delete(seed.url(f"/task-queues/{seed.sales}"))
    assert in_use.status_code == 409 and error_id(in_use) == "in_use"


async def test_workflows_crud(seed: Seed) -> None:
    routing = {"task_routing": {"default_filter": {"queue": seed.sales}}}
    created = await seed.admin.post(
        seed.url("/workflows"),
        json={"friendly_name": "Overflow", "configuration": json.dumps(routing), "task_reservation_timeout": 15},
    )
    assert created.status_code == 201
    workflow = created.json()
    assert workflow["configuration"] == routing and workflow["task_reservation_timeout"] == 15

    listed = (await seed.supervisor.get(seed.url("/workflows?friendly_name=Overflow"))).json()
    assert [w["sid"] for w in listed["items"]] == [workflow["sid"]]
    updated = await seed.admin.patch(seed.url(f"/workflows/{workflow['sid']}"), json={"task_reservation_timeout": 60})
    assert updated.json()["task_reservation_timeout"] == 60

    invalid = await seed.admin.post(
        seed.url("/workflows"),
        json={"friendly_name": "Broken", "configuration": {"task_routing": {"default_filter": {"queue": "nope"}}}},
    )
    assert invalid.status_code == 422 and error_id(invalid) == "workflow_invalid"
    assert invalid.json()["error"]["details"]["path"] == ["task_routing", "default_filter", "queue"]

    assert (await seed.admin.delete(seed.url(f"/workflows/{workflow['sid']}"))).status_code == 204
    assert (await seed.supervisor.get(seed.url(f"/workflows/{workflow['sid']}"))).status_code == 404


async def test_users_crud(seed: Seed) -> None:
    created = await seed.admin.post(
        "/api/v1/users",
        json={
            "username": "bob",
            "password": "a long password",
            "role": "agent",
            "workspace_sid": "acme",
            "worker_sid": seed.bob,
        },
    )
    assert created.status_code == 201
    bob = created.json()
    assert bob["workspace_sid"] == seed.ws and bob["worker_sid"] == seed.bob and "password_hash" not in bob

    users = (await seed.admin.get("/api/v1/users")).json()
    assert [u["username"] for u in users["items"]] == ["admin", "alice", "bob", "sue"]
    assert all("password_hash" not in u for u in users["items"])
    agents = (await seed.admin.get("/api/v1/users?role=agent")).json()["items"]
    assert [u["username"] for u in agents] == ["alice", "bob"]

    promoted = await seed.admin.patch(f"/api/v1/users/{bob['id']}", json={"role": "supervisor"})
    assert promoted.json()["role"] == "supervisor"
    assert (await seed.admin.get(f"/api/v1/users/{bob['id']}")).json()["role"] == "supervisor"

    duplicate = await seed.admin.post(
        "/api/v1/users", json={"username": "bob", "password": "another password", "role": "admin"}
    )
    assert duplicate.status_code == 409 and error_id(duplicate) == "user_exists"
    unlinked = await seed.admin.post(
        "/api/v1/users", json={"username": "dan", "password": "a long password", "role": "agent"}
    )
    assert unlinked.status_code == 422 and error_id(unlinked) == "agent_without_worker"
    short = await seed.admin.post("/api/v1/users", json={"username": "eve", "password": "short", "role": "admin"})
    assert short.status_code == 422 and error_id(short) == "request_invalid"

    assert (await seed.admin.delete(f"/api/v1/users/{bob['id']}")).status_code == 204
    gone = await seed.admin.get(f"/api/v1/users/{bob['id']}")
    assert gone.status_code == 404 and error_id(gone) == "user_not_found"


async def test_a_changed_password_is_the_one_that_logs_in(seed: Seed, client: httpx.AsyncClient) -> None:
    user_id = seed.users["supervisor"]["id"]
    changed = await seed.admin.patch(f"/api/v1/users/{user_id}", json={"password": "brand new secret"})
    assert changed.status_code == 200
    old = await client.post("/api/v1/auth/login", json={"username": "sue", "password": PASSWORD})
    new = await client.post("/api/v1/auth/login", json={"username": "sue", "password": "brand new secret"})
    assert old.status_code == 401 and new.status_code == 200


async def test_an_admin_cannot_lock_themselves_out(seed: Seed) -> None:
    me = seed.users["admin"]["id"]
    for response in (
        await seed.admin.delete(f"/api/v1/users/{me}"),
        await seed.admin.patch(f"/api/v1/users/{me}", json={"role": "supervisor"}),
        await seed.admin.patch(f"/api/v1/users/{me}", json={"disabled": True}),
    ):
        assert response.status_code == 409 and error_id(response) == "own_account"
    assert (await seed.admin.patch(f"/api/v1/users/{me}", json={"password": "a new long one"})).status_code == 200
