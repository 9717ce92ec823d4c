"""`{{ path }}` templates over a flow's variables, and the dotted paths they (and lookups) read.

A template is text with placeholders: `"Hi {{ contact.name }}"`. A path is names joined by dots, with list
indexes either as `[0]` or as a number segment: `items[0].id`, `items.0.id`. Rendering never raises: a missing
path renders as "" inside text; a template that is exactly one placeholder keeps the value's type (a bool, a
number, a list, None when missing), so `vip: "{{ contact.vip }}"` passes a boolean on.

Values elsewhere in a flow (task attributes, an HTTP body, `set` values) are plain data with templates in their
strings; `compile_value` compiles such a structure once and `ValueTemplate.render` fills it in per run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeAlias

from callboard.core.errors import ValidationError

__all__ = [
    "PathSyntaxError",
    "Template",
    "TemplateSyntaxError",
    "ValueTemplate",
    "compile_template",
    "compile_value",
    "lookup",
    "parse_path",
    "text_of",
]

VariablePath: TypeAlias = tuple[str | int, ...]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_INDEX = re.compile(r"\[([0-9]+)\]")


class PathSyntaxError(ValidationError):
    """A dotted path that does not parse; `column` is 1-based inside the path."""

    error_id = "path_syntax_error"

    def __init__(self, path: str, column: int, expected: str) -> None:
        super().__init__(f"column {column}: expected {expected}", path=path, column=column)
        self.column, self.expected = column, expected


class TemplateSyntaxError(ValidationError):
    """A template that does not parse: `column` is 1-based in the string; `path` locates the string inside the
    value `compile_value` was given (empty for `compile_template`)."""

    error_id = "template_syntax_error"

    def __init__(self, source: str, column: int, reason: str, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(f"column {column}: {reason}", template=source, column=column)
        self.source, self.column, self.reason, self.path = source, column, reason, path


def parse_path(text: str) -> VariablePath:
    """`contact.name`, `items[0].id` or `items.0.id` as segments; raises `PathSyntaxError`."""
    segments: list[str | int] = []
    position = 0
    while True:
        if position < len(text) and text[position].isdigit() and segments:
            end = position
            while end < len(text) and text[end].isdigit():
                end += 1
            segments.append(int(text[position:end]))
            position = end
        else:
            match = _NAME.match(text, position)
            if match is None:
                expected = "a name" if not segments else "a name or an index after '.'"
                raise PathSyntaxError(text, position + 1, expected)
            segments.append(match.group())
            position = match.end()
        while (index := _INDEX.match(text, position)) is not None:
            segments.append(int(index.group(1)))
            position = index.end()
        if position == len(text):
            return tuple(segments)
        if text[position] != ".":
            raise PathSyntaxError(text, position + 1, "'.', '[' or the end of the path")
        position += 1


def lookup(data: Any, path: VariablePath) -> Any:
    """The value at `path` inside `data`, or None where a key is missing or a step does not fit."""
    for segment in path:
        if isinstance(segment, int) and isinstance(data, list | tuple):
            data = data[segment] if segment < len(data) else None
        elif isinstance(data, Mapping):
            data = data.get(segment if isinstance(segment, str) else str(segment))
        else:
            return None
        if data is None:
            return None
    return data


def text_of(value: Any) -> str:
    """How a value reads inside text: "" for None, true/false for booleans, JSON for lists and mappings."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


class _Placeholder(NamedTuple):
    path: VariablePath


@dataclass(frozen=True)
class Template:
    """Text with `{{ path }}` placeholders, parsed once."""

    source: str
    parts: tuple[str | _Placeholder, ...]

    @property
    def is_constant(self) -> bool:
        return not any(isinstance(part, _Placeholder) for part in self.parts)

    @property
    def paths(self) -> tuple[VariablePath, ...]:
        return tuple(part.path for part in self.parts if isinstance(part, _Placeholder))

    def render(self, variables: Mapping[str, Any]) -> Any:
        """The value itself for a lone placeholder (None when missing); otherwise the text."""
        if len(self.parts) == 1 and isinstance(self.parts[0], _Placeholder):
            return lookup(variables, self.parts[0].path)
        return self.text(variables)

    def text(self, variables: Mapping[str, Any]) -> str:
        """Always text: missing values read as ""."""
        return "".join(
            text_of(lookup(variables, part.path)) if isinstance(part, _Placeholder) else part for part in self.parts
        )


def compile_template(source: str) -> Template:
    """Parses `source`; raises `TemplateSyntaxError` for an unclosed `{{`, an empty one or a bad path."""
    parts: list[str | _Placeholder] = []
    position = 0
    while (start := source.find("{{", position)) != -1:
        if start > position:
            parts.append(source[position:start])
        end = source.find("}}", start + 2)
        if end == -1:
            raise TemplateSyntaxError(source, start + 1, "'{{' is never closed with '}}'")
        inner = source[start + 2 : end]
        stripped = inner.strip()
        offset = start + 2 + (len(inner) - len(inner.lstrip()))
        if not stripped:
            raise TemplateSyntaxError(source, start + 1, "expected a variable name inside '{{ }}'")
        try:
            parts.append(_Placeholder(parse_path(stripped)))
        except PathSyntaxError as exc:
            raise TemplateSyntaxError(
                source, offset + exc.column, f"bad path {stripped!r}: expected {exc.expected}"
            ) from None
        position = end + 2
    if position < len(source) or not parts:
        parts.append(source[position:])
    return Template(source, tuple(parts))


class _Constant(NamedTuple):
    value: Any


class _MapValue(NamedTuple):
    items: tuple[tuple[str, _Value], ...]


class _ListValue(NamedTuple):
    items: tuple[_Value, ...]


_Value: TypeAlias = "Template | _Constant | _MapValue | _ListValue"


def _render(value: _Value, variables: Mapping[str, Any]) -> Any:
    if isinstance(value, Template):
        return value.render(variables)
    if isinstance(value, _Constant):
        return value.value
    if isinstance(value, _MapValue):
        return {key: _render(item, variables) for key, item in value.items}
    return [_render(item, variables) for item in value.items]


@dataclass(frozen=True)
class ValueTemplate:
    """Plain data (mappings, lists, scalars) whose strings are templates."""

    value: _Value

    def render(self, variables: Mapping[str, Any]) -> Any:
        return _render(self.value, variables)

    @property
    def is_constant(self) -> bool:
        return isinstance(self.value, _Constant) or (isinstance(self.value, Template) and self.value.is_constant)


def compile_value(data: Any, path: tuple[str | int, ...] = ()) -> ValueTemplate:
    """Compiles every string inside `data`; a `TemplateSyntaxError` carries the path of the string at fault."""
    return ValueTemplate(_compile(data, path))


def _compile(data: Any, path: tuple[str | int, ...]) -> _Value:
    if isinstance(data, str):
        try:
            return compile_template(data)
        except TemplateSyntaxError as exc:
            raise TemplateSyntaxError(exc.source, exc.column, exc.reason, path) from None
    if isinstance(data, Mapping):
        return _MapValue(tuple((str(key), _compile(item, (*path, key))) for key, item in data.items()))
    if isinstance(data, list | tuple):
        return _ListValue(tuple(_compile(item, (*path, index)) for index, item in enumerate(data)))
    return _Constant(data)
