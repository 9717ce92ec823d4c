"""Typed reads of loaded YAML data that collect positioned errors instead of stopping at the first one.

Each read takes the value and its path; on a problem it records a `ConfigError` at that value's (or key's)
position and returns `None` (or the default), so validation can go on and report everything at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from callboard.config.yaml_source import ConfigError, Path, Position, SourceMap
from callboard.flows.reader import describe

_MISSING: Any = object()


class Reader:
    """Reads typed values out of one loaded document; `errors` holds everything wrong so far."""

    def __init__(self, source: SourceMap) -> None:
        self.source = source
        self.errors: list[ConfigError] = []

    # -- recording ---------------------------------------------------------------------------------------

    def error(self, path: Path, message: str) -> None:
        self.errors.append(ConfigError.at(self.source.value(path), message))

    def error_at_key(self, path: Path, message: str) -> None:
        self.errors.append(ConfigError.at(self.source.key(path), message))

    def error_at(self, position: Position, message: str) -> None:
        self.errors.append(ConfigError.at(position, message))

    # -- containers --------------------------------------------------------------------------------------

    def mapping(
        self,
        value: Any,
        path: Path,
        what: str,
        keys: Sequence[str],
        required: Iterable[str] = (),
    ) -> dict[str, Any] | None:
        """A mapping with only `keys`, all of `required` present. Unknown keys are reported at the key."""
        if not isinstance(value, dict):
            self.error(path, f"expected a mapping for {what}, got {describe(value)}")
            return None
        for key in value:
            if key not in keys:
                self.error_at_key((*path, key), f"unknown key {key!r} in {what}; expected one of: {', '.join(keys)}")
        for key in required:
            if key not in value:
                self.error(path, f"missing required key {key!r} in {what}")
        return value

    def sequence(self, container: dict[str, Any], key: str, path: Path) -> list[Any]:
        """An optional list under `key` (empty when absent)."""
        value = container.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            self.error((*path, key), f"expected a list for {key!r}, got {describe(value)}")
            return []
        return value

    # -- scalars -----------------------------------------------------------------------------------------

    def string(self, container: dict[str, Any], key: str, path: Path, default: Any = _MISSING) -> str | None:
        """A non-empty string (or `default`, which may be None, when the key is absent or null)."""
        value = container.get(key, _MISSING)
        if value is _MISSING or (value is None and default is not _MISSING):
            return None if default is _MISSING else default
        if not isinstance(value, str):
            self.error((*path, key), f"expected a string for {key!r}, got {describe(value)}")
            return None
        if not value.strip():
            self.error((*path, key), f"{key!r} must not be empty")
            return None
        return value

    def integer(
        self,
        container: dict[str, Any],
        key: str,
        path: Path,
        default: Any = _MISSING,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int | None:
        """A whole number within [minimum, maximum] (or `default` when absent or null)."""
        value = container.get(key, _MISSING)
        if value is _MISSING or (value is None and default is not _MISSING):
            return None if default is _MISSING else default
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.error((*path, key), f"expected a whole number for {key!r}, got {describe(value)}")
            return None
        if minimum is not None and value < minimum:
            if minimum == 0:
                self.error((*path, key), f"{key!r} must not be negative, got {value}")
            else:
                self.error((*path, key), f"{key!r} must be at least {minimum}, got {value}")
            return None
        if maximum is not None and value > maximum:
            self.error((*path, key), f"{key!r} must be at most {maximum}, got {value}")
            return None
        return value

    def boolean(self, container: dict[str, Any], key: str, path: Path, default: bool) -> bool:
        value = container.get(key, default)
        if not isinstance(value, bool):
            self.error((*path, key), f"expected true or false for {key!r}, got {describe(value)}")
            return default
        return value

    def choice(
        self, container: dict[str, Any], key: str, path: Path, choices: Sequence[str], default: Any = _MISSING
    ) -> str | None:
        value = self.string(container, key, path, default)
        if value is not None and value not in choices:
            self.error((*path, key), f"{key!r} must be one of: {', '.join(choices)}; got {value!r}")
            return None
        return value

    def json_mapping(self, container: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
        """An optional free-form mapping (empty when absent) holding only JSON-compatible data."""
        value = container.get(key, {})
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error((*path, key), f"expected a mapping for {key!r}, got {describe(value)}")
            return {}
        self.json_value(value, (*path, key))
        return value

    def json_value(self, value: Any, path: Path) -> None:
        """Report data that JSON cannot hold (dates, non-string keys) so it can be stored as is."""
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    self.error_at_key((*path, key), f"expected a string key, got {describe(key)}")
                self.json_value(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.json_value(item, (*path, index))
        elif value is not None and not isinstance(value, str | int | float | bool):
            self.error(path, f"expected a string, number, boolean, list or mapping, got {describe(value)}")


def check_unique(reader: Reader, items: Iterable[tuple[str | None, Path]], what: str) -> list[str]:
    """Report repeated names; `items` are (name, path of the name) pairs. Returns the names, in order."""
    first: dict[str, Position] = {}
    for name, path in items:
        if name is None:
            continue
        if name in first:
            earlier = first[name]
            reader.error(path, f"duplicate {what} {name!r} (first defined at line {earlier.line})")
        else:
            first[name] = reader.source.value(path)
    return list(first)


class DataReader(Reader):
    """A `Reader` over plain data with no file behind it (an API request body): each problem is kept at its
    data path, which is what an API error reports, instead of at a line and column."""

    def __init__(self) -> None:
        super().__init__(SourceMap("body"))
        self.problems: list[tuple[Path, str]] = []

    def error(self, path: Path, message: str) -> None:
        self.problems.append((path, message))

    def error_at_key(self, path: Path, message: str) -> None:
        self.problems.append((path, message))
