"""Contact flows over the API: checked against the workspace, published as versions, refused while in use."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from .api_support import Seed, error_id


class Heard:
    """An IVR listener that remembers which workspaces it was told about."""

    def __init__(self) -> None:
        self.changes: list[str] = []

    def ivr_changed(self, workspace_sid: str) -> None:
        self.changes.append(workspace_sid)


def listen(api: FastAPI) -> Heard:
    heard = Heard()
    api.state.ivr_listener = heard
    return heard


MAIN: dict[str, Any] = {
    "start": "menu",
    "nodes": {
        "menu": {"type": "menu", "say": ["welcome", "main-menu"], "options": {"1": "sales", "2": "support"}},
        "sales": {"type": "enqueue", "workflow": "Inbound", "attributes": {"type": "sales"}},
        "support": {"type": "enqueue", "workflow": "Inbound"},
    },
}


async def test_publishing_adds_a_version_only_when_the_flow_changes(seed: Seed, api: FastAPI) -> None:
    heard = listen(api)
    first = await seed.admin.put(seed.url("/flows/main"), json=MAIN)
    assert first.status_code == 201, first.text
    assert first.json()["name"] == "main" and first.json()["version"] == 1
    assert first.json()["definition"] == MAIN

    same = await seed.admin.put(seed.url("/flows/main"), json={"name": "main", **MAIN})
    assert same.status_code == 200 and same.json()["version"] == 1
    assert heard.changes == [seed.ws]

    changed = {**MAIN, "nodes": {**MAIN["nodes"], "support": {"type": "hangup", "say": "goodbye"}}}
    second = await seed.admin.put(seed.url("/flows/main"), json=changed)
    assert second.status_code == 200 and second.json()["version"] == 2
    assert heard.changes == [seed.ws, seed.ws]

    latest = (await seed.supervisor.get(seed.url("/flows/main"))).json()
    assert latest["version"] == 2 and latest["definition"] == changed
    assert (await seed.admin.get(seed.url("/flows/main?version=1"))).json()["definition"] == MAIN
    versions = (await seed.admin.get(seed.url("/flows/main/versions"))).json()["items"]
    assert [v["version"] for v in versions] == [1, 2]
    listed = (await seed.admin.get(seed.url("/flows"))).json()
    assert [(f["name"], f["version"]) for f in listed["items"]] == [("main", 2)]


async def test_an_invalid_flow_lists_its_problems_at_their_paths(seed: Seed) -> None:
    broken = {
        "nodes": {
            "menu": {"type": "menu", "say": "no-such-prompt", "options": {"1": "nowhere"}},
            "queue": {"type": "enqueue", "workflow": "Outbound"},
        }
    }
    response = await seed.admin.put(seed.url("/flows/main"), json=broken)
    assert response.status_code == 422 and error_id(response) == "flow_invalid"
    problems = {p["path"]: p["message"] for p in response.json()["error"]["details"]["problems"]}
    assert "no-such-prompt" in problems["nodes.menu.say"]
    assert "nowhere" in problems["nodes.menu.options.1"]
    assert "Outbound" in problems["nodes.queue.workflow"]
    assert (await seed.admin.get(seed.url("/flows/main"))).status_code == 404


async def test_a_body_naming_another_flow_is_refused(seed: Seed) -> None:
    response = await seed.admin.put(seed.url("/flows/main"), json={"name": "other", **MAIN})
    assert response.status_code == 422 and error_id(response) == "name_mismatch"


async def test_subflows_are_checked_across_the_stored_flows(seed: Seed) -> None:
    unknown = {"nodes": {"go": {"type": "subflow", "flow": "common", "next": "bye"}, "bye": {"type": "hangup"}}}
    missing = await seed.admin.put(seed.url("/flows/main"), json=unknown)
    assert missing.status_code == 422 and "common" in missing.text

    common = {"nodes": {"bye": {"type": "hangup", "say": "goodbye"}}}
    assert (await seed.admin.put(seed.url("/flows/common"), json=common)).status_code == 201
    assert (await seed.admin.put(seed.url("/flows/main"), json=unknown)).status_code == 201

    back = {"nodes": {"go": {"type": "subflow", "flow": "main", "next": "bye"}, "bye": {"type": "hangup"}}}
    cycle = await seed.admin.put(seed.url("/flows/common"), json=back)
    assert cycle.status_code == 422 and error_id(cycle) == "flow_invalid"
    assert "cycle" in cycle.json()["error"]["details"]["problems"][0]["message"]


async def test_a_flow_in_use_is_not_deleted(seed: Seed, api: FastAPI) -> None:
    common = {"nodes": {"bye": {"type": "hangup", "say": "goodbye"}}}
    calls_common = {"nodes": {"go": {"type": "subflow", "flow": "common", "next": "bye"}, "bye": {"type": "hangup"}}}
    await seed.admin.put(seed.url("/flows/common"), json=common)
    await seed.admin.put(seed.url("/flows/main"), json=calls_common)

    in_use = await seed.admin.delete(seed.url("/flows/common"))
    assert in_use.status_code == 409 and error_id(in_use) == "flow_in_use"
    assert in_use.json()["error"]["details"]["problems"][0]["path"] == "flows.main.nodes.go.flow"

    heard = listen(api)
    assert (await seed.admin.delete(seed.url("/flows/main"))).status_code == 204
    assert (await seed.admin.delete(seed.url("/flows/common"))).status_code == 204
    assert heard.changes == [seed.ws, seed.ws]
    gone = await seed.admin.get(seed.url("/flows/common"))
    assert gone.status_code == 404 and error_id(gone) == "flow_not_found"
    assert (await seed.admin.delete(seed.url("/flows/common"))).status_code == 404
    assert (await seed.admin.get(seed.url("/flows/common/versions"))).status_code == 404


async def test_supervisors_read_flows_and_agents_do_not(seed: Seed) -> None:
    await seed.admin.put(seed.url("/flows/main"), json=MAIN)
    assert (await seed.supervisor.get(seed.url("/flows"))).status_code == 200
    assert (await seed.supervisor.get(seed.url("/flows/main/versions"))).status_code == 200
    for response in (
        await seed.supervisor.put(seed.url("/flows/main"), json=MAIN),
        await seed.supervisor.delete(seed.url("/flows/main")),
        await seed.agent.get(seed.url("/flows")),
        await seed.agent.get(seed.url("/flows/main")),
    ):
        assert response.status_code == 403 and error_id(response) == "permission_denied"
