"""The initial schema: workspaces, routing records, the event log, users and their credentials.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Types are spelled out here, not imported from tables.py: a revision is frozen once released.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

ROUTING_TABLES: dict[str, list[tuple[str, Any, bool]]] = {
    "activities": [("friendly_name", sa.Text, False), ("available", sa.Boolean, False)],
    "task_channels": [("unique_name", sa.Text, False), ("friendly_name", sa.Text, False)],
    "workers": [("friendly_name", sa.Text, False), ("activity_sid", sa.Text, True)],
    "task_queues": [("friendly_name", sa.Text, False)],
    "workflows": [("friendly_name", sa.Text, False)],
    "tasks": [
        ("workflow_sid", sa.Text, True),
        ("task_queue_sid", sa.Text, True),
        ("worker_sid", sa.Text, True),
        ("assignment_status", sa.Text, False),
        ("task_channel", sa.Text, True),
        ("priority", sa.Integer, False),
    ],
    "reservations": [
        ("task_sid", sa.Text, False),
        ("worker_sid", sa.Text, False),
        ("reservation_status", sa.Text, False),
    ],
}

ROUTING_INDEXES: dict[str, list[tuple[str, ...]]] = {
    "activities": [("workspace_sid", "friendly_name")],
    "task_channels": [("workspace_sid", "unique_name")],
    "workers": [("workspace_sid", "friendly_name"), ("workspace_sid", "activity_sid")],
    "task_queues": [("workspace_sid", "friendly_name")],
    "workflows": [("workspace_sid", "friendly_name")],
    "tasks": [
        ("workspace_sid", "assignment_status"),
        ("workspace_sid", "task_queue_sid"),
        ("workspace_sid", "worker_sid"),
        ("workspace_sid", "date_created"),
    ],
    "reservations": [
        ("workspace_sid", "reservation_status"),
        ("workspace_sid", "task_sid"),
        ("workspace_sid", "worker_sid"),
        ("workspace_sid", "date_created"),
    ],
}


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("sid", sa.Text, nullable=False),
        sa.Column("friendly_name", sa.Text, nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("date_created", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("sid", name="pk_workspaces"),
        sa.UniqueConstraint("friendly_name", name="uq_workspaces_friendly_name"),
    )
    for name, columns in ROUTING_TABLES.items():
        op.create_table(
            name,
            sa.Column("sid", sa.Text, nullable=False),
            sa.Column("workspace_sid", sa.Text, nullable=False),
            *(sa.Column(column, type_, nullable=nullable) for column, type_, nullable in columns),
            sa.Column("date_created", sa.Double, nullable=False),
            sa.Column("date_updated", sa.Double, nullable=False),
            sa.Column("data", JSON, nullable=False),
            sa.PrimaryKeyConstraint("sid", name=f"pk_{name}"),
            sa.ForeignKeyConstraint(
                ["workspace_sid"], ["workspaces.sid"], name=f"fk_{name}_workspace_sid_workspaces", ondelete="CASCADE"
            ),
        )
        for index in ROUTING_INDEXES[name]:
            op.create_index(f"ix_{name}_{'_'.join(index)}", name, list(index))

    op.create_table(
        "events",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("workspace_sid", sa.Text, nullable=True),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("resource_type", sa.Text, nullable=False),
        sa.Column("resource_sid", sa.Text, nullable=False),
        sa.Column("timestamp", sa.Double, nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_workspace_sid_timestamp", "events", ["workspace_sid", "timestamp"])
    op.create_index("ix_events_workspace_sid_id", "events", ["workspace_sid", "id"])

    op.create_table(
        "users",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("workspace_sid", sa.Text, nullable=True),
        sa.Column("worker_sid", sa.Text, nullable=True),
        sa.Column("date_created", sa.Double, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.Text, nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Double, nullable=False),
        sa.Column("csrf_token", sa.Text, nullable=False),
        sa.Column("date_created", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_sessions"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_sessions_user_id_users", ondelete="CASCADE"),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_index("ix_sessions_expires_at", "sessions", ["expires_at"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("token_hash", sa.Text, nullable=False),
        sa.Column("date_created", sa.Double, nullable=False),
        sa.Column("last_used", sa.Double, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_api_tokens_user_id_users", ondelete="CASCADE"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "login_attempts",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("timestamp", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_attempts"),
    )
    op.create_index("ix_login_attempts_key_timestamp", "login_attempts", ["key", "timestamp"])


def downgrade() -> None:
    for name in ("login_attempts", "api_tokens", "sessions", "users", "events", *reversed(ROUTING_TABLES)):
        op.drop_table(name)
    op.drop_table("workspaces")
