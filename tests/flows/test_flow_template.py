"""`{{ path }}` templates: paths, typed lone placeholders, text rendering and syntax errors with columns."""

from __future__ import annotations

from typing import Any

import pytest

from callboard.flows.template import (
    PathSyntaxError,
    TemplateSyntaxError,
    compile_template,
    compile_value,
    lookup,
    parse_path,
)

VARIABLES: dict[str, Any] = {
    "caller": "+34600000001",
    "position": 3,
    "contact": {"name": "Ana", "vip": True, "tags": ["a", "b"], "manager": None},
    "items": [{"id": "A-1"}, {"id": "A-2"}],
}


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("caller", ("caller",)),
        ("contact.name", ("contact", "name")),
        ("items[1].id", ("items", 1, "id")),
        ("items.1.id", ("items", 1, "id")),
        ("a-b.c_d[0][2]", ("a-b", "c_d", 0, 2)),
    ],
)
def test_paths_parse_into_names_and_indexes(text: str, segments: tuple[str | int, ...]) -> None:
    assert parse_path(text) == segments


@pytest.mark.parametrize(("text", "column"), [("", 1), ("a..b", 3), ("a.b c", 4), ("1abc", 1), ("a[x]", 2)])
def test_bad_paths_say_where(text: str, column: int) -> None:
    with pytest.raises(PathSyntaxError) as caught:
        parse_path(text)
    assert caught.value.column == column


def test_lookup_walks_mappings_and_lists_and_gives_none_for_what_is_missing() -> None:
    assert lookup(VARIABLES, ("items", 1, "id")) == "A-2"
    assert lookup(VARIABLES, ("items", 5, "id")) is None
    assert lookup(VARIABLES, ("contact", "name", "first")) is None
    assert lookup({"m": {"0": "zero"}}, ("m", 0)) == "zero"


def test_a_lone_placeholder_keeps_the_type_and_text_renders_it() -> None:
    assert compile_template("{{ contact.vip }}").render(VARIABLES) is True
    assert compile_template("{{position}}").render(VARIABLES) == 3
    assert compile_template("{{ contact.tags }}").render(VARIABLES) == ["a", "b"]
    assert compile_template("{{ contact.missing }}").render(VARIABLES) is None
    assert compile_template("vip={{ contact.vip }} pos={{ position }}").render(VARIABLES) == "vip=true pos=3"
    assert compile_template("Hi {{ contact.name }}{{ nobody }}!").render(VARIABLES) == "Hi Ana!"
    assert compile_template(" {{ position }}").render(VARIABLES) == " 3"  # not alone: text


def test_text_without_placeholders_is_constant() -> None:
    template = compile_template("sales } and {")
    assert template.is_constant and template.render(VARIABLES) == "sales } and {"
    assert not compile_template("x {{ y }}").is_constant


@pytest.mark.parametrize(
    ("source", "column", "reason"),
    [
        ("Hi {{ contact.name", 4, "never closed"),
        ("{{ }}", 1, "variable name"),
        ("ok {{ a..b }}", 9, "bad path 'a..b'"),
    ],
)
def test_template_errors_carry_the_column(source: str, column: int, reason: str) -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template(source)
    assert caught.value.column == column
    assert reason in caught.value.reason


def test_value_templates_render_nested_data_and_locate_errors() -> None:
    value = compile_value({"who": "{{ caller }}", "vip": "{{ contact.vip }}", "n": 2, "list": ["{{ position }}", "x"]})
    assert value.render(VARIABLES) == {"who": "+34600000001", "vip": True, "n": 2, "list": [3, "x"]}
    with pytest.raises(TemplateSyntaxError) as caught:
        compile_value({"a": {"b": ["ok", "{{ broken"]}})
    assert caught.value.path == ("a", "b", 1)
