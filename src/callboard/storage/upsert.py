"""Insert-or-update by primary key, in the dialect's own `INSERT ... ON CONFLICT` (SQLite and PostgreSQL)."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


def upsert(dialect: str, table: Table, *, keep: Iterable[str] = ()) -> Insert:
    """A statement that inserts rows or, on a primary key clash, overwrites every column but `keep`; built once
    per table (statements are immutable: building one costs more than running it on SQLite)."""
    return _upsert(dialect, table, tuple(keep))


@functools.cache
def _upsert(dialect: str, table: Table, keep: tuple[str, ...]) -> Insert:
    stmt: postgresql.Insert | sqlite.Insert
    stmt = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    key = {c.name for c in table.primary_key.columns} | set(keep)
    return stmt.on_conflict_do_update(
        index_elements=[c for c in table.primary_key.columns],
        set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in key},
    )
