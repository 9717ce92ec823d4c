"""The flow editor's tools: a flow's YAML checked without publishing (problems at line:col), and its graph."""

from __future__ import annotations

from typing import Any

from .api_support import Seed, error_id

YAML = {"Content-Type": "application/yaml"}

BUFFER = """\
start: menu
nodes:
  menu:
    type: menu
    say: [welcome]
    options:
      1: sales
      2: {next: nowhere, set: {department: support}}
  sales:
    type: enqueue
    workflow: Outbound
"""

LANGUAGE: dict[str, Any] = {
    "nodes": {
        "pick": {"type": "menu", "say": ["welcome"], "options": {"1": "english", "2": "back"}},
        "english": {"type": "set", "values": {"language": "en"}, "next": "back"},
        "back": {"type": "return"},
    }
}

MAIN: dict[str, Any] = {
    "start": "hours",
    "nodes": {
        "hours": {"type": "hours", "schedule": "office", "open": "language", "closed": "bye"},
        "language": {"type": "subflow", "flow": "language", "next": "queue"},
        "queue": {"type": "enqueue", "workflow": "Inbound", "timed_out": "bye", "no_agents": "bye"},
        "bye": {"type": "hangup", "say": [{"text": {"en": "Goodbye.", "es": "Adiós."}}]},
    },
}

OFFICE = {"time_zone": "Europe/Madrid", "weekly": {"mon": ["09:00-18:00"]}}


async def check(seed: Seed, text: str, name: str | None = "main") -> dict[str, Any]:
    query = f"?name={name}" if name is not None else ""
    response = await seed.admin.post(seed.url(f"/flows/check{query}"), content=text, headers=YAML)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_check_points_at_the_line_and_column_of_each_problem(seed: Seed) -> None:
    body = await check(seed, BUFFER)
    assert body["valid"] is False
    problems = {p["path"]: p for p in body["problems"]}
    assert problems["nodes.menu.options.2.next"]["line"] == 8
    assert BUFFER.splitlines()[7][problems["nodes.menu.options.2.next"]["col"] - 1 :].startswith("nowhere")
    assert (problems["nodes.sales.workflow"]["line"], problems["nodes.sales.workflow"]["col"]) == (11, 15)
    assert "unknown workflow 'Outbound'" in problems["nodes.sales.workflow"]["message"]
    assert [p["line"] for p in body["problems"]] == sorted(p["line"] for p in body["problems"])
    flows = await seed.admin.get(seed.url("/flows"))
    assert flows.json()["items"] == []  # nothing was published


async def test_a_valid_buffer_and_its_graph(seed: Seed) -> None:
    fixed = BUFFER.replace("nowhere", "sales").replace("Outbound", "Inbound")
    body = await check(seed, fixed)
    assert body.pop("definition")["start"] == "menu"
    assert body == {
        "valid": True,
        "problems": [],
        "graph": {
            "start": "menu",
            "nodes": [
                {"id": "menu", "type": "menu", "label": "welcome"},
                {"id": "sales", "type": "enqueue", "label": "Inbound"},
            ],
            "edges": [
                {"from": "menu", "to": "sales", "exit": "options.1"},
                {"from": "menu", "to": "sales", "exit": "options.2"},
            ],
            "subflows": [],
        },
    }


async def test_syntax_errors_and_names(seed: Seed) -> None:
    syntax = await check(seed, "nodes: [a\n")
    assert syntax["valid"] is False and syntax["problems"][0]["path"] is None and syntax["problems"][0]["line"] == 2
    duplicate = await check(seed, "nodes:\n  a: {type: return}\n  a: {type: return}\n")
    assert any(p["line"] == 3 and "duplicate key" in p["message"] for p in duplicate["problems"])
    not_a_flow = await check(seed, "- a\n")
    assert not_a_flow["valid"] is False and "mapping" in not_a_flow["problems"][0]["message"]
    named = await check(seed, "name: main\nnodes:\n  a: {type: return}\n", name=None)
    assert named["valid"] is True
    mismatch = await check(seed, "name: other\nnodes:\n  a: {type: return}\n")
    assert [(p["line"], p["path"]) for p in mismatch["problems"]] == [(1, "name")]
    nameless = await seed.admin.post(seed.url("/flows/check"), content="nodes: {}\n", headers=YAML)
    assert nameless.status_code == 422 and error_id(nameless) == "flow_name_missing"


