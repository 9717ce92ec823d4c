"""Workflow configuration in TaskRouter's JSON shape: filters (first match wins) with ordered targets."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from callboard.core.errors import ValidationError
from callboard.core.expressions import (
    Expression,
    ExpressionSyntaxError,
    IndexKey,
    StringTests,
    compile_expression,
    decide_strings,
    entries_at,
)

Path = list[str | int]

_TARGET_KEYS = frozenset(
    {
        "queue",
        "expression",
        "priority",
        "timeout",
        "order_by",
        "skip_if",
        "known_worker_sid",
        "known_worker_friendly_name",
    }
)
_FILTER_KEYS = frozenset({"filter_friendly_name", "friendly_name", "expression", "targets"})


@dataclass(frozen=True)
class Target:
    """One routing step: a queue, an optional worker expression, and how long the task waits here."""

    queue: str
    expression: Expression | None = None
    priority: int | None = None
    timeout: float | None = None
    order_by: tuple[tuple[str, bool], ...] = ()
    skip_if: Expression | None = None
    known_worker_sid: str | None = None
    known_worker_friendly_name: str | None = None


@dataclass(frozen=True)
class Filter:
    """Tasks whose attributes match `expression` go through `targets` in order."""

    name: str
    expression: Expression
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class WorkflowConfig:
    filters: tuple[Filter, ...]
    default_filter: Target | None

    def queues(self) -> set[str]:
        found = {t.queue for f in self.filters for t in f.targets}
        if self.default_filter is not None:
            found.add(self.default_filter.queue)
        return found

    def first_match(self, task_attributes: Mapping[str, Any]) -> int:
        """The index of the first filter the task matches, or -1.

        Only the filters the task's values could satisfy are tried (a filter asks for one skill, a task names
        one), in filter order, so the first match is the same. With 1,000 workflows their filters are mostly
        out of the CPU caches, and each one tried costs a few cache misses: a filter made of string tests
        (`Expression.string_tests`) is decided by those, without its compiled predicate.
        """
        by_key, paths, always, tests = self._filter_index
        candidates: tuple[int, ...] | None = always
        for path in paths:
            for key in entries_at(task_attributes, path):
                if (hit := by_key.get(key)) is not None:
                    candidates = hit if not candidates else candidates + hit
        if not candidates:
            return -1
        if len(candidates) > 1:
            candidates = tuple(sorted(set(candidates)))
        for index in candidates:
            filter_tests = tests[index]
            verdict = None if filter_tests is None else decide_strings(filter_tests, task_attributes)
            if verdict is None:
                verdict = self.filters[index].expression.predicate({"task": task_attributes})
            if verdict:
                return index
        return -1

    @functools.cached_property
    def _filter_index(
        self,
    ) -> tuple[
        dict[IndexKey, tuple[int, ...]],
        tuple[tuple[str | int, ...], ...],
        tuple[int, ...],
        tuple[StringTests | None, ...],
    ]:
        # A filter can match only a task holding one of its index keys; filters without keys are always tried.
        by_key: dict[IndexKey, tuple[int, ...]] = {}
        paths: list[tuple[str | int, ...]] = []
        always: list[int] = []
        for index, flt in enumerate(self.filters):
            keys = flt.expression.index_keys("task")
            if keys is None:
                always.append(index)
                continue
            for key in keys:
                by_key[key] = (*by_key.get(key, ()), index)
                if key[0] not in paths:
                    paths.append(key[0])
        tests = tuple(flt.expression.string_tests for flt in self.filters)
        return by_key, tuple(paths), tuple(always), tests


def _fail(message: str, path: Path, **details: Any) -> ValidationError:
    return ValidationError(message, error_id="workflow_invalid", path=path, **details)


def _expression(source: Any, scope: str, path: Path) -> Expression:
    if not isinstance(source, str):
        raise _fail("expected an expression string", path)
    try:
        return compile_expression(source, scope)
    except ExpressionSyntaxError as exc:
        raise _fail(f"bad expression: {exc.message}", path, column=exc.column) from exc


def _number(value: Any, path: Path, *, minimum: float = 0) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise _fail(f"expected a number, found {value!r}", path) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail("expected a number", path)
    if value < minimum:
        raise _fail(f"expected a number >= {minimum:g}", path)
    return float(value)


def _order_by(value: Any, path: Path) -> tuple[tuple[str, bool], ...]:
    if not isinstance(value, str):
        raise _fail("expected an order_by string such as 'worker.level DESC'", path)
    keys: list[tuple[str, bool]] = []
    for part in value.split(","):
        words = part.split()
        if not words or len(words) > 2:
            raise _fail(f"bad order_by term {part.strip()!r}", path)
        direction = words[1].upper() if len(words) == 2 else "ASC"
        if direction not in ("ASC", "DESC"):
            raise _fail(f"expected ASC or DESC, found {words[1]!r}", path)
        keys.append((words[0], direction == "DESC"))
    return tuple(keys)


def _target(raw: Any, path: Path, previous: str | None, queue_exists: Callable[[str], bool]) -> Target:
    if not isinstance(raw, dict):
        raise _fail("expected a target object", path)
    for key in raw:
        if key not in _TARGET_KEYS:
            raise _fail(f"unknown key {key!r}; expected one of {', '.join(sorted(_TARGET_KEYS))}", [*path, key])
    queue = raw.get("queue", previous)
    if queue is None:
        raise _fail("a target needs a queue", path)
    if not isinstance(queue, str) or not queue_exists(queue):
        raise _fail(f"unknown queue {queue!r}", [*path, "queue"])
    priority = raw.get("priority")
    timeout = raw.get("timeout")
    order_by = raw.get("order_by")
    skip_if = raw.get("skip_if")
    expression = raw.get("expression")
    for key in ("known_worker_sid", "known_worker_friendly_name"):
        if key in raw and not isinstance(raw[key], str):
            raise _fail("expected a string (a value or a task.<attribute> path)", [*path, key])
    return Target(
        queue=queue,
        expression=None if expression is None else _expression(expression, "worker", [*path, "expression"]),
        priority=None if priority is None else int(_number(priority, [*path, "priority"], minimum=-(2**31))),
        timeout=None if timeout is None else _number(timeout, [*path, "timeout"]),
        order_by=() if order_by is None else _order_by(order_by, [*path, "order_by"]),
        skip_if=None if skip_if is None else _expression(skip_if, "workers", [*path, "skip_if"]),
        known_worker_sid=raw.get("known_worker_sid"),
        known_worker_friendly_name=raw.get("known_worker_friendly_name"),
    )


def parse_workflow_configuration(configuration: Any, queue_exists: Callable[[str], bool]) -> WorkflowConfig:
    """Validate a TaskRouter workflow `configuration` (a dict or its JSON text)."""
    if isinstance(configuration, str):
        try:
            configuration = json.loads(configuration)
        except json.JSONDecodeError as exc:
            raise _fail(f"configuration is not JSON: {exc.msg}", [], offset=exc.pos) from exc
    if not isinstance(configuration, dict):
        raise _fail("expected an object with 'task_routing'", [])
    routing = configuration.get("task_routing")
    if not isinstance(routing, dict):
        raise _fail("expected an object 'task_routing'", ["task_routing"])
    raw_filters = routing.get("filters", [])
    if not isinstance(raw_filters, list):
        raise _fail("expected a list of filters", ["task_routing", "filters"])
    filters: list[Filter] = []
    for i, raw in enumerate(raw_filters):
        path: Path = ["task_routing", "filters", i]
        if not isinstance(raw, dict):
            raise _fail("expected a filter object", path)
        for key in raw:
            if key not in _FILTER_KEYS:
                raise _fail(f"unknown key {key!r}; expected one of {', '.join(sorted(_FILTER_KEYS))}", [*path, key])
        raw_targets = raw.get("targets")
        if not isinstance(raw_targets, list) or not raw_targets:
            raise _fail("a filter needs a non-empty list of targets", [*path, "targets"])
        targets: list[Target] = []
        previous: str | None = None
        for j, raw_target in enumerate(raw_targets):
            target = _target(raw_target, [*path, "targets", j], previous, queue_exists)
            previous = target.queue
            targets.append(target)
        name = raw.get("filter_friendly_name", raw.get("friendly_name", f"filter {i}"))
        filters.append(
            Filter(
                name=str(name),
                expression=_expression(raw.get("expression", "1==1"), "task", [*path, "expression"]),
                targets=tuple(targets),
            )
        )
    default = routing.get("default_filter")
    default_target = None
    if default is not None:
        default_target = _target(default, ["task_routing", "default_filter"], None, queue_exists)
    return WorkflowConfig(filters=tuple(filters), default_filter=default_target)


@dataclass(eq=False)
class Workflow:
    """Routing rules: the raw TaskRouter `configuration` as given, and its parsed, queue-resolved form."""

    sid: str
    friendly_name: str
    configuration: Any
    config: WorkflowConfig
    task_reservation_timeout: float
    date_created: float
    date_updated: float
