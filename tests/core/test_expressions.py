"""The routing expression language: parsing, semantics, scopes and syntax errors."""

from __future__ import annotations

import builtins
from typing import Any

import pytest

from callboard.core.errors import ValidationError
from callboard.core.expressions import (
    And,
    Comparison,
    Expression,
    ExpressionSyntaxError,
    Literal,
    Not,
    Or,
    Path,
    Truthy,
    compile_expression,
)


def evaluate(source: str, worker: dict[str, Any] | None = None, **scopes: Any) -> bool:
    return compile_expression(source).evaluate({"worker": worker or {}, **scopes})


def worker_path(*segments: str | int) -> Path:
    return Path("worker", segments, prefixed=False)


# --- Parsing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ('"english"', "english"),
        ("'english'", "english"),
        ('"it\'s"', "it's"),
        ("'say \"hi\"'", 'say "hi"'),
        (r'"a\"b"', 'a"b'),
        (r"'a\'b'", "a'b"),
        (r'"back\\slash"', "back\\slash"),
        (r'"line\nbreak\ttab"', "line\nbreak\ttab"),
        ('""', ""),
        ("42", 42),
        ("-7", -7),
        ("2.5", 2.5),
        ("-0.25", -0.25),
        ("1e3", 1000.0),
        ("true", True),
        ("TRUE", True),
        ("False", False),
        ("null", None),
        ("NULL", None),
        ("[]", ()),
        ('[1, "two", 3.0, true, null]', (1, "two", 3.0, True, None)),
    ],
)
def test_literals(source: str, value: Any) -> None:
    tree = compile_expression(f"x == {source}").tree
    assert tree == Comparison("==", worker_path("x"), Literal(value))
    assert isinstance(tree.right, Literal)
    assert type(tree.right.value) is type(value)


@pytest.mark.parametrize(
    ("source", "path"),
    [
        ("skills", worker_path("skills")),
        ("customer.address.city", worker_path("customer", "address", "city")),
        ("skills[0]", worker_path("skills", 0)),
        ("matrix[1][2]", worker_path("matrix", 1, 2)),
        ("routing.skills[1].name", worker_path("routing", "skills", 1, "name")),
        ("first-name", worker_path("first-name")),
        ("_private", worker_path("_private")),
        ("task.in.or", Path("task", ("in", "or"), prefixed=True)),
        ("task.language", Path("task", ("language",), prefixed=True)),
        ("worker.languages", Path("worker", ("languages",), prefixed=True)),
        ("workers.available", Path("workers", ("available",), prefixed=True)),
        ("task", Path("task", (), prefixed=True)),
        ("TASK.x", worker_path("TASK", "x")),
    ],
)
def test_paths(source: str, path: Path) -> None:
    assert compile_expression(f"{source} == 1").tree == Comparison("==", path, Literal(1))


@pytest.mark.parametrize(
    ("source", "op"),
    [
        ("a == 1", "=="),
        ("a = 1", "=="),
        ("a != 1", "!="),
        ("a < 1", "<"),
        ("a <= 1", "<="),
        ("a > 1", ">"),
        ("a >= 1", ">="),
        ("a IN [1]", "IN"),
        ("a in [1]", "IN"),
        ("a NOT IN [1]", "NOT IN"),
        ("a not in [1]", "NOT IN"),
        ("a HAS 1", "HAS"),
        ("a Has 1", "HAS"),
        ("a NOT HAS 1", "NOT HAS"),
        ("a CONTAINS 1", "CONTAINS"),
        ("a contains 1", "CONTAINS"),
        ("a==1", "=="),
        ("a>=1", ">="),
    ],
)
def test_comparison_operators(source: str, op: str) -> None:
    tree = compile_expression(source).tree
    assert isinstance(tree, Comparison)
    assert tree.op == op
    assert tree.left == worker_path("a")


def test_literal_on_either_side() -> None:
    assert compile_expression('"en" IN langs').tree == Comparison("IN", Literal("en"), worker_path("langs"))
    assert compile_expression("1==1").tree == Comparison("==", Literal(1), Literal(1))


