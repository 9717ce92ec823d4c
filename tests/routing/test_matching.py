"""The step-expression match sets: keyed by the task values an expression reads, kept as workers change."""

from __future__ import annotations

from typing import Any

import pytest
from builders import build

from callboard.core.expressions import compile_expression

LANGUAGE_STEP = [{"queue": "support", "expression": "task.language IN worker.languages"}]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"language": "es"}, {"language": "en"}),
        ({"language": 1}, {"language": True}),
        ({"language": 1}, {"language": "1"}),
        ({"language": None}, {"language": []}),
        ({"language": ["es"]}, {"language": ("es", "en")}),
    ],
)
def test_tasks_reading_different_values_get_different_keys(a: dict[str, Any], b: dict[str, Any]) -> None:
    expression = compile_expression("task.language IN worker.languages")
    bound_a, bound_b = expression.task_binding(a), expression.task_binding(b)
    assert bound_a is not None and bound_b is not None
    assert bound_a[0] != bound_b[0]
    assert bound_a[0] == expression.task_binding(dict(a, other="ignored"))[0]  # type: ignore[index]


@pytest.mark.parametrize(
    ("source", "attributes"),
    [
        ("task.language IN worker.languages", {"language": {"nested": "object"}}),
        ("task.language IN worker.languages", {"language": [["nested"], "list"]}),
        ("task.level <= worker.level", {"level": float("nan")}),
        ("task.a == worker.a AND task.a.b == worker.b", {"a": {"b": 1}}),
        ("task.a.b == worker.b AND task.a == worker.a", {"a": 1}),
        ("task.tags[0] == worker.tag", {"tags": ["x"]}),
    ],
)
def test_values_that_cannot_be_keyed_give_no_binding(source: str, attributes: dict[str, Any]) -> None:
    assert compile_expression(source).task_binding(attributes) is None


@pytest.mark.parametrize(
    "attributes",
    [{"language": "es"}, {"language": None}, {}, {"language": ["fr", "es"]}, {"a": "text", "language": 3}],
)
def test_the_bound_scope_evaluates_as_the_task_does(attributes: dict[str, Any]) -> None:
    expression = compile_expression("task.language IN worker.languages OR task.a.b == worker.level")
    bound = expression.task_binding(attributes)
    assert bound is not None
    for worker in ({"languages": ["es"], "level": 1}, {"languages": ["fr"]}, {"languages": 3}, {}):
        assert expression.evaluate({"task": bound[1], "worker": worker}) == expression.evaluate(
            {"task": attributes, "worker": worker}
        )


def test_a_worker_whose_attributes_change_enters_and_leaves_the_match_sets() -> None:
    c = build(targets=LANGUAGE_STEP)
    ana = c.add_worker("ana", languages=["es"])
    bob = c.add_worker("bob", languages=["en"])
    first = c.create_task(language="es")
    assert c.offered_tasks(ana) == [first.sid]
    c.ws.update_worker(ana.sid, attributes={"languages": ["en"]})
    c.ws.update_worker(bob.sid, attributes={"languages": ["en", "es"]})
    c.ws.reject_reservation(c.offer(ana).sid)
    assert c.offered_tasks(bob) == [first.sid]
    c.ws.update_worker(ana.sid, attributes={"languages": ["es"]})
    second = c.create_task(language="es")
    assert c.offered_tasks(ana) == [second.sid]


def test_a_worker_who_leaves_the_queue_leaves_its_match_sets() -> None:
    c = build({"support": 'skills HAS "support"'}, targets=[{"queue": "support", "expression": "worker.level >= 5"}])
    ana = c.add_worker("ana", skills=["support"], level=9)
    bob = c.add_worker("bob", skills=["support"], level=9)
    first = c.create_task(channel="chat")
    assert c.offered_tasks(ana) == [first.sid]  # the longest idle; the queue's match set now holds both
    c.ws.update_worker(ana.sid, attributes={"skills": ["sales"], "level": 9})
    second = c.create_task(channel="chat")
    assert c.offered_tasks(bob) == [second.sid]
    c.ws.update_worker(ana.sid, attributes={"skills": ["support"], "level": 9})
    third = c.create_task(channel="chat")
    assert c.offered_tasks(ana) == [first.sid, third.sid]


def test_a_new_target_expression_rebuilds_the_queue_s_match_sets() -> None:
    c = build({"support": "1==1"}, targets=[{"queue": "support", "expression": "worker.level >= 5"}])
    ana = c.add_worker("ana", level=9, team="a")
    bob = c.add_worker("bob", level=9, team="b")
    c.set_activity(bob, "Offline")
    first = c.create_task()
    assert c.offered_tasks(ana) == [first.sid]
    c.ws.update_queue(c.queues["support"].sid, target_workers='team == "b"')
    c.set_activity(bob, "Available")
    c.ws.reject_reservation(c.offer(ana).sid)
    assert c.offered_tasks(bob) == [first.sid]
    assert c.offers(ana) == []
