"""`index_entries` and `Expression.index_keys`: derived keys must never hide a matching worker."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callboard.core.expressions import (
    ExpressionSyntaxError,
    compile_expression,
    decide_strings,
    entries_at,
    index_entries,
)
from callboard.routing.workflow import Filter, WorkflowConfig


def keys(source: str, scope: str = "worker", default_scope: str = "worker") -> set[Any] | None:
    found = compile_expression(source, default_scope).index_keys(scope)
    return None if found is None else set(found)


def test_index_entries_flatten_scalars_lists_and_nested_objects() -> None:
    attributes: dict[Any, Any] = {
        "language": "en",
        "level": 3,
        "ratio": 0.5,
        "vip": True,
        "gone": None,
        "skills": ["sales", 2, False, None, ["nested"], {"deep": 1}],
        "address": {"city": "Lyon", "zip": {"code": 69001}},
        "empty": {},
        4: "non-string keys are not addressable",
    }
    assert index_entries(attributes) == {
        (("language",), "s", "en"),
        (("level",), "n", 3.0),
        (("ratio",), "n", 0.5),
        (("vip",), "b", True),
        (("skills",), "s", "sales"),
        (("skills",), "n", 2.0),
        (("skills",), "b", False),
        (("address", "city"), "s", "Lyon"),
        (("address", "zip", "code"), "n", 69001.0),
    }


def test_index_entries_normalise_numbers_but_keep_booleans_apart() -> None:
    assert index_entries({"a": 1}) == index_entries({"a": 1.0})
    assert index_entries({"a": True}) != index_entries({"a": 1})
    assert index_entries({"a": 10**400}) == {(("a",), "n", 10**400)}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('language == "en"', {(("language",), "s", "en")}),
        ('"en" == language', {(("language",), "s", "en")}),
        ("level = 3", {(("level",), "n", 3.0)}),
        ("vip == true", {(("vip",), "b", True)}),
        ('worker.address.city == "Lyon"', {(("address", "city"), "s", "Lyon")}),
        ('skills HAS "sales"', {(("skills",), "s", "sales")}),
        ('"sales" HAS skills', {(("skills",), "s", "sales")}),
        ('["a", "b"] HAS skills', {(("skills",), "s", "a"), (("skills",), "s", "b")}),
        ('skills IN ["a", 1]', {(("skills",), "s", "a"), (("skills",), "n", 1.0)}),
        ("skills IN []", set()),
        ('["a", "b"] IN skills', {(("skills",), "s", "a"), (("skills",), "s", "b")}),
        ("2 IN skills", {(("skills",), "n", 2.0)}),
        ("skills CONTAINS 2", {(("skills",), "n", 2.0)}),
        ('["a"] CONTAINS skills', {(("skills",), "s", "a")}),
        ('a == 1 AND b IN ["x", "y"]', {(("a",), "n", 1.0)}),
        ('b IN ["x", "y"] AND a == 1', {(("a",), "n", 1.0)}),
        ("a == 1 AND c != 2", {(("a",), "n", 1.0)}),
        ("a > 1 AND b == 2", {(("b",), "n", 2.0)}),
        ('a == 1 OR b HAS "x"', {(("a",), "n", 1.0), (("b",), "s", "x")}),
        ('(a == 1 OR a == 2) AND task.type == "x"', {(("a",), "n", 1.0), (("a",), "n", 2.0)}),
        ("task.language IN worker.languages AND worker.level == 3", {(("level",), "n", 3.0)}),
        # Nothing can be derived:
        ("1==1", None),
        ("a", None),
        ("NOT a == 1", None),
        ("a != 1", None),
        ("a NOT IN [1]", None),
        ("a NOT HAS 1", None),
        ("a > 1", None),
        ("a == null", None),
        ("a HAS null", None),
        ("a IN [1, null]", None),
        ("a == [1]", None),
        ('a IN "english"', None),
        ('"en" IN a', None),
        ('a CONTAINS "x"', None),
        ('"english" CONTAINS a', None),
        ("a[0] == 1", None),
        ("a == b", None),
        ("task.language IN worker.languages", None),
        ('task.type == "x"', None),
        ("a == 1 OR b > 2", None),
        ("a > 1 AND b < 2", None),
    ],
)
def test_index_keys(source: str, expected: set[Any] | None) -> None:
    assert keys(source) == expected


def test_index_keys_are_relative_to_the_requested_scope() -> None:
    assert keys('task.type == "x"', scope="task") == {(("type",), "s", "x")}
    assert keys('type == "x"', scope="task", default_scope="task") == {(("type",), "s", "x")}
    assert keys('type == "x"', scope="worker", default_scope="task") is None
    assert keys('worker.level == 3 AND type == "x"', scope="worker", default_scope="task") == {(("level",), "n", 3.0)}


# --- Soundness, by property ------------------------------------------------------------------------

NAMES = ["a", "b", "c"]
SCALARS: list[Any] = [None, True, False, 0, 1, 1.0, 2, 2.5, "", "x", "y", "xy", "1", "true"]
scalars = st.sampled_from(SCALARS)
names = st.sampled_from(NAMES)
plain_values = scalars | st.lists(scalars, max_size=3)
odd_values = st.lists(st.lists(scalars, max_size=2) | st.dictionaries(names, scalars, max_size=2), max_size=2)
values = st.recursive(
    st.one_of(plain_values, plain_values, plain_values, odd_values),
    lambda inner: st.dictionaries(names, inner, max_size=3),
    max_leaves=6,
)
attributes = st.dictionaries(names, values, max_size=3)


def render(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, list):
        return "[" + ", ".join(render(element) for element in value) + "]"
    return repr(value)


OPERATORS = ["==", "=", "!=", "<", ">=", "IN", "NOT IN", "HAS", "NOT HAS", "CONTAINS", "in", "has"]


def held(attributes: dict[str, Any]) -> list[tuple[str, Any]]:
    """The (path, value) pairs the attributes hold, so that generated conditions often match them."""
    return sorted(((".".join(map(str, path)), value) for path, _, value in index_entries(attributes)), key=repr)


def expressions(pairs: list[tuple[str, Any]]) -> st.SearchStrategy[str]:
    """Random expressions, biased towards the shapes `index_keys` derives keys from."""
    pair = st.tuples(names, scalars)
    if pairs:
        pair = st.one_of(pair, st.sampled_from(pairs), st.sampled_from(pairs))
    prefix = st.sampled_from(["", "", "worker."])

    @st.composite
    def indexable(draw: st.DrawFn) -> str:
        name, value = draw(pair)
        path, scalar = draw(prefix) + name, render(draw(st.just(value) | scalars))
        others = draw(st.lists(scalars, max_size=2))
        listed = render([*others, value] if draw(st.booleans()) else others)
        shapes = [
            f"{path} == {scalar}",
            f"{scalar} = {path}",
            f"{path} HAS {scalar}",
            f"{scalar} HAS {path}",
            f"{listed} HAS {path}",
            f"{path} IN {listed}",
            f"{listed} IN {path}",
            f"{scalar} IN {path}",
            f"{path} CONTAINS {scalar}",
            f"{listed} CONTAINS {path}",
        ]
        return draw(st.sampled_from(shapes))

    @st.composite
    def anything(draw: st.DrawFn) -> str:
        name, value = draw(pair)
        path = draw(st.sampled_from(["", "worker.", "task."])) + name + draw(st.sampled_from(["", "", "[0]"]))
        other = draw(st.sampled_from([render(value), render([value]), *NAMES]))
        left, right = (path, other) if draw(st.booleans()) else (other, path)
        if draw(st.integers(0, 9)) == 0:
            return path
        return f"{left} {draw(st.sampled_from(OPERATORS))} {right}"

    return st.recursive(
        st.one_of(indexable(), indexable(), anything()),
        lambda inner: st.one_of(
            st.builds(lambda a, b: f"({a}) AND ({b})", inner, inner),
            st.builds(lambda a, b: f"{a} OR {b}", inner, inner),
            st.builds(lambda a: f"NOT ({a})", inner),
        ),
        max_leaves=4,
    )


def test_index_keys_are_sound_for_every_single_condition_over_small_values() -> None:
    """Exhaustive over one condition: every shape, literal and held value from a small vocabulary."""
    held_values: list[Any] = [*SCALARS, [], ["x"], ["xy", 1], [True, None], [[1]], [{"a": 1}], {"a": "x"}]
    literals = [render(value) for value in [*SCALARS, [], ["x", 1.0], [None], ["", False]]]
    shapes = ["a {op} {lit}", "{lit} {op} a", "worker.a {op} {lit}"]
    ops = ["==", "!=", "<", ">=", "IN", "NOT IN", "HAS", "NOT HAS", "CONTAINS"]
    derived_some = 0
    for shape in shapes:
        for op in ops:
            for literal in literals:
                expression = compile_expression(shape.format(op=op, lit=literal))
                derived = expression.index_keys("worker")
                derived_some += derived is not None
                for value in held_values:
                    worker = {"a": value}
                    if expression.evaluate({"worker": worker}) and derived is not None:
                        assert derived & index_entries(worker), (expression.source, value)
    assert derived_some > 100


@settings(max_examples=500, database=None, deadline=None)
@given(data=st.data(), worker=attributes, task=attributes)
def test_index_keys_never_exclude_a_matching_worker(
    data: st.DataObject, worker: dict[str, Any], task: dict[str, Any]
) -> None:
    expression = compile_expression(data.draw(expressions(held(worker))))
    derived = expression.index_keys("worker")
    if expression.evaluate({"worker": worker, "task": task}):
        assert derived is None or derived & index_entries(worker), (derived, index_entries(worker))


@settings(max_examples=200, database=None, deadline=None)
@given(data=st.data(), task=attributes, worker=attributes)
def test_index_keys_for_the_task_scope_are_sound_too(
    data: st.DataObject, task: dict[str, Any], worker: dict[str, Any]
) -> None:
    source = data.draw(expressions(held(task))).replace("worker.", "task.")
    expression = compile_expression(source, default_scope="task")
    derived = expression.index_keys("task")
    if expression.evaluate({"worker": worker, "task": task}):
        assert derived is None or derived & index_entries(task)


@settings(max_examples=300, database=None, deadline=None)
@given(data=st.data(), task=attributes)
def test_entries_at_one_path_are_the_index_entries_at_that_path(data: st.DataObject, task: dict[str, Any]) -> None:
    path = tuple(data.draw(st.lists(names, min_size=1, max_size=3)))
    assert set(entries_at(task, path)) == {entry for entry in index_entries(task) if entry[0] == path}


@settings(max_examples=300, database=None, deadline=None)
@given(data=st.data(), task=attributes)
def test_first_match_is_the_first_filter_that_matches(data: st.DataObject, task: dict[str, Any]) -> None:
    """The filter index of a workflow only skips filters that cannot match, so the first match is the same."""
    sources = data.draw(st.lists(expressions(held(task)), min_size=1, max_size=5))
    filters = tuple(
        Filter(f"f{i}", compile_expression(source.replace("worker.", "task."), "task"), ())
        for i, source in enumerate(sources)
    )
    config = WorkflowConfig(filters, None)
    scope = {"task": task}
    expected = next((i for i, f in enumerate(filters) if f.expression.evaluate(scope)), -1)
    assert config.first_match(task) == expected


@settings(max_examples=1000, database=None, deadline=None)
@given(source=st.lists(st.sampled_from([*"ab.[]0-1\"'\\ =!<>()&|,", " IN ", " NOT ", " AND "])).map("".join))
def test_arbitrary_text_compiles_or_raises_a_syntax_error(source: str) -> None:
    try:
        expression = compile_expression(source)
    except ExpressionSyntaxError as error:
        assert 1 <= error.column <= len(source) + 1
        return
    assert expression.evaluate({"worker": {"a": [1, "b"], "b": {"a": 0}}}) in (True, False)


# --- String tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('skill == "billing"', (("skill", {"billing"}),)),
        ('"billing" == task.skill', (("skill", {"billing"}),)),
        ('skill == "billing" AND language IN ["fr", "de"]', (("skill", {"billing"}), ("language", {"fr", "de"}))),
        ("level == 3", None),
        ('tier IN ["gold", 1]', None),
        ('"gold" IN tier', None),
        ('["gold", "silver"] IN tier', None),
        ('tier HAS "gold"', None),
        ('account.tier == "gold"', None),
        ('worker.tier == "gold"', None),
        ('tier == "gold" OR tier == "silver"', None),
        ('NOT (tier == "gold")', None),
        ('tier != "gold"', None),
    ],
)
def test_string_tests_are_derived_only_from_string_equalities_joined_by_and(source: str, expected: Any) -> None:
    tests = compile_expression(source, "task").string_tests
    assert tests == (None if expected is None else tuple((name, frozenset(values)) for name, values in expected))


def test_string_tests_decide_only_for_string_values() -> None:
    tests = compile_expression('skill == "billing" AND language IN ["fr", "de"]', "task").string_tests
    assert tests is not None
    assert decide_strings(tests, {"skill": "billing", "language": "fr"}) is True
    assert decide_strings(tests, {"skill": "billing", "language": "en"}) is False
    assert decide_strings(tests, {"skill": "sales", "language": ["fr"]}) is False  # decided before the list
    for undecided in ({"skill": ["billing"], "language": "fr"}, {"language": "fr"}, {"skill": 1, "language": "fr"}):
        assert decide_strings(tests, undecided) is None


@settings(max_examples=500, database=None, deadline=None)
@given(data=st.data(), task=attributes)
def test_string_tests_agree_with_the_predicate_when_they_decide(data: st.DataObject, task: dict[str, Any]) -> None:
    source = data.draw(expressions(held(task))).replace("worker.", "task.")
    expression = compile_expression(source, "task")
    tests = expression.string_tests
    verdict = None if tests is None else decide_strings(tests, task)
    if verdict is not None:
        assert verdict == expression.evaluate({"task": task}), (source, task)


def test_first_match_leaves_a_value_that_is_not_a_string_to_the_predicate() -> None:
    """A list holding "billing" does not equal "billing", but is IN a list that holds it."""
    filters = tuple(
        Filter(name, compile_expression(source, "task"), ())
        for name, source in (("equal", 'skill == "billing"'), ("member", 'skill IN ["billing", "sales"]'))
    )
    config = WorkflowConfig(filters, None)
    assert config.first_match({"skill": "billing"}) == 0
    assert config.first_match({"skill": ["billing"]}) == 1
    assert config.first_match({"skill": ["support"]}) == -1
    assert config.first_match({"skill": "sales"}) == 1