def test_precedence_not_then_and_then_or() -> None:
    a, b, c = (Truthy(worker_path(name)) for name in "abc")
    assert compile_expression("a OR b AND c").tree == Or((a, And((b, c))))
    assert compile_expression("a AND b OR c").tree == Or((And((a, b)), c))
    assert compile_expression("NOT a AND b").tree == And((Not(a), b))
    assert compile_expression("NOT a OR b").tree == Or((Not(a), b))
    assert compile_expression("(a OR b) AND c").tree == And((Or((a, b)), c))
    assert compile_expression("a && b || c").tree == Or((And((a, b)), c))
    assert compile_expression("!a").tree == Not(a)
    assert compile_expression("NOT NOT a").tree == Not(Not(a))
    assert compile_expression("a or b or c").tree == Or((a, b, c))


def test_not_binds_a_whole_comparison() -> None:
    tree = compile_expression("NOT a == 1").tree
    assert tree == Not(Comparison("==", worker_path("a"), Literal(1)))


def test_bare_paths_and_booleans_are_truthy_conditions() -> None:
    assert compile_expression("task.vip").tree == Truthy(Path("task", ("vip",), prefixed=True))
    assert compile_expression("true").tree == Truthy(Literal(True))


# --- Semantics -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "attributes", "expected"),
    [
        # Equality: numbers numerically, booleans never equal to numbers.
        ("a == 1", {"a": 1}, True),
        ("a == 1", {"a": 1.0}, True),
        ("a == 1.0", {"a": 1}, True),
        ("a == 1", {"a": True}, False),
        ("a == true", {"a": 1}, False),
        ("a == true", {"a": True}, True),
        ("a == false", {"a": 0}, False),
        ("a == 1", {"a": "1"}, False),
        ('a == "x"', {"a": "x"}, True),
        ('a == "X"', {"a": "x"}, False),
        ("a == null", {"a": None}, True),
        ("a == null", {}, True),
        ("a == [1, 2]", {"a": [1, 2.0]}, True),
        ("a == [1, 2]", {"a": [1]}, False),
        ("a == b", {"a": {"x": 1}, "b": {"x": 1}}, False),
        ("a != 1", {"a": 2}, True),
        ("a != 1", {"a": 1.0}, False),
        ("a != 1", {}, True),
        ("a != null", {}, False),
        ("a == b", {"a": 3, "b": 3.0}, True),
        # Ordering: both numbers or both strings, otherwise false.
        ("a > 4", {"a": 5}, True),
        ("a > 4", {"a": 4}, False),
        ("a >= 4", {"a": 4.0}, True),
        ("a < 4", {"a": 3.5}, True),
        ("a <= 4", {"a": 4}, True),
        ('a < "m"', {"a": "apple"}, True),
        ('a > "m"', {"a": "apple"}, False),
        ("a > 4", {"a": "5"}, False),
        ("a < 4", {"a": None}, False),
        ("a < 4", {}, False),
        ("a > 0", {"a": True}, False),
        ("a > 0", {"a": [1]}, False),
        ("4 < a", {"a": 5}, True),
        ("a < b", {"a": 1, "b": 2}, True),
        # IN
        ('a IN ["x", "y"]', {"a": "y"}, True),
        ('a IN ["x", "y"]', {"a": "z"}, False),
        ("a IN [1, 2]", {"a": 2.0}, True),
        ("a IN [1, 2]", {"a": True}, False),
        ("a IN [true]", {"a": 1}, False),
        ('a IN ["x", "y"]', {"a": ["z", "y"]}, True),
        ('a IN ["x", "y"]', {"a": ["z"]}, False),
        ('a IN ["x"]', {"a": []}, False),
        ("a IN [null]", {}, False),
        ("a IN []", {"a": "x"}, False),
        ('a IN "english"', {"a": "glis"}, True),
        ('a IN "english"', {"a": "french"}, False),
        ("a IN 5", {"a": 5}, False),
        ('"en" IN a', {"a": ["fr", "en"]}, True),
        ('"en" IN a', {"a": "english"}, True),
        ("1 IN a", {"a": [1.0]}, True),
        ('["x", "y"] IN a', {"a": ["y"]}, True),
        ('["x", "y"] IN a', {"a": ["z"]}, False),
        ("a IN b", {"a": "x", "b": ["x"]}, True),
        ("a IN b", {"a": ["q", "x"], "b": ["x"]}, True),
        ("a IN b", {"a": {"k": 1}, "b": [{"k": 1}]}, False),
        # NOT IN: the negation of IN, so null is NOT IN everything.
        ('a NOT IN ["x"]', {"a": "y"}, True),
        ('a NOT IN ["x"]', {"a": "x"}, False),
        ("a NOT IN [null]", {}, True),
        ("a NOT IN b", {}, True),
        ('a NOT IN ["x"]', {"a": ["x", "y"]}, False),
        # HAS
        ('a HAS "x"', {"a": ["x", "y"]}, True),
        ('a HAS "x"', {"a": ["y"]}, False),
        ('a HAS "x"', {"a": "x"}, True),
        ('a HAS "x"', {"a": "xyz"}, False),
        ("a HAS 1", {"a": [1.0]}, True),
        ("a HAS 1", {"a": [True]}, False),
        ("a HAS null", {}, True),
        ('a HAS "x"', {}, False),
        ('a NOT HAS "x"', {"a": ["y"]}, True),
        ('a NOT HAS "x"', {"a": ["x"]}, False),
        ('a NOT HAS "x"', {}, True),
        ("a HAS b", {"a": ["x"], "b": "x"}, True),
        # CONTAINS
        ('a CONTAINS "gli"', {"a": "english"}, True),
        ('a CONTAINS "fr"', {"a": "english"}, False),
        ('a CONTAINS "x"', {"a": ["x"]}, True),
        ('a CONTAINS "x"', {"a": ["xy"]}, False),
        ("a CONTAINS 1", {"a": "1"}, False),
        ("a CONTAINS 1", {"a": [1]}, True),
        ('a CONTAINS "x"', {"a": 5}, False),
        ('a CONTAINS "x"', {}, False),
        ('"english" CONTAINS a', {"a": "eng"}, True),
        # Truthiness of a bare path.
        ("a", {"a": True}, True),
        ("a", {"a": "x"}, True),
        ("a", {"a": 0}, False),
        ("a", {"a": ""}, False),
        ("a", {"a": []}, False),
        ("a", {}, False),
        ("true", {}, True),
        ("false", {}, False),
        ("NOT a", {}, True),
        ("!a", {"a": 1}, False),
        # Constant comparisons.
        ("1==1", {}, True),
        ("1 == 2", {}, False),
        ('"a" IN ["a"]', {}, True),
    ],
)
def test_semantics(source: str, attributes: dict[str, Any], expected: bool) -> None:
    assert evaluate(source, attributes) is expected


