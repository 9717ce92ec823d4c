"""The routing expression language's syntax: its tokens, its grammar and the tree a source parses into.

`parse` turns a source into a tree of frozen dataclasses, or raises `ExpressionSyntaxError` naming the column
and what was expected there. What a tree means (evaluation, the index, string tests) is in `expressions`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeAlias

from callboard.core.errors import ValidationError

Scalar: TypeAlias = str | int | float | bool | None

RESERVED_SCOPES = frozenset({"task", "worker", "workers"})
_MAX_DEPTH = 100
_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "HAS", "CONTAINS"})
_CONSTANTS: dict[str, Scalar] = {"true": True, "false": False, "null": None}
_COMPARISONS = frozenset({"==", "=", "!=", "<", "<=", ">", ">="})
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t"}
_TOKEN = re.compile(
    r"(?P<number>-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*)"
    r"|(?P<punct>==|!=|<=|>=|&&|\|\||[=<>!()\[\],.])"
)


class ExpressionSyntaxError(ValidationError):
    """A routing expression that does not parse; `column` is 1-based."""

    error_id = "expression_syntax_error"

    def __init__(self, expression: str, column: int, expected: str, found: str) -> None:
        details: dict[str, Any] = {
            "expression": expression,
            "column": column,
            "expected": expected,
            "found": found,
        }
        super().__init__(f"column {column}: expected {expected}, found {found}", **details)
        self.expression, self.column, self.expected, self.found = expression, column, expected, found


# --- The tree -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant; a list literal is held as a tuple of scalars."""

    value: Scalar | tuple[Scalar, ...]


@dataclass(frozen=True, slots=True)
class Path:
    """An attribute path inside one scope; `prefixed` when the source named the scope explicitly."""

    scope: str
    segments: tuple[str | int, ...]
    prefixed: bool


@dataclass(frozen=True, slots=True)
class Comparison:
    """`left op right`; `op` is canonical: ==, !=, <, <=, >, >=, IN, NOT IN, HAS, NOT HAS, CONTAINS."""

    op: str
    left: Path | Literal
    right: Path | Literal


@dataclass(frozen=True, slots=True)
class Truthy:
    """A bare path (or true/false) used as a condition."""

    operand: Path | Literal


@dataclass(frozen=True, slots=True)
class Not:
    term: Node


@dataclass(frozen=True, slots=True)
class And:
    terms: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    terms: tuple[Node, ...]


Node: TypeAlias = Or | And | Not | Comparison | Truthy


# --- Parsing --------------------------------------------------------------------------------------


class _Token(NamedTuple):
    kind: str  # number, string, name, punct, error or end
    text: str
    value: Scalar
    column: int


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while True:
        while position < len(source) and source[position].isspace():
            position += 1
        if position == len(source):
            tokens.append(_Token("end", "", None, position + 1))
            return tokens
        if source[position] in "\"'":
            token, position = _read_string(source, position)
            tokens.append(token)
            continue
        match = _TOKEN.match(source, position)
        if match is None:
            # Reported by the parser, which knows what it expected here.
            tokens.append(_Token("error", source[position], None, position + 1))
            position += 1
            continue
        text = match.group()
        kind = match.lastgroup or "error"
        value: Scalar = None
        if kind == "number":
            value = int(text) if text.lstrip("-").isdigit() else float(text)
        tokens.append(_Token(kind, text, value, position + 1))
        position = match.end()


def _read_string(source: str, start: int) -> tuple[_Token, int]:
    quote = source[start]
    chars: list[str] = []
    position = start + 1
    while position < len(source):
        char = source[position]
        if char == quote:
            return _Token("string", source[start : position + 1], "".join(chars), start + 1), position + 1
        if char == "\\":
            escaped = _ESCAPES.get(source[position + 1 : position + 2])
            if escaped is None:
                expected = "an escape such as \\n, \\t, \\\", \\' or \\\\"
                raise ExpressionSyntaxError(source, position + 1, expected, repr(source[position : position + 2]))
            chars.append(escaped)
            position += 2
        else:
            chars.append(char)
            position += 1
    expected = f"a closing {quote} for the string at column {start + 1}"
    raise ExpressionSyntaxError(source, len(source) + 1, expected, "end of expression")


