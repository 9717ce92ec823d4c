"""YAML loading with positions: every value and key located, syntax errors and duplicate keys reported."""

from __future__ import annotations

import pytest

from callboard.config.yaml_source import Position, YamlSourceError, load_yaml

TEXT = """\
name: demo
items:
  - {a: 1, b: [x, y]}
  - plain text here
quoted:
  single: 'it''s here'
  double: "say \\"hi\\" now"
folded: >-
  first line
  second line
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(YamlSourceError) as info:
        load_yaml(text, "f.yaml")
    return [str(e) for e in info.value.errors]


def test_data_is_plain_python() -> None:
    data, _ = load_yaml(TEXT, "f.yaml")
    assert data == {
        "name": "demo",
        "items": [{"a": 1, "b": ["x", "y"]}, "plain text here"],
        "quoted": {"single": "it's here", "double": 'say "hi" now'},
        "folded": "first line second line",
    }


def test_values_and_keys_have_positions() -> None:
    _, source = load_yaml(TEXT, "f.yaml")
    assert source.value(("name",)) == Position("f.yaml", 1, 7)
    assert source.key(("name",)) == Position("f.yaml", 1, 1)
    assert source.value(("items", 0)) == Position("f.yaml", 3, 5)
    assert source.value(("items", 0, "b", 1)) == Position("f.yaml", 3, 19)
    assert source.key(("items", 0, "b")) == Position("f.yaml", 3, 12)
    assert str(source.value(("items", 1))) == "f.yaml:4:5"


def test_missing_path_falls_back_to_nearest_parent() -> None:
    _, source = load_yaml(TEXT, "f.yaml")
    assert source.value(("items", 0, "missing", 3)) == Position("f.yaml", 3, 5)
    assert source.key(("items", 0, "missing")) == Position("f.yaml", 3, 5)


def test_offsets_inside_scalars() -> None:
    _, source = load_yaml(TEXT, "f.yaml")
    assert source.inside(("items", 1), 6) == Position("f.yaml", 4, 11)  # "text"
    assert source.inside(("quoted", "single"), 5) == Position("f.yaml", 6, 18)  # "here", after ''
    assert source.inside(("quoted", "double"), 9) == Position("f.yaml", 7, 23)  # "now", after \"
    assert source.inside(("folded",), 11) == Position("f.yaml", 10, 3)  # "second"


def test_duplicate_keys_are_errors() -> None:
    assert errors_of("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n") == [
        "f.yaml:4:3: duplicate key 'c' (first used at line 3, column 3)",
        "f.yaml:5:1: duplicate key 'a' (first used at line 1, column 1)",
    ]


def test_syntax_error_says_what_was_expected() -> None:
    assert errors_of("a: [1, 2\nb: 3\n") == [
        "f.yaml:2:2: expected ',' or ']', but got ':' (while parsing a flow sequence at line 1, column 4)"
    ]


def test_bad_indentation() -> None:
    assert errors_of("a:\n  - b\n c: 1\n") == [
        "f.yaml:3:2: expected <block end>, but found '<block mapping start>'"
        " (while parsing a block mapping at line 1, column 1)"
    ]


def test_unknown_tag_and_complex_key() -> None:
    assert errors_of("a: !thing 1\n? [x]\n: 2\n") == [
        "f.yaml:1:4: could not determine a constructor for the tag '!thing'",
        "f.yaml:2:3: a mapping key must be a plain value",
    ]


def test_merge_keys_fill_in_without_overriding() -> None:
    data, source = load_yaml("base: &b {x: 1, y: 2}\nitem:\n  <<: *b\n  y: 3\n", "f.yaml")
    assert data["item"] == {"x": 1, "y": 3}
    assert source.value(("item", "x")) == Position("f.yaml", 1, 14)


def test_empty_document() -> None:
    assert load_yaml("# nothing\n", "f.yaml")[0] is None