@pytest.mark.parametrize(
    ("source", "attributes", "expected"),
    [
        ("a.b.c == 1", {"a": {"b": {"c": 1}}}, True),
        ("a.b.c == null", {"a": {"b": 5}}, True),
        ("a.b.c == null", {"a": None}, True),
        ("a.b == null", {"a": [1, 2]}, True),
        ("a[0] == 1", {"a": [1, 2]}, True),
        ("a[1] == 2", {"a": (1, 2)}, True),
        ("a[2] == null", {"a": [1, 2]}, True),
        ("a[0] == null", {"a": "string"}, True),
        ("a[0] == null", {"a": {"0": 1}}, True),
        ("a[0].name == 'x'", {"a": [{"name": "x"}]}, True),
        ("a[0][1] == 3", {"a": [[2, 3]]}, True),
        ("first-name == 'Ada'", {"first-name": "Ada"}, True),
        ("missing", {}, False),
    ],
)
def test_paths_and_missing_values(source: str, attributes: dict[str, Any], expected: bool) -> None:
    assert evaluate(source, attributes) is expected


def test_keywords_are_case_insensitive() -> None:
    worker = {"a": ["x"], "b": 1}
    for source in ('a has "x" and b == 1', 'a HaS "x" AnD b == 1', 'NOT a has "y" or FALSE'):
        assert evaluate(source, worker) is True


def test_evaluation_returns_bool() -> None:
    assert evaluate("a OR b", {"a": 0, "b": "x"}) is True
    assert evaluate("a AND b AND c", {"a": 1, "b": 1, "c": 0}) is False
    assert evaluate("a OR b OR c", {"c": [1]}) is True


def test_evaluation_never_raises_on_odd_data() -> None:
    odd: list[Any] = [None, 3, "s", [1, [2]], {"k": {"j": 1}}, (1,), object(), float("nan"), 10**400]
    sources = ["a == 1", "a < 'x'", "a IN b", "a HAS b", "a CONTAINS b", "a[0].k", "a.k[3]", "a >= b"]
    for a in odd:
        for b in odd:
            for source in sources:
                evaluate(source, {"a": a, "b": b})
    assert compile_expression("x == 1").evaluate({}) is False
    assert compile_expression("x == 1").evaluate({"worker": "not a mapping"}) is False


