"""The routing expression language, as in TaskRouter's `target_workers` and workflow filters.

An expression such as `languages HAS "english" AND skill_level >= 5` is parsed once into a tree of
frozen dataclasses and compiled into nested Python closures (never into Python source: no eval, exec
or compile). It is evaluated against named attribute scopes, e.g.
`{"task": task_attributes, "worker": worker_attributes, "workers": {"available": 3}}`.

Scopes: a path whose first name is `task`, `worker`, `workers` or the expression's default scope
resolves in that scope (`task.language` is `scopes["task"]["language"]`); any other path resolves in
the default scope (`language` is `scopes[default_scope]["language"]`). These names are reserved: an
attribute called `task` in the worker scope can only be reached as `worker.task`. If the named scope
is absent from the mapping at evaluation time, the whole path resolves in the default scope instead.

Keywords are case-insensitive and cannot start a path, though later names may be keywords (`task.in`).

Data never makes evaluation raise: a missing key, an index out of range, or indexing something that
is not a list or an object gives null; comparisons between unrelated types are false. Numbers compare
numerically (`1 == 1.0`) but a boolean never equals a number (`true != 1`); lists compare element by
element and objects never compare equal. Null is in nothing, so `null IN [null]` is false and
`null NOT IN [...]` is true.

`index_keys` lets the engine narrow 15,000 workers to a few candidates per queue: it derives keys
such that any worker matching the expression has one of them among its `index_entries`.

The tokens, the grammar and the tree are in `expression_syntax`; this module gives them their meaning.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from callboard.core.expression_syntax import (
    And,
    Comparison,
    Literal,
    Node,
    Not,
    Or,
    Path,
    Scalar,
    Truthy,
    parse,
)
from callboard.core.expression_syntax import (
    ExpressionSyntaxError as ExpressionSyntaxError,  # raised by `compile_expression`, so importable here
)

IndexKey: TypeAlias = tuple[tuple[str | int, ...], str, object]
Predicate: TypeAlias = Callable[[Mapping[str, Any]], bool]
_Getter: TypeAlias = Callable[[Mapping[str, Any]], Any]
_Test: TypeAlias = Callable[[Any], bool]

_MISSING = object()


# --- Semantics ------------------------------------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str):
        return isinstance(b, str) and a == b
    if isinstance(a, int | float):
        return isinstance(b, int | float) and a == b
    if isinstance(a, list | tuple):
        return isinstance(b, list | tuple) and len(a) == len(b) and all(map(_equal, a, b))
    return False


def _element_of(value: Any, sequence: Sequence[Any]) -> bool:
    if isinstance(value, str):
        return value in sequence  # exact: a string only ever equals a string
    return any(_equal(value, element) for element in sequence)


def _in(x: Any, y: Any) -> bool:
    if x is None:
        return False
    if isinstance(y, list | tuple):
        if isinstance(x, list | tuple):
            return any(_element_of(element, y) for element in x)
        return _element_of(x, y)
    return isinstance(x, str) and isinstance(y, str) and x in y


def _has(x: Any, y: Any) -> bool:
    return _element_of(y, x) if isinstance(x, list | tuple) else _equal(x, y)


def _contains(x: Any, y: Any) -> bool:
    if isinstance(x, str):
        return isinstance(y, str) and y in x
    return isinstance(x, list | tuple) and _element_of(y, x)


def _ordering(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def ordered(a: Any, b: Any) -> bool:
        if isinstance(a, str):
            return isinstance(b, str) and compare(a, b)
        return _is_number(a) and _is_number(b) and compare(a, b)

    return ordered


_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": _equal,
    "!=": lambda a, b: not _equal(a, b),
    "IN": _in,
    "NOT IN": lambda a, b: not _in(a, b),
    "HAS": _has,
    "NOT HAS": lambda a, b: not _has(a, b),
    "CONTAINS": _contains,
    **{op: _ordering(compare) for op, compare in _ORDERINGS.items()},
}


def _walk(value: Any, segments: tuple[str | int, ...]) -> Any:
    for segment in segments:
        if isinstance(segment, str):
            if value.__class__ is not dict and not isinstance(value, Mapping):
                return None
            value = value.get(segment)
        elif isinstance(value, list | tuple) and segment < len(value):
            value = value[segment]
        else:
            return None
    return value


# --- Compiling to closures ------------------------------------------------------------------------


def _walker(segments: tuple[str | int, ...]) -> Callable[[Any], Any]:
    if len(segments) == 1 and isinstance(segments[0], str):
        key = segments[0]
        return lambda value: value.get(key) if value.__class__ is dict else _walk(value, segments)
    return lambda value: _walk(value, segments)


def _getter(path: Path, default_scope: str) -> _Getter:
    walk = _walker(path.segments)
    if not path.prefixed:
        return lambda scopes: walk(scopes.get(default_scope))
    scope, fallback = path.scope, _walker((path.scope, *path.segments))

    def get_prefixed(scopes: Mapping[str, Any]) -> Any:
        root = scopes.get(scope, _MISSING)
        return fallback(scopes.get(default_scope)) if root is _MISSING else walk(root)

    return get_prefixed


def _equals_literal(value: Scalar | tuple[Scalar, ...]) -> _Test:
    if value is None:
        return lambda x: x is None
    if isinstance(value, bool):
        return lambda x: x is value
    if isinstance(value, str):
        return lambda x: isinstance(x, str) and x == value
    if isinstance(value, int | float):
        return lambda x: x == value and _is_number(x)
    return lambda x: _equal(x, value)


def _membership(values: tuple[Scalar, ...]) -> _Test:
    """A set-based `x is equal to one of values`, for a list literal of scalars."""
    strings = frozenset(v for v in values if isinstance(v, str))
    numbers = frozenset(v for v in values if _is_number(v))
    booleans = frozenset(v for v in values if isinstance(v, bool))
    has_null = None in values

    def member(x: Any) -> bool:
        if isinstance(x, str):
            return x in strings
        if isinstance(x, bool):
            return x in booleans
        if isinstance(x, int | float):
            return x in numbers
        return x is None and has_null

    return member


def _bind_right(op: str, value: Scalar | tuple[Scalar, ...]) -> _Test:
    """`x op value` as a one-argument test, specialised for the common shapes."""
    if op in ("==", "!="):
        equals = _equals_literal(value)
        return equals if op == "==" else lambda x: not equals(x)
    if op in ("IN", "NOT IN") and isinstance(value, tuple):
        member = _membership(value)

        def is_in(x: Any) -> bool:
            if isinstance(x, list | tuple):
                return any(map(member, x))
            return x is not None and member(x)

        return is_in if op == "IN" else lambda x: not is_in(x)
    if op in ("HAS", "NOT HAS") and not isinstance(value, tuple):
        equals = _equals_literal(value)

        def has(x: Any) -> bool:
            return _element_of(value, x) if isinstance(x, list | tuple) else equals(x)

        return has if op == "HAS" else lambda x: not has(x)
    if op in _ORDERINGS and isinstance(value, str):
        compare = _ORDERINGS[op]
        return lambda x: isinstance(x, str) and compare(x, value)
    if op in _ORDERINGS and _is_number(value):
        compare = _ORDERINGS[op]
        return lambda x: _is_number(x) and compare(x, value)
    function = _OPERATORS[op]
    return lambda x: function(x, value)


def _compile(node: Node, default_scope: str) -> Predicate:
    if isinstance(node, Or | And):
        predicates = tuple(_compile(term, default_scope) for term in node.terms)
        return _combine(predicates, any_of=isinstance(node, Or))
    if isinstance(node, Not):
        inner = _compile(node.term, default_scope)
        return lambda scopes: not inner(scopes)
    if isinstance(node, Truthy):
        if isinstance(node.operand, Literal):
            constant = bool(node.operand.value)
            return lambda scopes: constant
        get = _getter(node.operand, default_scope)
        return lambda scopes: bool(get(scopes))
    return _compile_comparison(node, default_scope)


def _combine(predicates: tuple[Predicate, ...], any_of: bool) -> Predicate:
    first, second, *rest = predicates
    if not rest and any_of:
        return lambda scopes: first(scopes) or second(scopes)
    if not rest:
        return lambda scopes: first(scopes) and second(scopes)

    def combined(scopes: Mapping[str, Any]) -> bool:
        # A loop rather than any()/all() over a generator, which would be allocated per evaluation.
        for predicate in predicates:
            if bool(predicate(scopes)) is any_of:
                return any_of
        return not any_of

    return combined


def _compile_comparison(node: Comparison, default_scope: str) -> Predicate:
    left, right, function = node.left, node.right, _OPERATORS[node.op]
    if isinstance(left, Literal):
        constant = left.value
        if isinstance(right, Literal):
            result = function(constant, right.value)
            return lambda scopes: result
        get = _getter(right, default_scope)
        return lambda scopes: function(constant, get(scopes))
    get_left = _getter(left, default_scope)
    if isinstance(right, Literal):
        test = _bind_right(node.op, right.value)
        return lambda scopes: test(get_left(scopes))
    get_right = _getter(right, default_scope)
    return lambda scopes: function(get_left(scopes), get_right(scopes))


# --- The index ------------------------------------------------------------------------------------


def _scalar_key(value: object) -> tuple[str, object] | None:
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | float):
        try:
            return ("n", float(value))
        except OverflowError:  # an int beyond float range can only equal itself
            return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    return None


def index_entries(attributes: Mapping[str, Any]) -> frozenset[IndexKey]:
    """Every (path, type tag, value) a matching `index_keys` could ask for, for one attribute dict."""
    entries: set[IndexKey] = set()
    _collect(attributes, (), entries)
    return frozenset(entries)


def entries_at(attributes: Mapping[str, Any], path: tuple[str | int, ...]) -> Iterator[IndexKey]:
    """The entries `index_entries(attributes)` holds at one path, without collecting the others."""
    value: Any = attributes
    for segment in path:
        # `__class__ is dict` first: an isinstance check against the Mapping ABC costs more than the lookup.
        if value.__class__ is not dict and not isinstance(value, Mapping):
            return
        value = value.get(segment)
    if value.__class__ is str:  # the common case, as `_scalar_key` would key it
        yield (path, "s", value)
        return
    if isinstance(value, Mapping):
        return
    for element in value if isinstance(value, list | tuple) else (value,):
        key = _scalar_key(element)
        if key is not None:
            yield (path, key[0], key[1])


def _collect(attributes: Mapping[str, Any], prefix: tuple[str | int, ...], entries: set[IndexKey]) -> None:
    for name, value in attributes.items():
        if not isinstance(name, str):
            continue
        path = (*prefix, name)
        if isinstance(value, Mapping):
            _collect(value, path, entries)
            continue
        for element in value if isinstance(value, list | tuple) else (value,):
            key = _scalar_key(element)
            if key is not None:
                entries.add((path, key[0], key[1]))


def _keys_for(path: tuple[str | int, ...], values: Sequence[object]) -> frozenset[IndexKey] | None:
    keys: set[IndexKey] = set()
    for value in values:
        key = _scalar_key(value)
        if key is None:
            return None
        keys.add((path, key[0], key[1]))
    return frozenset(keys)


def _comparison_keys(node: Comparison, scope: str) -> frozenset[IndexKey] | None:
    path, literal = node.left, node.right
    path_on_left = isinstance(path, Path)
    if not isinstance(path, Path):
        path, literal = literal, path
    if not isinstance(path, Path) or not isinstance(literal, Literal) or path.scope != scope:
        return None
    if not all(isinstance(segment, str) for segment in path.segments):
        return None
    value, op = literal.value, node.op
    listed = isinstance(value, tuple)
    # path == v, path HAS v and v HAS path all hold only if path is v or a list holding v.
    if op == "==" or (op == "HAS" and (path_on_left or not listed)):
        return _keys_for(path.segments, (value,))  # None for a list or null literal
    # A list literal on the membership side: one of its elements must be in the path's list.
    if isinstance(value, tuple) and (op == "IN" or (op in ("HAS", "CONTAINS") and not path_on_left)):
        return _keys_for(path.segments, value)
    # A scalar in the path's list; a string could also be a substring, which cannot be indexed.
    if (op, path_on_left) in (("IN", False), ("CONTAINS", True)) and not isinstance(value, str | tuple):
        return _keys_for(path.segments, (value,))
    return None


def _index_keys(node: Node, scope: str) -> frozenset[IndexKey] | None:
    if isinstance(node, Comparison):
        return _comparison_keys(node, scope)
    if isinstance(node, And):
        candidates = [keys for term in node.terms if (keys := _index_keys(term, scope)) is not None]
        return min(candidates, key=len, default=None)
    if isinstance(node, Or):
        union: set[IndexKey] = set()
        for term in node.terms:
            keys = _index_keys(term, scope)
            if keys is None:
                return None
            union |= keys
        return frozenset(union)
    return None


def _paths(node: Node) -> Iterator[Path]:
    if isinstance(node, Or | And):
        for term in node.terms:
            yield from _paths(term)
    elif isinstance(node, Not):
        yield from _paths(node.term)
    else:
        operands = (node.operand,) if isinstance(node, Truthy) else (node.left, node.right)
        yield from (operand for operand in operands if isinstance(operand, Path))


# --- String tests ---------------------------------------------------------------------------------

StringTests: TypeAlias = tuple[tuple[str, frozenset[str]], ...]


def _string_test(node: Node, scope: str) -> tuple[str, frozenset[str]] | None:
    """`name == "x"` or `name IN ["x", "y"]` on a top-level attribute of `scope`, as (name, strings)."""
    if not isinstance(node, Comparison) or node.op not in ("==", "IN"):
        return None
    path, literal = node.left, node.right
    if node.op == "==" and isinstance(path, Literal):
        path, literal = literal, path  # equality is symmetric; membership is not
    if not isinstance(path, Path) or not isinstance(literal, Literal) or path.scope != scope:
        return None
    if len(path.segments) != 1 or not isinstance(name := path.segments[0], str):
        return None
    value = literal.value
    values = (value,) if node.op == "==" else value if isinstance(value, tuple) else ()
    strings = [v for v in values if isinstance(v, str)]
    if not strings or len(strings) < len(values):
        return None  # no list, or a list holding something other than strings
    return name, frozenset(strings)


def decide_strings(tests: StringTests, attributes: Mapping[str, Any]) -> bool | None:
    """What `Expression.string_tests` say of an attribute dict; None when a tested value is not a string.

    A string equals only a string, so for a string value each test is a set lookup; any other value (a list,
    a number, null, a missing key) is left to the predicate.
    """
    for name, allowed in tests:
        value = attributes.get(name)
        if value.__class__ is not str:
            return None
        if value not in allowed:
            return False
    return True


# --- Public API -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expression:
    """A routing expression parsed once and compiled to closures; call `predicate` directly in hot loops."""

    source: str
    default_scope: str
    tree: Node
    predicate: Predicate = field(repr=False, compare=False)

    def evaluate(self, scopes: Mapping[str, Any]) -> bool:
        return self.predicate(scopes)

    def references(self, scope: str) -> bool:
        return any(path.scope == scope for path in _paths(self.tree))

    def index_keys(self, scope: str = "worker") -> frozenset[IndexKey] | None:
        """Keys one of which every matching `scope` attribute dict has, or None if none can be derived."""
        return _index_keys(self.tree, scope)

    @functools.cached_property
    def _task_paths(self) -> tuple[tuple[str, ...], ...] | None:
        if self.default_scope != "worker":
            return None  # a `workers.x` path would fall back to the task scope
        found: list[tuple[str, ...]] = []
        for path in _paths(self.tree):
            if path.scope != "task":
                continue
            segments = path.segments
            if not segments or not all(isinstance(segment, str) for segment in segments):
                return None
            if segments not in found:
                found.append(segments)  # type: ignore[arg-type]
        return tuple(found)

    @functools.cached_property
    def string_tests(self) -> StringTests | None:
        """The expression as tests of top-level attributes against sets of strings, when it is only that:
        `skill == "billing"`, `language IN ["fr", "de"]`, joined by AND; None for any other expression.

        `decide_strings` runs them over a few objects, where the compiled predicate walks a chain of closures
        and cells: a workflow's filters are read once per task, out of the CPU caches at full size, so the
        objects read are the cost.
        """
        terms = self.tree.terms if isinstance(self.tree, And) else (self.tree,)
        tests = []
        for term in terms:
            if (test := _string_test(term, self.default_scope)) is None:
                return None
            tests.append(test)
        return tuple(tests)

    @functools.cached_property
    def _constant_binding(self) -> tuple[Hashable, dict[str, Any]]:
        return (self.source,), {}

    def task_binding(self, task_attributes: Mapping[str, Any]) -> tuple[Hashable, dict[str, Any]] | None:
        """What this worker expression reads from a task: a key, and a task scope holding only those values.

        Two tasks with the same key select the same workers, so the engine can keep the matching workers of
        a queue per key (`Membership.matching`). Evaluating with the returned scope gives what evaluating with
        `task_attributes` gives. None when the values cannot be keyed (objects, nested lists, NaN).
        """
        paths = self._task_paths
        if paths is None:
            return None
        if not paths:
            return self._constant_binding  # reads nothing from the task (`worker.level >= 5`)
        scope: dict[str, Any] = {}
        key: list[Hashable] = [self.source]
        for segments in paths:
            value = _walk(task_attributes, segments)
            frozen = _frozen(value)
            if frozen is _MISSING:
                return None
            key.append(frozen)
            node = scope
            for segment in segments[:-1]:
                node = node.setdefault(segment, {})
                if node.__class__ is not dict:
                    return None
            if segments[-1] in node:
                return None  # one path is a prefix of another
            node[segments[-1]] = list(value) if isinstance(value, list | tuple) else value
        return tuple(key), scope


def _frozen(value: Any) -> Hashable:
    """A hashable, typed form of a scalar or a flat list of scalars; `_MISSING` for anything else."""
    if value is None or isinstance(value, str | int | float):
        if value != value:  # NaN equals nothing, not even itself
            return _MISSING
        return (value.__class__, value)
    if isinstance(value, list | tuple):
        items = tuple(_frozen(element) for element in value)
        if any(item is _MISSING or item[0] not in _SCALARS for item in items):  # type: ignore[index]
            return _MISSING
        return (value.__class__, items)
    return _MISSING


_SCALARS = frozenset({type(None), str, int, float, bool})


def compile_expression(source: str, default_scope: str = "worker") -> Expression:
    """Parse and compile `source`, or return the cached result; raises `ExpressionSyntaxError`."""
    return _compile_cached(source, default_scope)


@functools.lru_cache(maxsize=4096)
def _compile_cached(source: str, default_scope: str) -> Expression:
    tree = parse(source, default_scope)
    return Expression(source, default_scope, tree, _compile(tree, default_scope))
