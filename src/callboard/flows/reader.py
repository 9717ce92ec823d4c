"""Typed reads of loaded flow data that collect `Problem`s instead of stopping at the first one.

Each read takes the container, the key and the container's path; on a problem it records where (the value's
path, or the key's for an unknown key) and returns None or the default, so building goes on and reports
everything at once.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from callboard.core.expressions import Expression, ExpressionSyntaxError, compile_expression
from callboard.flows.catalog import Catalog
from callboard.flows.model import NumberItem, PromptItem, Say, SayItem, TextItem
from callboard.flows.problems import DataPath, Problem
from callboard.flows.template import Template, TemplateSyntaxError, ValueTemplate, compile_template, compile_value

__all__ = ["EXPRESSION_SCOPE", "UNITS", "Reader", "describe", "read_say", "some_of"]

EXPRESSION_SCOPE = "call"  # branch expressions read the flow variables as `call.x`, or plainly `x`
UNITS = ("minutes", "seconds", "position")  # what a number said may count


def describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, int | float):
        return str(value)
    return f"a {type(value).__name__}"


def some_of(names: Iterable[str], limit: int = 8) -> str:
    """`a, b, c` or `a, b, c (and 4 more)`, sorted; `none` when empty."""
    ordered = sorted(names)
    if not ordered:
        return "none"
    shown = ", ".join(ordered[:limit])
    return shown if len(ordered) <= limit else f"{shown} (and {len(ordered) - limit} more)"


class Reader:
    """Reads typed values out of flow data; `problems` holds everything wrong so far."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, path: DataPath, message: str, *, at_key: bool = False) -> None:
        self.problems.append(Problem(path, message, at_key))

    def mapping(
        self, value: Any, path: DataPath, what: str, keys: Sequence[str], required: Iterable[str] = ()
    ) -> dict[Any, Any] | None:
        """A mapping with only `keys`, all of `required` present; unknown keys are reported at the key."""
        if not isinstance(value, dict):
            self.problem(path, f"expected a mapping for {what}, got {describe(value)}")
            return None
        for key in value:
            if key not in keys:
                message = f"unknown key {key!r} in {what}; expected one of: {', '.join(keys)}"
                self.problem((*path, key), message, at_key=True)
        for key in required:
            if key not in value:
                self.problem(path, f"missing required key {key!r} in {what}")
        return value

    def string(self, m: dict[Any, Any], key: str, path: DataPath, default: Any = None) -> str | None:
        """A non-empty string, or `default` when the key is absent or null."""
        value = m.get(key)
        if value is None:
            return default  # type: ignore[no-any-return]
        if not isinstance(value, str):
            self.problem((*path, key), f"expected a string for {key!r}, got {describe(value)}")
            return None
        if not value.strip():
            self.problem((*path, key), f"{key!r} must not be empty")
            return None
        return value

    def choice(self, m: dict[Any, Any], key: str, path: DataPath, choices: Collection[str], default: str) -> str:
        value = m.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or value not in choices:
            self.problem((*path, key), f"expected one of {', '.join(choices)} for {key!r}, got {describe(value)}")
            return default
        return value

    def integer(self, m: dict[Any, Any], key: str, path: DataPath, default: int, minimum: int, maximum: int) -> int:
        value = m.get(key)
        if value is None:
            return default
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem((*path, key), f"expected a whole number for {key!r}, got {describe(value)}")
            return default
        if not minimum <= value <= maximum:
            self.problem((*path, key), f"{key!r} must be between {minimum} and {maximum}, got {value}")
            return default
        return value

    def seconds(self, m: dict[Any, Any], key: str, path: DataPath, default: float, maximum: float) -> float:
        """A positive number of seconds, at most `maximum`."""
        value = m.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem((*path, key), f"expected a number of seconds for {key!r}, got {describe(value)}")
            return default
        if not 0 < value <= maximum:
            self.problem((*path, key), f"{key!r} must be more than 0 and at most {maximum:g} seconds, got {value}")
            return default
        return float(value)

    def boolean(self, m: dict[Any, Any], key: str, path: DataPath, default: bool) -> bool:
        value = m.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem((*path, key), f"expected true or false for {key!r}, got {describe(value)}")
            return default
        return value

    def template(self, value: Any, path: DataPath, key: str) -> Template | None:
        """A template string (a number or a boolean is taken as its text)."""
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, int | float):
            value = str(value)
        if not isinstance(value, str):
            self.problem(path, f"expected a string for {key!r}, got {describe(value)}")
            return None
        try:
            return compile_template(value)
        except TemplateSyntaxError as exc:
            self.problem(path, f"bad template at column {exc.column}: {exc.reason}")
            return None

    def value(self, value: Any, path: DataPath) -> ValueTemplate | None:
        """Plain data with templates in its strings."""
        try:
            return compile_value(value)
        except TemplateSyntaxError as exc:
            self.problem((*path, *exc.path), f"bad template at column {exc.column}: {exc.reason}")
            return None

    def values(self, m: dict[Any, Any], key: str, path: DataPath) -> dict[str, ValueTemplate]:
        """A mapping of names to values (task attributes, variables to set); empty when absent."""
        given = m.get(key)
        if given is None:
            return {}
        if not isinstance(given, dict):
            self.problem((*path, key), f"expected a mapping for {key!r}, got {describe(given)}")
            return {}
        result: dict[str, ValueTemplate] = {}
        for name, item in given.items():
            if not isinstance(name, str) or not name:
                self.problem((*path, key, name), f"expected a name for a key of {key!r}", at_key=True)
                continue
            compiled = self.value(item, (*path, key, name))
            if compiled is not None:
                result[name] = compiled
        return result

    def expression(self, value: Any, path: DataPath, key: str) -> Expression | None:
        if not isinstance(value, str) or not value.strip():
            self.problem(path, f"expected an expression (a string) for {key!r}, got {describe(value)}")
            return None
        try:
            return compile_expression(value, EXPRESSION_SCOPE)
        except ExpressionSyntaxError as exc:
            self.problem(path, f"bad expression at column {exc.column}: expected {exc.expected}, found {exc.found}")
            return None

    def known(self, name: str | None, path: DataPath, known: Collection[str], what: str) -> str | None:
        """`name` when it is one of `known` (a catalog's names); a problem naming a few that exist otherwise."""
        if name is None or name in known:
            return name
        self.problem(path, f"unknown {what} {name!r}; known: {some_of(known)}")
        return None


