"""A queue's waiting options over the API: defaults until set, checked against the workspace, and the node told."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from callboard.app.center import Center

from .api_support import Seed, error_id
from .test_flows_api import listen
from .test_prompts_api import tone

OPTIONS: dict[str, Any] = {
    "music": "our-music",
    "announce_every": 45,
    "announcements": [{"prompt": "thank-you-waiting", "every": 90}],
    "callback": {"key": "#", "after": 20, "retries": 3, "retry_every": 120, "workflow": "Inbound"},
    "max_wait": 600,
    "leave_when_empty": True,
}


async def test_waiting_options_default_until_set_then_replace_and_revert(
    seed: Seed, api: FastAPI, center: Center
) -> None:
    path = seed.url(f"/task-queues/{seed.support}/waiting")
    before = await seed.supervisor.get(path)
    assert before.status_code == 200, before.text
    assert before.json()["configured"] is False and before.json()["callback"] is None
    assert before.json()["announce_every"] == 60 and before.json()["join_when_empty"] is True

    uploaded = await seed.admin.put(
        seed.url("/prompts/our-music/en"), content=tone(), headers={"content-type": "audio/wav"}
    )
    assert uploaded.status_code in (200, 201), uploaded.text
    heard = listen(api)
    put = await seed.admin.put(path, json=OPTIONS)
    assert put.status_code == 200, put.text
    body = put.json()
    assert body["configured"] is True and body["queue"] == "Support"
    assert body["callback"] == {"key": "#", "after": 20, "confirm": True, "workflow": "Inbound", "retries": 3,
                                "retry_every": 120}  # fmt: skip
    assert body["announcements"] == [{"prompt": "thank-you-waiting", "every": 90}]
    assert body["music"] == "our-music"
    assert body["max_wait"] == 600 and body["leave_when_empty"] is True and body["announce_position"] is True
    assert heard.changes == [seed.ws]
    # Stored where the running node reads it: under the queue's name.
    stored = await center.store.get_document(seed.ws, "queue_waiting", "Support")
    assert stored is not None and stored["callback"]["key"] == "#"
    assert (await seed.supervisor.get(path)).json() == body

    assert (await seed.admin.delete(path)).status_code == 204
    assert (await seed.supervisor.get(path)).json()["configured"] is False
    assert await center.store.get_document(seed.ws, "queue_waiting", "Support") is None
    assert heard.changes == [seed.ws, seed.ws]


async def test_bad_waiting_options_are_refused_with_every_problem_at_its_path(seed: Seed) -> None:
    path = seed.url(f"/task-queues/{seed.support}/waiting")
    bad = {
        "music": "no-such-prompt",
        "announce_every": -1,
        "callback": {"key": "12", "workflow": "Nope"},
        "colour": "blue",
    }
    response = await seed.admin.put(path, json=bad)
    assert response.status_code == 422 and error_id(response) == "waiting_invalid"
    paths = sorted(p["path"] for p in response.json()["error"]["details"]["problems"])
    assert paths == ["announce_every", "callback.key", "callback.workflow", "colour", "music"]
    assert (await seed.supervisor.get(path)).json()["configured"] is False  # nothing stored


async def test_only_admins_change_waiting_options_and_unknown_queues_are_404(seed: Seed) -> None:
    path = seed.url(f"/task-queues/{seed.support}/waiting")
    assert (await seed.supervisor.put(path, json={})).status_code == 403
    assert (await seed.agent.get(path)).status_code == 403
    missing = await seed.admin.put(seed.url("/task-queues/WQ0000/waiting"), json={})
    assert missing.status_code == 404 and error_id(missing) == "task_queue_not_found"