class _Parser:
    def __init__(self, source: str, default_scope: str) -> None:
        self.source = source
        self.default_scope = default_scope
        self.scopes = RESERVED_SCOPES | {default_scope}
        self.tokens = _tokenize(source)
        self.index = 0
        self.depth = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def parse(self) -> Node:
        node = self._or()
        if self.token.kind != "end":
            raise self._error("AND, OR or the end of the expression")
        return node

    def _error(self, expected: str) -> ExpressionSyntaxError:
        found = "end of expression" if self.token.kind == "end" else repr(self.token.text)
        return ExpressionSyntaxError(self.source, self.token.column, expected, found)

    def _advance(self) -> _Token:
        token = self.token
        self.index += 1
        return token

    def _is(self, *words: str) -> bool:
        token = self.token
        if token.kind == "punct":
            return token.text in words
        return token.kind == "name" and token.text.upper() in words

    def _accept(self, *words: str) -> bool:
        if self._is(*words):
            self.index += 1
            return True
        return False

    def _or(self) -> Node:
        terms = [self._and()]
        while self._accept("OR", "||"):
            terms.append(self._and())
        return terms[0] if len(terms) == 1 else Or(tuple(terms))

    def _and(self) -> Node:
        terms = [self._unary()]
        while self._accept("AND", "&&"):
            terms.append(self._unary())
        return terms[0] if len(terms) == 1 else And(tuple(terms))

    def _unary(self) -> Node:
        if not self._is("NOT", "!", "("):
            return self._condition()
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self._error(f"at most {_MAX_DEPTH} nested NOTs and parentheses")
        node: Node
        if self._accept("("):
            node = self._or()
            if not self._accept(")"):
                raise self._error("AND, OR or ')'")
        else:
            self.index += 1
            node = Not(self._unary())
        self.depth -= 1
        return node

    def _condition(self) -> Node:
        left = self._operand("a value, a path or '('")
        op = self._operator()
        if op is not None:
            return Comparison(op, left, self._operand("a value or a path"))
        at_end = self.token.kind == "end" or self._is("AND", "OR", "&&", "||", ")")
        if at_end and (isinstance(left, Path) or isinstance(left.value, bool)):
            return Truthy(left)
        raise self._error("an operator such as ==, IN or HAS")

    def _operator(self) -> str | None:
        token = self.token
        if token.kind == "punct" and token.text in _COMPARISONS:
            self.index += 1
            return "==" if token.text == "=" else token.text
        word = token.text.upper() if token.kind == "name" else ""
        if word in ("IN", "HAS", "CONTAINS"):
            self.index += 1
            return word
        if word == "NOT":
            self.index += 1
            if not self._is("IN", "HAS"):
                raise self._error("IN or HAS after NOT")
            return "NOT " + self._advance().text.upper()
        return None

    def _operand(self, expected: str) -> Path | Literal:
        token = self.token
        if (scalar := self._scalar()) is not None:
            return Literal(scalar[0])
        if self._accept("["):
            return self._list()
        if token.kind == "name" and token.text.upper() not in _KEYWORDS:
            return self._path()
        raise self._error(expected)

    def _scalar(self) -> tuple[Scalar] | None:
        token = self.token
        if token.kind == "name" and token.text.lower() in _CONSTANTS:
            self.index += 1
            return (_CONSTANTS[token.text.lower()],)
        if token.kind in ("string", "number"):
            self.index += 1
            return (token.value,)
        return None

    def _list(self) -> Literal:
        values: list[Scalar] = []
        if self._accept("]"):
            return Literal(())
        while True:
            if (scalar := self._scalar()) is None:
                raise self._error("a string, a number, true, false or null")
            values.append(scalar[0])
            if self._accept("]"):
                return Literal(tuple(values))
            if not self._accept(","):
                raise self._error("',' or ']'")

    def _path(self) -> Path:
        segments: list[str | int] = [self._advance().text]
        self._indexes(segments)
        while self._accept("."):
            if self.token.kind != "name":
                raise self._error("a name after '.'")
            segments.append(self._advance().text)
            self._indexes(segments)
        first = segments[0]
        if isinstance(first, str) and first in self.scopes:
            return Path(first, tuple(segments[1:]), prefixed=True)
        return Path(self.default_scope, tuple(segments), prefixed=False)

    def _indexes(self, segments: list[str | int]) -> None:
        while self._accept("["):
            value = self.token.value
            if self.token.kind != "number" or not isinstance(value, int) or value < 0:
                raise self._error("a non-negative integer index")
            self.index += 1
            segments.append(value)
            if not self._accept("]"):
                raise self._error("']'")


def parse(source: str, default_scope: str) -> Node:
    """The tree of `source`; paths not naming a reserved scope resolve in `default_scope`."""
    return _Parser(source, default_scope).parse()