def read_say(r: Reader, catalog: Catalog, data: Any, path: DataPath) -> Say:
    """A `say` list: prompt names, `{text: ...}` (one text or one per language) and `{number: ..., unit: ...}`.
    One item alone is taken as a list of one."""
    items = data if isinstance(data, list) else [data]
    built: list[SayItem] = []
    for index, item in enumerate(items):
        at = (*path, index) if isinstance(data, list) else path
        if isinstance(item, str):
            name = r.known(item, at, catalog.prompts, "prompt")
            if name is not None:
                built.append(PromptItem(name))
        elif isinstance(item, dict) and "number" in item:
            r.mapping(item, at, "a number to say", ("number", "unit"))
            number = r.template(item["number"], (*at, "number"), "number")
            unit = r.choice(item, "unit", at, UNITS, "") or None
            if number is not None:
                built.append(NumberItem(number, unit))
        elif isinstance(item, dict):
            r.mapping(item, at, "a text to say", ("text",), required=("text",))
            text = _text(r, catalog, item.get("text"), (*at, "text"))
            if text is not None:
                built.append(TextItem(text))
        else:
            r.problem(at, f"expected a prompt name, {{text: ...}} or {{number: ...}} to say, got {describe(item)}")
    return Say(tuple(built))


def _text(r: Reader, catalog: Catalog, value: Any, path: DataPath) -> Template | dict[str, Template] | None:
    if not isinstance(value, dict):
        return r.template(value, path, "text") if value is not None else None
    texts: dict[str, Template] = {}
    for language, text in value.items():
        if r.known(language, (*path, language), catalog.languages, "language") is None:
            continue
        template = r.template(text, (*path, language), "text")
        if template is not None:
            texts[language] = template
    if not value:
        r.problem(path, "expected a text, or a mapping of language to text, got an empty mapping")
    return texts or None
