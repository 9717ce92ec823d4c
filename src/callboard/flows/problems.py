"""A problem found while building flows, schedules or numbers from plain data, located by its path.

`flows` does not read files: it is handed the loaded data and says where in it each problem is, as the tuple of
mapping keys and list indexes from the data it was given. The caller (`config/`) turns a path into
`file:line:col`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DataPath", "Problem"]

DataPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong and where: at the value of `path`, or at its key when `at_key` (an unknown key)."""

    path: DataPath
    message: str
    at_key: bool = False

    def __str__(self) -> str:
        where = ".".join(str(part) for part in self.path) or "(top)"
        return f"{where}: {self.message}"

    def under(self, prefix: DataPath) -> Problem:
        """The same problem seen from a document that holds this data at `prefix`."""
        return Problem((*prefix, *self.path), self.message, self.at_key)
