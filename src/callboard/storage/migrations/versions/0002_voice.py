"""Voice: the call records, the SIP registrar's bindings, and users' SIP digest credentials.

Revision ID: 0002
Revises: 0001
Create Date: 2026-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Spelled out here, not imported from tables.py: a revision is frozen once released.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

SIP_CREDENTIALS = ("sip_realm", "sip_ha1_md5", "sip_ha1_sha256")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        for name in SIP_CREDENTIALS:
            batch.add_column(sa.Column(name, sa.Text, nullable=True))

    op.create_table(
        "calls",
        sa.Column("sid", sa.Text, nullable=False),
        sa.Column("workspace_sid", sa.Text, nullable=False),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("caller", sa.Text, nullable=False),
        sa.Column("called", sa.Text, nullable=False),
        sa.Column("from_uri", sa.Text, nullable=False),
        sa.Column("to_uri", sa.Text, nullable=False),
        sa.Column("task_sid", sa.Text, nullable=True),
        sa.Column("queue_sid", sa.Text, nullable=True),
        sa.Column("worker_sid", sa.Text, nullable=True),
        sa.Column("agent_contact", sa.Text, nullable=True),
        sa.Column("started_at", sa.Double, nullable=False),
        sa.Column("answered_at", sa.Double, nullable=True),
        sa.Column("enqueued_at", sa.Double, nullable=True),
        sa.Column("agent_answered_at", sa.Double, nullable=True),
        sa.Column("ended_at", sa.Double, nullable=True),
        sa.Column("wait_seconds", sa.Double, nullable=False),
        sa.Column("talk_seconds", sa.Double, nullable=False),
        sa.Column("hold_seconds", sa.Double, nullable=False),
        sa.Column("outcome", sa.Text, nullable=True),
        sa.Column("hangup_cause", sa.Text, nullable=True),
        sa.Column("hangup_by", sa.Text, nullable=True),
        sa.Column("recording_path", sa.Text, nullable=True),
        sa.Column("attributes", JSON, nullable=False),
        sa.PrimaryKeyConstraint("sid", name="pk_calls"),
        sa.ForeignKeyConstraint(
            ["workspace_sid"], ["workspaces.sid"], name="fk_calls_workspace_sid_workspaces", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_calls_workspace_sid_started_at", "calls", ["workspace_sid", "started_at"])
    op.create_index(
        "ix_calls_workspace_sid_queue_sid_started_at", "calls", ["workspace_sid", "queue_sid", "started_at"]
    )
    op.create_index(
        "ix_calls_workspace_sid_worker_sid_started_at", "calls", ["workspace_sid", "worker_sid", "started_at"]
    )

    op.create_table(
        "sip_bindings",
        sa.Column("aor", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("record", JSON, nullable=False),
        sa.PrimaryKeyConstraint("aor", "key", name="pk_sip_bindings"),
    )


def downgrade() -> None:
    op.drop_table("sip_bindings")
    op.drop_table("calls")
    with op.batch_alter_table("users") as batch:
        for name in reversed(SIP_CREDENTIALS):
            batch.drop_column(name)