async def test_check_sees_the_stored_flows_subflow_cycles_included(seed: Seed) -> None:
    assert (
        await seed.admin.put(seed.url("/flows/loop"), json={"nodes": {"a": {"type": "subflow", "flow": "main"}}})
    ).status_code == 422
    known = await check(seed, "nodes:\n  a: {type: subflow, flow: language}\n")
    assert [p["path"] for p in known["problems"]] == ["nodes.a.flow"]
    assert (await seed.admin.put(seed.url("/flows/language"), json=LANGUAGE)).status_code == 201
    assert (await check(seed, "nodes:\n  a: {type: subflow, flow: language}\n"))["valid"] is True
    cycle = await check(seed, "nodes:\n  a: {type: subflow, flow: language}\n", name="language")
    assert any("subflow cycle" in p["message"] for p in cycle["problems"])


async def test_the_graph_of_a_stored_flow(seed: Seed) -> None:
    assert (await seed.admin.put(seed.url("/schedules/office"), json=OFFICE)).status_code == 201
    assert (await seed.admin.put(seed.url("/flows/language"), json=LANGUAGE)).status_code == 201
    assert (await seed.admin.put(seed.url("/flows/main"), json=MAIN)).status_code == 201
    response = await seed.supervisor.get(seed.url("/flows/main/graph"))
    assert response.status_code == 200, response.text
    graph = response.json()
    assert graph["name"] == "main" and graph["version"] == 1 and graph["start"] == "hours"
    assert graph["nodes"] == [
        {"id": "hours", "type": "hours", "label": "office"},
        {"id": "language", "type": "subflow", "label": "language"},
        {"id": "queue", "type": "enqueue", "label": "Inbound"},
        {"id": "bye", "type": "hangup", "label": "Goodbye."},
    ]
    assert graph["edges"] == [
        {"from": "hours", "to": "language", "exit": "open"},
        {"from": "hours", "to": "bye", "exit": "closed"},
        {"from": "language", "to": "queue", "exit": "next"},
        {"from": "queue", "to": "bye", "exit": "timed_out"},
        {"from": "queue", "to": "bye", "exit": "no_agents"},
    ]
    assert graph["subflows"] == [{"node": "language", "flow": "language"}]
    sub = (await seed.admin.get(seed.url("/flows/language/graph?version=1"))).json()
    assert {"from": "pick", "to": "english", "exit": "options.1"} in sub["edges"]
    assert {"id": "english", "type": "set", "label": "language"} in sub["nodes"]
    for path in ("/flows/nowhere/graph", "/flows/main/graph?version=9"):
        missing = await seed.admin.get(seed.url(path))
        assert missing.status_code == 404 and error_id(missing) == "flow_not_found"


async def test_who_may_use_the_tools(seed: Seed) -> None:
    assert (await seed.admin.put(seed.url("/flows/language"), json=LANGUAGE)).status_code == 201
    refused = await seed.supervisor.post(seed.url("/flows/check?name=x"), content=BUFFER, headers=YAML)
    assert refused.status_code == 403 and error_id(refused) == "permission_denied"
    for path in ("/flows/language/graph",):
        denied = await seed.agent.get(seed.url(path))
        assert denied.status_code == 403 and error_id(denied) == "permission_denied"


async def test_check_gives_the_definition_read_so_an_editor_can_publish_it(seed: Seed) -> None:
    text = "name: bye\nnodes:\n  bye: {type: hangup, say: [{text: Goodbye.}]}\n"
    body = await check(seed, text, name="bye")
    assert body["valid"] is True
    assert body["definition"] == {"nodes": {"bye": {"type": "hangup", "say": [{"text": "Goodbye."}]}}}
    published = await seed.admin.put(seed.url("/flows/bye"), json=body["definition"])
    assert published.status_code == 201, published.text