# --- Scopes ---------------------------------------------------------------------------------------


def test_scopes() -> None:
    scopes = {
        "task": {"language": "fr", "type": "support", "vip": True},
        "worker": {"languages": ["en", "fr"], "skill_level": 6},
        "workers": {"available": 0, "total": 5},
    }
    assert compile_expression("task.language IN worker.languages").evaluate(scopes)
    assert compile_expression("task.language IN languages").evaluate(scopes)
    assert compile_expression("workers.available == 0").evaluate(scopes)
    assert compile_expression("type == 'support'", default_scope="task").evaluate(scopes)
    assert compile_expression("task.type == 'support'", default_scope="task").evaluate(scopes)
    assert not compile_expression("languages HAS 'fr'", default_scope="task").evaluate(scopes)
    assert compile_expression("worker.languages HAS 'fr'", default_scope="task").evaluate(scopes)


def test_reserved_scope_names_shadow_attributes() -> None:
    scopes = {"task": {"x": 1}, "worker": {"task": {"x": 2}}}
    assert compile_expression("task.x == 1").evaluate(scopes)
    assert compile_expression("worker.task.x == 2").evaluate(scopes)


def test_a_named_scope_missing_from_the_mapping_falls_back_to_the_default_scope() -> None:
    assert compile_expression("task.x == 2").evaluate({"worker": {"task": {"x": 2}}})
    assert compile_expression("task.x == null").evaluate({"worker": {}})


def test_the_default_scope_name_is_a_prefix_too() -> None:
    expression = compile_expression("call.queue == 'sales'", default_scope="call")
    assert expression.tree == Comparison("==", Path("call", ("queue",), prefixed=True), Literal("sales"))
    assert expression.evaluate({"call": {"queue": "sales"}})


def test_references() -> None:
    expression = compile_expression("task.language IN worker.languages AND workers.available > 0")
    assert expression.references("task")
    assert expression.references("worker")
    assert expression.references("workers")
    assert compile_expression("skill > 3").references("worker")
    assert not compile_expression("skill > 3").references("task")
    assert compile_expression("skill > 3", default_scope="task").references("task")
    assert not compile_expression("1==1").references("worker")
    assert compile_expression("NOT (task.vip OR x)").references("worker")


# --- TaskRouter examples ---------------------------------------------------------------------------


def test_taskrouter_examples() -> None:
    task = {"language": "english", "type": "support"}
    english = {"languages": ["english", "spanish"], "skill_level": 5}
    french = {"languages": ["french"], "skill_level": 9}

    def matches(source: str, worker: dict[str, Any]) -> bool:
        return compile_expression(source).evaluate({"task": task, "worker": worker})

    assert matches('languages HAS "english"', english)
    assert not matches('languages HAS "english"', french)
    assert matches("task.language IN worker.languages", english)
    assert not matches("task.language IN worker.languages", french)
    source = 'worker.skill_level >= 5 AND task.type == "support"'
    assert matches(source, english)
    assert matches(source, french)
    assert not matches(source, {"skill_level": 4})
    assert matches("1==1", {})
    skip_if = compile_expression("workers.available == 0", default_scope="task")
    assert skip_if.evaluate({"task": task, "workers": {"available": 0}})
    assert not skip_if.evaluate({"task": task, "workers": {"available": 2}})


