"""What a flow editor needs besides publishing: check a flow's YAML text without publishing it (each problem
at its line and column in that text), and a flow's graph of nodes and exits to draw.

The check is the one `PUT /flows/{name}` makes (against the workspace's queues, workflows, channels,
schedules, prompts and other flows); the graph is read by the same node builders that run the flow.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from callboard.api.access import AdminScope, StaffScope
from callboard.api.center import read_text
from callboard.api.ivr import ivr_store, load_ivr
from callboard.api.urls import WORKSPACE
from callboard.config.yaml_source import ConfigError, SourceMap, YamlSourceError, load_yaml
from callboard.core.errors import NotFoundError, ValidationError
from callboard.flows.build_nodes import NODE_KEYS, NodeSite, build_node
from callboard.flows.catalog import Catalog
from callboard.flows.problems import Problem
from callboard.flows.reader import Reader

router = APIRouter(prefix=f"{WORKSPACE}/flows", tags=["flows"])

MAX_BYTES = 4 * 2**20
FILENAME = "flow.yaml"
# The setting a node's label shows, by type (menus, plays and hangups show what they say).
_LABEL_KEYS = {
    "hours": "schedule",
    "enqueue": "workflow",
    "callback": "workflow",
    "voicemail": "workflow",
    "subflow": "flow",
    "transfer": "to",
    "lookup": "url",
    "language": "language",
    "collect": "variable",
}
_LABEL_LENGTH = 80


def graph(definition: Any, catalog: Catalog | None = None) -> dict[str, Any]:
    """The nodes and exits of one flow's data, as far as they can be read (a flow with problems too).

    Each edge is one exit: `exit` is where it is written in the node (`next`, `options.1`, `cases.0`,
    `timed_out`); an edge's `to` may name no node when the flow has that problem.
    """
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    subflows: list[dict[str, Any]] = []
    given = definition.get("nodes") if isinstance(definition, dict) else None
    if not isinstance(given, dict):
        return {"start": None, "nodes": nodes, "edges": edges, "subflows": subflows}
    for name, data in given.items():
        if not isinstance(name, str):
            continue
        site = NodeSite(Reader(), catalog or Catalog(), name, ("nodes", name))
        build_node(site, data)
        kind = data.get("type") if isinstance(data, dict) else None
        nodes.append({"id": name, "type": kind if kind in NODE_KEYS else None, "label": _label(kind, data)})
        for path, target in site.exits:
            exit_path = [str(part) for part in path[2:]]
            if len(exit_path) > 1 and exit_path[-1] == "next":
                exit_path.pop()  # a menu option's or a branch case's `next`: the option or case is the exit
            edges.append({"from": name, "to": target, "exit": ".".join(exit_path)})
        subflows.extend({"node": name, "flow": flow} for _, flow in site.subflows)
    start = definition.get("start", next(iter(given), None))
    return {"start": start if isinstance(start, str) else None, "nodes": nodes, "edges": edges, "subflows": subflows}


def _label(kind: Any, data: Any) -> str:
    if not isinstance(data, dict):
        return ""
    key = _LABEL_KEYS.get(kind) if isinstance(kind, str) else None
    if key is not None:
        text = "" if data.get(key) is None else str(data[key])
    elif kind == "set":
        values = data.get("values")
        text = ", ".join(map(str, values)) if isinstance(values, dict) else ""
    else:
        text = _said(data.get("say"))
    return text if len(text) <= _LABEL_LENGTH else text[: _LABEL_LENGTH - 3] + "..."


def _said(say: Any) -> str:
    items = say if isinstance(say, list) else [] if say is None else [say]
    shown = []
    for item in items:
        if isinstance(item, dict) and "text" in item:
            text = item["text"]
            shown.append(str(text.get("en", next(iter(text.values()), ""))) if isinstance(text, dict) else str(text))
        elif isinstance(item, dict) and "number" in item:
            shown.append(str(item["number"]))
        else:
            shown.append(str(item))
    return ", ".join(shown)


def located(problem: Problem, source: SourceMap) -> dict[str, Any]:
    """A problem of the flow sent, at its line and column in the text and its dotted data path."""
    path = problem.path[1:]  # the builders were handed a list of flows: the first part is the index
    position = source.key(path) if problem.at_key else source.value(path)
    return {
        "line": position.line,
        "col": position.col,
        "path": ".".join(str(part) for part in path),
        "message": problem.message,
    }


def _syntax(error: ConfigError) -> dict[str, Any]:
    return {"line": error.line, "col": error.col, "path": None, "message": error.message}


@router.post(
    "/check",
    openapi_extra={"requestBody": {"content": {"application/yaml": {"schema": {"type": "string"}}}, "required": True}},
)
async def check_flow(
    request: Request,
    scope: AdminScope,
    name: Annotated[str | None, Query(description="The flow's name (default: the text's `name`)")] = None,
) -> dict[str, Any]:
    """Check a flow sent as YAML text (an editor's buffer) as publishing it would, without publishing:
    `{valid, problems: [{line, col, path, message}], graph, definition}`. The graph is drawn from whatever could
    be read; `definition` is the flow's data as read (without `name`), for PUT."""
    text = await read_text(request, MAX_BYTES)
    try:
        data, source = load_yaml(text, FILENAME)
    except YamlSourceError as exc:
        if exc.loaded is None:
            return {"valid": False, "problems": [_syntax(e) for e in exc.errors], "graph": graph(None)}
        (data, source), early = exc.loaded, [_syntax(e) for e in exc.errors]
    else:
        early = []
    if not isinstance(data, dict):
        found = "nothing" if data is None else type(data).__name__
        problem = {"line": 1, "col": 1, "path": "", "message": f"expected a flow (a mapping), got {found}"}
        return {"valid": False, "problems": [*early, problem], "graph": graph(None)}
    flow_name = name if name is not None else data.get("name")
    if not isinstance(flow_name, str) or not flow_name:
        raise ValidationError("name the flow: ?name= or a `name` in the text", error_id="flow_name_missing")
    if "name" in data and data["name"] != flow_name:
        problem = located(Problem((0, "name"), f"the text's name {data['name']!r} is not {flow_name!r}"), source)
        early.append(problem)
    ivr = await load_ivr(scope)
    checked = replace(ivr, flows={**ivr.flows, flow_name: {**data, "name": flow_name}})
    problems = [located(p, source) for p in checked.problems(scope).get(("flows", flow_name), [])]
    listed = sorted([*early, *problems], key=lambda p: (p["line"], p["col"]))
    # The definition as read, so that an editor holding YAML text can publish it with PUT (JSON).
    definition = {k: v for k, v in data.items() if k != "name"}
    drawn = graph(data, checked.catalog(scope))
    return {"valid": not listed, "problems": listed, "graph": drawn, "definition": definition}


@router.get("/{name}/graph")
async def flow_graph(
    name: str,
    scope: StaffScope,
    version: Annotated[int | None, Query(ge=1, description="A version (default: the latest)")] = None,
) -> dict[str, Any]:
    """The flow's nodes (`id`, `type`, `label`), its exits as edges (`from`, `to`, `exit`) and the subflows
    its nodes run (`node`, `flow`), for a read-only diagram."""
    flow = await ivr_store(scope).get_flow(scope.sid, name, version)
    if flow is None:
        which = f"flow {name} version {version}" if version is not None else f"flow {name}"
        raise NotFoundError(f"no {which}", error_id="flow_not_found", name=name, version=version)
    catalog = (await load_ivr(scope)).catalog(scope)
    return {"name": name, "version": flow.get("version"), **graph(flow["definition"], catalog)}
