"""YAML loaded into plain Python data, with the file position of every key and value kept on the side.

`load_yaml(text, filename)` returns the data (dicts, lists, str, int, float, bool, None, as PyYAML's safe
loader resolves them) and a `SourceMap` that answers "where in the file is the value at this path?",
where a path is the tuple of mapping keys and list indexes from the document root. Positions are 1-based
lines and columns, so any message about a value can be printed as `file:line:col: message`.

Syntax errors and duplicate keys raise `YamlSourceError`, which carries positioned `ConfigError`s.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

PathKey = str | int
Path = tuple[PathKey, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


@dataclass(frozen=True, order=True)
class Position:
    """A place in a file: 1-based line and column (in characters)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, order=True)
class ConfigError:
    """One problem found in a configuration file, printed as `file:line:col: message`."""

    file: str
    line: int
    col: int
    message: str

    @classmethod
    def at(cls, position: Position, message: str) -> ConfigError:
        return cls(position.file, position.line, position.col, message)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class YamlSourceError(ValueError):
    """The text is not valid YAML, or a mapping repeats a key.

    For repeated keys the rest of the document still loads (the first occurrence wins), and `loaded` holds
    it with its source map, so a caller can go on checking it; for syntax errors `loaded` is None.
    """

    def __init__(self, errors: list[ConfigError], loaded: tuple[Any, SourceMap] | None = None) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors
        self.loaded = loaded


@dataclass(frozen=True)
class _Scalar:
    """What is needed to find a character inside a scalar: where it starts, its style, its raw text."""

    start: Position
    style: str | None  # None (plain), "'", '"', "|", ">"
    raw: str


@dataclass
class SourceMap:
    """Positions of the values (and of the mapping keys) of one loaded document, by path."""

    file: str
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)
    _scalars: dict[Path, _Scalar] = field(default_factory=dict)

    def value(self, path: Path) -> Position:
        """Where the value at `path` starts; for a path that does not exist, its nearest existing parent."""
        for prefix in _prefixes(path):
            if prefix in self.values:
                return self.values[prefix]
        return Position(self.file, 1, 1)

    def key(self, path: Path) -> Position:
        """Where the mapping key of the entry at `path` is written (the value's position for list items)."""
        if path in self.keys:
            return self.keys[path]
        return self.value(path)

    def inside(self, path: Path, offset: int) -> Position:
        """The position of character `offset` (0-based) of the string value at `path`.

        Exact for single-line plain and quoted scalars, best effort for multi-line and block scalars.
        """
        scalar = self._scalars.get(path)
        if scalar is None:
            return self.value(path)
        line, col = _locate(scalar, max(offset, 0))
        return Position(self.file, line, col)


def _prefixes(path: Path) -> Iterator[Path]:
    for end in range(len(path), -1, -1):
        yield path[:end]


