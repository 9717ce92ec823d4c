"""Builds flows from plain data (the list under a workspace's `flows:` key), reporting every problem at once.

Problems are located by their path in the data given (`(0, "nodes", "menu", "options", "1", "next")`), so the
caller can point at the line. Beyond each node's own keys and types, a flow is checked as a whole: every exit
names a node of the flow, every node is reachable from `start`, the call can end somewhere (a `return` node
counts; loops are fine as long as one way out exists), subflows exist and never call themselves, and every
prompt, workflow, schedule and language is one the catalog knows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from callboard.flows.build_nodes import NodeSite, build_node
from callboard.flows.catalog import Catalog
from callboard.flows.model import Flow, Node, Say
from callboard.flows.problems import DataPath, Problem
from callboard.flows.reader import Reader, describe, read_say, some_of

__all__ = ["FLOW_KEYS", "build_flows", "build_say"]

FLOW_KEYS = ("name", "start", "nodes")


def build_say(data: Any, catalog: Catalog, path: DataPath = ()) -> tuple[Say, list[Problem]]:
    """A `say` list (what a node, or a number's closed and holiday messages, says) and its problems.

    Items: a prompt name (`welcome`, checked against `catalog.prompts`); `{text: "..."}` or
    `{text: {en: "...", es: "..."}}` (templates; the caller's language, else English, else the first);
    `{number: "{{ position }}", unit: minutes|seconds|position}`. A single item is read as a list of one.
    Paths of problems are `path` followed by the place inside `data`. `Say.message(variables, language)`
    renders it for a `Conversation`.
    """
    r = Reader()
    say = read_say(r, catalog, data, path)
    return say, r.problems


def build_flows(data: Any, catalog: Catalog) -> tuple[dict[str, Flow], list[Problem]]:
    """The flows that built, by name, and every problem found; use the flows only when there are no problems.

    A subflow may name a flow in `data` or one in `catalog.flows` (built elsewhere); cycles are found among
    the flows in `data`.
    """
    r = Reader()
    if not isinstance(data, list):
        r.problem((), f"expected a list of flows, got {describe(data)}")
        return {}, r.problems
    names = {item["name"] for item in data if isinstance(item, dict) and isinstance(item.get("name"), str)}
    flows: dict[str, Flow] = {}
    seen: set[str] = set()
    subflows: dict[str, list[tuple[DataPath, str]]] = {}
    for index, item in enumerate(data):
        built = _flow(r, catalog, item, index, seen)
        if built is None:
            continue
        name, flow, calls = built
        subflows[name] = calls
        for path, target in calls:
            r.known(target, path, names | catalog.flows, "flow")
        if flow is not None:
            flows[name] = flow
    _check_cycles(r, subflows)
    return flows, r.problems


def _flow(
    r: Reader, catalog: Catalog, item: Any, index: int, seen: set[str]
) -> tuple[str, Flow | None, list[tuple[DataPath, str]]] | None:
    path: DataPath = (index,)
    m = r.mapping(item, path, "flow", FLOW_KEYS, required=("name", "nodes"))
    if m is None:
        return None
    name = r.string(m, "name", path)
    if name is not None and name in seen:
        r.problem((*path, "name"), f"a flow named {name!r} is already defined")
        name = None
    if name is not None:
        seen.add(name)
    given = m.get("nodes")
    if not isinstance(given, dict) or not given:
        if "nodes" in m:
            r.problem((*path, "nodes"), f"expected a mapping of node name to node for 'nodes', got {describe(given)}")
        return None
    count = len(r.problems)
    sites: list[NodeSite] = []
    nodes: dict[str, Node] = {}
    for key, value in given.items():
        if not isinstance(key, str) or not key:
            r.problem((*path, "nodes", key), f"expected a name for a node, got {describe(key)}", at_key=True)
            continue
        site = NodeSite(r, catalog, key, (*path, "nodes", key))
        sites.append(site)
        node = build_node(site, value)
        if node is not None:
            nodes[key] = node
    start = r.string(m, "start", path, default=next(iter(given)))
    if not isinstance(start, str) or start not in given:
        if start is not None:
            r.problem((*path, "start"), f"unknown node {start!r} for 'start'; nodes: {some_of(map(str, given))}")
        start = None
    _check_graph(r, sites, start, (*path, "nodes"), name or "")
    calls = [call for site in sites for call in site.subflows]
    if name is None:
        return None
    complete = start is not None and len(r.problems) == count
    return name, Flow(name, start, nodes) if complete and start is not None else None, calls


def _check_graph(r: Reader, sites: list[NodeSite], start: str | None, path: DataPath, flow: str) -> None:
    by_name = {site.name: site for site in sites}
    known = start is not None
    for site in sites:
        known = known and site.exits_known
        for at, target in site.exits:
            if target not in by_name:
                r.problem(at, f"unknown node {target!r}; nodes in flow {flow!r}: {some_of(by_name)}")
                known = False
    if not known or start is None:
        return  # where a broken exit leads is unknown, so reachability would only mislead
    reached = _reachable(start, {site.name: [t for _, t in site.exits if t in by_name] for site in sites})
    for site in sites:
        if site.name not in reached:
            r.problem(site.path, f"node {site.name!r} is never reached from {start!r}", at_key=True)
    if not any(by_name[name].ends for name in reached):
        r.problem(
            path,
            f"flow {flow!r} never ends: no node reached from {start!r} hangs up, transfers, runs a subflow, "
            "returns or leaves an exit out to end the call",
        )


def _reachable(start: str, edges: dict[str, list[str]]) -> dict[str, str | None]:
    """Every node reachable from `start`, each with the node it was first reached from."""
    parents: dict[str, str | None] = {start: None}
    frontier = [start]
    while frontier:
        current = frontier.pop()
        for target in edges.get(current, ()):
            if target not in parents:
                parents[target] = current
                frontier.append(target)
    return parents


def _check_cycles(r: Reader, subflows: dict[str, list[tuple[DataPath, str]]]) -> None:
    edges = {name: [target for _, target in calls] for name, calls in subflows.items()}
    for name, calls in subflows.items():
        for path, target in calls:
            parents = _reachable(target, edges)
            if name in parents:
                r.problem(path, f"subflow cycle: {' -> '.join(_chain(name, target, parents))}")


def _chain(name: str, target: str, parents: dict[str, str | None]) -> Iterable[str]:
    back: list[str] = []
    current: str | None = name
    while current is not None and current != target:
        back.append(current)
        current = parents[current]
    return [name, target, *reversed(back)]
