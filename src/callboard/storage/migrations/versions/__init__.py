"""Alembic revisions, applied in order."""