def load_yaml(text: str, filename: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document into plain data and its `SourceMap`; raise `YamlSourceError` if invalid."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise YamlSourceError([_syntax_error(exc, filename)]) from None
    except yaml.YAMLError as exc:  # a reader error (e.g. a control character) has no problem_mark
        raise YamlSourceError([ConfigError(filename, 1, 1, str(exc))]) from None
    source = SourceMap(filename)
    if root is None:
        return None, source
    builder = _Builder(text, source)
    data = builder.build(root, ())
    if builder.errors:
        raise YamlSourceError(sorted(builder.errors), (data, source))
    return data, source


def _syntax_error(exc: yaml.MarkedYAMLError, filename: str) -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    message = exc.problem or exc.context or "invalid YAML"
    if exc.problem and exc.context:
        message = f"{exc.problem} ({exc.context}"
        if exc.context_mark is not None:
            message += f" at line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1}"
        message += ")"
    return ConfigError(filename, line, col, message)


class _Builder:
    """Turns composed nodes into plain data, filling the source map and collecting duplicate keys."""

    def __init__(self, text: str, source: SourceMap) -> None:
        self.text = text
        self.source = source
        self.errors: list[ConfigError] = []
        self.constructor = yaml.SafeLoader("")
        self.active: set[int] = set()

    def position(self, node: Node) -> Position:
        return Position(self.source.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: Node, path: Path) -> Any:
        self.source.values[path] = self.position(node)
        if isinstance(node, ScalarNode):
            raw = self.text[node.start_mark.index : node.end_mark.index]
            self.source._scalars[path] = _Scalar(self.position(node), node.style, raw)
            return self.construct(node)
        if node.tag not in (_MAP_TAG, _SEQ_TAG):
            self.errors.append(ConfigError.at(self.position(node), f"unsupported YAML tag {node.tag!r}"))
            return None
        if id(node) in self.active:
            self.errors.append(ConfigError.at(self.position(node), "recursive alias"))
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self.build_mapping(node, path)
        finally:
            self.active.discard(id(node))
        raise AssertionError(f"unexpected YAML node {node!r}")

    def build_mapping(self, node: MappingNode, path: Path) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        first_seen: dict[Any, Position] = {}
        merged: list[MappingNode] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.extend(self.merge_sources(value_node))
                continue
            key = self.key(key_node)
            if key is None:
                continue
            key_position = self.position(key_node)
            if key in first_seen:
                earlier = first_seen[key]
                self.errors.append(
                    ConfigError.at(
                        key_position,
                        f"duplicate key {key!r} (first used at line {earlier.line}, column {earlier.col})",
                    )
                )
                continue
            first_seen[key] = key_position
            self.source.keys[(*path, key)] = key_position
            result[key] = self.build(value_node, (*path, key))
        # Merge keys (`<<: *defaults`) fill in only what the mapping does not set itself.
        for source_node in merged:
            for key_node, value_node in source_node.value:
                key = self.key(key_node)
                if key is None or key in result:
                    continue
                self.source.keys[(*path, key)] = self.position(key_node)
                result[key] = self.build(value_node, (*path, key))
        return result

    def merge_sources(self, node: Node) -> list[MappingNode]:
        if isinstance(node, MappingNode):
            return [node]
        if isinstance(node, SequenceNode) and all(isinstance(n, MappingNode) for n in node.value):
            return list(node.value)
        self.errors.append(ConfigError.at(self.position(node), "a merge key '<<' needs a mapping or a list of them"))
        return []

    def key(self, node: Node) -> Any:
        if not isinstance(node, ScalarNode):
            self.errors.append(ConfigError.at(self.position(node), "a mapping key must be a plain value"))
            return None
        return self.construct(node)

    def construct(self, node: ScalarNode) -> Any:
        try:
            return self.constructor.construct_object(node)
        except yaml.MarkedYAMLError as exc:
            self.errors.append(_syntax_error(exc, self.source.file))
            return None


def _locate(scalar: _Scalar, offset: int) -> tuple[int, int]:
    """Map a character offset in a scalar's value to a (line, col) in the file."""
    raw, style = scalar.raw, scalar.style
    if style in ("|", ">"):
        return _locate_block(scalar, offset)
    if style in ("'", '"'):
        begin, body = 1, raw[1:-1] if len(raw) >= 2 else raw
    else:
        begin, body = 0, raw
    index = _raw_index(body, style, offset) + begin
    before = raw[:index]
    newlines = before.count("\n")
    if newlines == 0:
        return scalar.start.line, scalar.start.col + index
    return scalar.start.line + newlines, index - before.rfind("\n")


def _raw_index(body: str, style: str | None, offset: int) -> int:
    """Walk the raw text of a flow scalar, counting the characters of the value it stands for."""
    i = produced = 0
    while i < len(body) and produced < offset:
        char = body[i]
        if char == "\n" or (char in " \t" and "\n" in body[i : _next_non_blank(body, i)]):
            # A line break and the blanks around it fold into one character of the value.
            i = _next_non_blank(body, i)
            produced += 1
            continue
        if style == "'" and body.startswith("''", i):
            i += 2
        elif style == '"' and char == "\\":
            i += _escape_length(body, i)
        else:
            i += 1
        produced += 1
    return i


def _next_non_blank(body: str, i: int) -> int:
    while i < len(body) and body[i] in " \t\r\n":
        i += 1
    return i


def _escape_length(body: str, i: int) -> int:
    code = body[i + 1 : i + 2]
    return {"x": 4, "u": 6, "U": 10}.get(code, 2)


def _locate_block(scalar: _Scalar, offset: int) -> tuple[int, int]:
    """Best effort for `|` and `>` scalars: content lines follow the header line, equally indented."""
    raw_lines = scalar.raw.split("\n")[1:]
    indents = [len(line) - len(line.lstrip(" ")) for line in raw_lines if line.strip()]
    indent = min(indents) if indents else 0
    remaining = offset
    for number, line in enumerate(raw_lines, start=1):
        content = line[indent:]
        if remaining <= len(content):
            return scalar.start.line + number, indent + remaining + 1
        remaining -= len(content) + 1
    return scalar.start.line, scalar.start.col