# --- Syntax errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "column", "expected", "found"),
    [
        ("skills HAS", 11, "a value or a path", "end of expression"),
        ("a ==", 5, "a value or a path", "end of expression"),
        ("(a == 1", 8, "AND, OR or ')'", "end of expression"),
        ("a == 1 b", 8, "AND, OR or the end of the expression", "'b'"),
        ('"unterminated', 14, 'a closing " for the string at column 1', "end of expression"),
        ("a == 'open", 11, "a closing ' for the string at column 6", "end of expression"),
        ("a IN [1,", 9, "a string, a number, true, false or null", "end of expression"),
        ("a IN [1 2]", 9, "',' or ']'", "'2'"),
        ("a IN [b]", 7, "a string, a number, true, false or null", "'b'"),
        ("a IN [[1]]", 7, "a string, a number, true, false or null", "'['"),
        ("", 1, "a value, a path or '('", "end of expression"),
        ("   ", 4, "a value, a path or '('", "end of expression"),
        ("skills foo", 8, "an operator such as ==, IN or HAS", "'foo'"),
        ('"english"', 10, "an operator such as ==, IN or HAS", "end of expression"),
        ("a NOT b", 7, "IN or HAS after NOT", "'b'"),
        ("a == @", 6, "a value or a path", "'@'"),
        ("a & b", 3, "an operator such as ==, IN or HAS", "'&'"),
        ("a AND", 6, "a value, a path or '('", "end of expression"),
        ("AND a", 1, "a value, a path or '('", "'AND'"),
        ("a == IN", 6, "a value or a path", "'IN'"),
        ("a.", 3, "a name after '.'", "end of expression"),
        ("a.1 == 2", 3, "a name after '.'", "'1'"),
        ("a[x] == 1", 3, "a non-negative integer index", "'x'"),
        ("a[-1] == 1", 3, "a non-negative integer index", "'-1'"),
        ("a[1.5] == 1", 3, "a non-negative integer index", "'1.5'"),
        ("a[0 == 1", 5, "']'", "'=='"),
        ("a == 1)", 7, "AND, OR or the end of the expression", "')'"),
        ("()", 2, "a value, a path or '('", "')'"),
        (r'a == "bad \q"', 11, "an escape such as \\n, \\t, \\\", \\' or \\\\", "'\\\\q'"),
        ("-a == 1", 1, "a value, a path or '('", "'-'"),
    ],
)
def test_syntax_errors(source: str, column: int, expected: str, found: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_expression(source)
    error = caught.value
    assert (error.column, error.expected, error.found, error.expression) == (column, expected, found, source)
    assert error.message == f"column {column}: expected {expected}, found {found}"
    assert error.details == {"expression": source, "column": column, "expected": expected, "found": found}
    assert error.error_id == "expression_syntax_error"
    assert isinstance(error, ValidationError)


def test_syntax_error_message_names_the_column() -> None:
    with pytest.raises(ExpressionSyntaxError, match=r"^column 12: expected an operator such as ==, IN or HAS"):
        compile_expression("languages  foo")


def test_nesting_is_bounded() -> None:
    with pytest.raises(ExpressionSyntaxError, match="at most 100 nested"):
        compile_expression("(" * 101 + "a" + ")" * 101)
    with pytest.raises(ExpressionSyntaxError, match="at most 100 nested"):
        compile_expression("NOT " * 101 + "a")
    assert compile_expression("(" * 100 + "a" + ")" * 100).evaluate({"worker": {"a": 1}})


def test_long_flat_chains_do_not_recurse() -> None:
    source = " OR ".join(f"a == {n}" for n in range(3000))
    expression = compile_expression(source)
    assert expression.evaluate({"worker": {"a": 2999}})
    assert not expression.evaluate({"worker": {"a": 3000}})
    assert expression.index_keys() is not None


# --- Safety and caching ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    ['__import__("os")', '__import__("os").system("true")', "open('x')", "a == (1)", "a + 1 == 2", "lambda: 1"],
)
def test_python_is_not_accepted(source: str) -> None:
    with pytest.raises(ExpressionSyntaxError):
        compile_expression(source)


def test_compiling_never_calls_eval_exec_or_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("the expression compiler must not run Python source")

    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, forbidden)
    source = 'task.language IN worker.languages AND (skill >= 5 OR tags HAS "vip") AND NOT x[0] == "y"'
    expression = compile_expression(source + " AND 2 == 2")  # a source no other test has cached
    assert expression.evaluate({"task": {"language": "en"}, "worker": {"languages": ["en"], "skill": 7}})


def test_compiled_expressions_are_cached_and_immutable() -> None:
    first = compile_expression("cached == 1")
    assert compile_expression("cached == 1") is first
    assert compile_expression("cached == 1", default_scope="task") is not first
    assert isinstance(first, Expression)
    assert first.source == "cached == 1"
    assert first.default_scope == "worker"
    with pytest.raises(AttributeError):
        first.source = "other"  # type: ignore[misc]
    assert first.predicate({"worker": {"cached": 1}}) is True
