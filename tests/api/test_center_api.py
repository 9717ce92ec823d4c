"""The center's YAML over the API: export, check, plan and apply against the running center, admins only."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import yaml
from fastapi import FastAPI

from callboard.api import create_api
from callboard.app.center import Center
from callboard.app.center_file import CenterFile
from callboard.config.center import load_center_text

from .api_support import Seed, error_id, make_client

YAML = {"Content-Type": "application/yaml"}


class Heard:
    def __init__(self) -> None:
        self.changes: list[str] = []

    def ivr_changed(self, workspace_sid: str) -> None:
        self.changes.append(workspace_sid)


@pytest.fixture
def heard() -> Heard:
    return Heard()


@pytest.fixture
def api(center: Center, heard: Heard) -> FastAPI:
    return create_api(center, login_rate_limit=3, ivr_listener=heard, center_file=CenterFile(center, "callboard"))


@pytest.fixture(autouse=True)
async def supervisor_of_acme(seed: Seed, center: Center) -> None:
    """A center file gives every supervisor a workspace; the seeded one has none."""
    await center.store.update_user(seed.users["supervisor"]["id"], workspace_sid=seed.ws)


async def exported(seed: Seed) -> dict[str, Any]:
    response = await seed.admin.get("/api/v1/center")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = yaml.safe_load(response.text)
    return data


def text(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def space(data: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = data["workspaces"][0]
    return found


def worker(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(w for w in space(data)["workers"] if w["name"] == name)


async def test_the_export_is_the_center_file_and_only_admins_get_it(seed: Seed) -> None:
    response = await seed.admin.get("/api/v1/center")
    assert response.headers["content-type"].startswith("application/yaml")
    center = load_center_text(response.text)
    (acme,) = center.workspaces
    assert acme.name == "acme" and [q.name for q in acme.queues] == ["Support", "Sales"]
    assert {u.username for u in center.users} == {"admin", "sue", "alice"}
    for client in (seed.supervisor, seed.agent):
        for method, path in (("GET", ""), ("POST", "/check"), ("POST", "/plan"), ("PUT", "")):
            denied = await client.request(method, f"/api/v1/center{path}", content=response.text, headers=YAML)
            assert denied.status_code == 403 and error_id(denied) == "permission_denied", (method, path)


async def test_check_lists_every_problem_at_its_line_and_column(seed: Seed) -> None:
    data = await exported(seed)
    good = await seed.admin.post("/api/v1/center/check", content=text(data), headers=YAML)
    assert good.json() == {"valid": True, "problems": []}
    source = "version: 1\nworkspaces:\n  - name: acme\n    colour: blue\nusers: []\n"
    bad = (await seed.admin.post("/api/v1/center/check", content=source, headers=YAML)).json()
    assert bad["valid"] is False
    assert all(set(p) == {"line", "col", "message"} for p in bad["problems"])
    colour = next(p for p in bad["problems"] if "colour" in p["message"])
    assert (colour["line"], colour["col"]) == (4, 5)
    assert any(p["line"] == 3 and "default_activity" in p["message"] for p in bad["problems"])
    syntax = (await seed.admin.post("/api/v1/center/check", content="version: [1\n", headers=YAML)).json()
    assert syntax["valid"] is False and syntax["problems"][0]["line"] == 2
    not_text = await seed.admin.post("/api/v1/center/check", content=b"\xff\xfe", headers=YAML)
    assert not_text.status_code == 422 and error_id(not_text) == "text_invalid"


async def test_a_file_sent_names_no_file_on_the_server(seed: Seed, tmp_path: Any) -> None:
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"RIFF")
    data = await exported(seed)
    space(data)["prompts"] = [{"name": "welcome", "file": {"en": str(secret)}}]
    source = text(data)
    checked = (await seed.admin.post("/api/v1/center/check", content=source, headers=YAML)).json()
    (problem,) = checked["problems"]
    assert "inline as 'audio'" in problem["message"]
    assert source.splitlines()[problem["line"] - 1].strip().startswith("file:")
    refused = await seed.admin.put("/api/v1/center", content=source, headers=YAML)
    assert refused.status_code == 422 and error_id(refused) == "config_invalid"
    assert refused.json()["error"]["details"]["problems"] == checked["problems"]


async def test_plan_changes_nothing_and_apply_changes_the_running_center(
    seed: Seed, center: Center, heard: Heard
) -> None:
    data = await exported(seed)
    unchanged = await seed.admin.post("/api/v1/center/plan", content=text(data), headers=YAML)
    assert unchanged.json() == {"changes": [], "blocked": []}
    space(data)["queues"].append({"name": "VIP", "target_workers": "vip == true"})
    worker(data, "alice")["attributes"] = {"skills": ["sales"], "languages": ["en"]}
    worker(data, "bob")["activity"] = "Available"
    space(data)["prompts"] = [{"name": "hello", "text": {"en": "Hello."}}]
    planned = (await seed.admin.post("/api/v1/center/plan", content=text(data), headers=YAML)).json()
    lines = [c["line"] for c in planned["changes"]]
    assert lines == [
        "+ prompt acme/hello",
        "+ queue acme/VIP",
        '~ worker acme/alice: attributes {"languages": ["en"], "skills": ["support"]} -> '
        '{"languages": ["en"], "skills": ["sales"]}',
        "~ worker acme/bob: activity Offline -> Available",
    ]
    bob = planned["changes"][3]
    assert bob == {
        "action": "update",
        "kind": "worker",
        "workspace": "acme",
        "name": "bob",
        "fields": {"activity": {"old": "Offline", "new": "Available"}},
        "line": lines[3],
    }
    engine = center.workspace(seed.ws)
    assert engine.queue_by_name("VIP") is None and heard.changes == []

    applied = await seed.admin.put("/api/v1/center", content=text(data), headers=YAML)
    assert applied.status_code == 200, applied.text
    assert [c["line"] for c in applied.json()["changes"]] == lines
    assert engine.queue_by_name("VIP") is not None
    assert engine.workers[seed.alice].attributes["skills"] == ["sales"]
    assert engine.activities[engine.workers[seed.bob].activity_sid].friendly_name == "Available"
    assert heard.changes == [seed.ws]  # the voice node reloads the workspace's IVR
    prompts = (await seed.admin.get(seed.url("/prompts?system=false"))).json()["items"]
    assert [(p["name"], p["text"]) for p in prompts] == [("hello", "Hello.")]
    again = (await seed.admin.post("/api/v1/center/plan", content=text(data), headers=YAML)).json()
    assert again == {"changes": [], "blocked": []}


async def test_secrets_and_recordings_show_only_as_changed(seed: Seed) -> None:
    data = await exported(seed)
    sue = next(u for u in data["users"] if u["username"] == "sue")
    del sue["password_hash"]
    sue["password"] = "a new one"
    planned = (await seed.admin.post("/api/v1/center/plan", content=text(data), headers=YAML)).json()
    (change,) = planned["changes"]
    assert "password" in change["fields"] and set(change["fields"]) <= {"password", "sip_credentials"}
    assert all(shown == {"changed": True} for shown in change["fields"].values())
    assert "a new one" not in str(planned)


async def test_live_work_blocks_the_whole_apply(seed: Seed, center: Center) -> None:
    task = await seed.supervisor.post(
        seed.url("/tasks"),
        json={"workflow_sid": seed.workflow, "task_channel": "voice", "attributes": {"type": "sales"}},
    )
    assert task.status_code == 201, task.text
    assert task.json()["task_queue_sid"] == seed.sales
    data = await exported(seed)
    acme = space(data)
    acme["queues"] = [q for q in acme["queues"] if q["name"] != "Sales"]
    acme["workflows"][0]["configuration"] = {"task_routing": {"default_filter": {"queue": "Support"}}}
    acme["queues"].append({"name": "VIP"})
    planned = (await seed.admin.post("/api/v1/center/plan", content=text(data), headers=YAML)).json()
    (blocked,) = planned["blocked"]
    assert blocked["change"]["line"] == "- queue acme/Sales" and blocked["reason"] == "1 live task in the queue"
    refused = await seed.admin.put("/api/v1/center", content=text(data), headers=YAML)
    assert refused.status_code == 409 and error_id(refused) == "apply_blocked"
    details = refused.json()["error"]["details"]
    assert details["blocked"] == [{"change": "- queue acme/Sales", "reason": "1 live task in the queue"}]
    engine = center.workspace(seed.ws)
    assert engine.queue_by_name("VIP") is None and engine.queue_by_name("Sales") is not None  # nothing changed
    canceled = await seed.supervisor.delete(seed.url(f"/tasks/{task.json()['sid']}"))
    assert canceled.status_code == 204
    applied = await seed.admin.put("/api/v1/center", content=text(data), headers=YAML)
    assert applied.status_code == 200, applied.text
    assert engine.queue_by_name("Sales") is None and engine.queue_by_name("VIP") is not None


async def test_deleting_an_activity_agents_are_in_is_blocked_unless_the_file_moves_them(seed: Seed) -> None:
    data = await exported(seed)
    acme = space(data)
    acme["activities"] = [a for a in acme["activities"] if a["name"] != "Break"]
    breaking = await seed.supervisor.patch(seed.url(f"/workers/{seed.bob}"), json={"activity_sid": seed.on_break})
    assert breaking.status_code == 200
    for w in acme["workers"]:
        w.pop("activity")
    planned = (await seed.admin.post("/api/v1/center/plan", content=text(data), headers=YAML)).json()
    assert [b["reason"] for b in planned["blocked"]] == [
        "workers are in the activity and the file moves them nowhere else: bob"
    ]
    worker(data, "bob")["activity"] = "Offline"
    planned = (await seed.admin.post("/api/v1/center/plan", content=text(data), headers=YAML)).json()
    assert planned["blocked"] == []
    assert (await seed.admin.put("/api/v1/center", content=text(data), headers=YAML)).status_code == 200


async def test_an_admin_cannot_delete_or_demote_themselves_with_a_file(seed: Seed, center: Center) -> None:
    data = await exported(seed)
    data["users"] = [u for u in data["users"] if u["username"] != "admin"]
    refused = await seed.admin.put("/api/v1/center", content=text(data), headers=YAML)
    assert refused.status_code == 409 and error_id(refused) == "own_account"
    data = await exported(seed)
    next(u for u in data["users"] if u["username"] == "admin")["role"] = "supervisor"
    next(u for u in data["users"] if u["username"] == "admin")["workspace"] = "acme"
    refused = await seed.admin.put("/api/v1/center", content=text(data), headers=YAML)
    assert refused.status_code == 409 and error_id(refused) == "own_account"
    assert (await center.store.get_user_by_name("admin"))["role"] == "admin"


async def test_an_invalid_file_is_refused_with_its_problems(seed: Seed) -> None:
    for path, method in (("/plan", "POST"), ("", "PUT")):
        response = await seed.admin.request(method, f"/api/v1/center{path}", content="version: 2\n", headers=YAML)
        assert response.status_code == 422 and error_id(response) == "config_invalid"
        problems = response.json()["error"]["details"]["problems"]
        assert problems and all(set(p) == {"line", "col", "message"} for p in problems)


async def test_recordings_travel_inline(seed: Seed) -> None:
    data = await exported(seed)
    wav = (await seed.admin.get(seed.url("/prompts/welcome/en/audio"))).content
    space(data)["prompts"] = [{"name": "greeting", "audio": {"en": base64.b64encode(wav).decode()}}]
    applied = await seed.admin.put("/api/v1/center", content=text(data), headers=YAML)
    assert applied.status_code == 200, applied.text
    assert (await seed.admin.get(seed.url("/prompts/greeting/en/audio"))).content == wav
    assert space(await exported(seed))["prompts"][0]["audio"]["en"] == base64.b64encode(wav).decode()


async def test_without_a_center_file_port_the_center_is_unavailable(seed: Seed, center: Center) -> None:
    async with make_client(create_api(center), seed.tokens["admin"]) as admin:
        response = await admin.get("/api/v1/center")
        assert response.status_code == 503 and error_id(response) == "center_file_unavailable"
        checked = await admin.post("/api/v1/center/check", content="version: 1\n", headers=YAML)
        assert checked.status_code == 200 and checked.json()["valid"] is True
