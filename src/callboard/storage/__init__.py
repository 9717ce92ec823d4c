"""Persistence: SQLAlchemy tables, the store the app reads and writes through, and Alembic migrations."""

from callboard.storage.store import Store

__all__ = ["Store"]
