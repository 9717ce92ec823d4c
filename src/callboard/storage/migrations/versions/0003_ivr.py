"""IVR: flow versions, schedules and waiting options, numbers, prompts, emergency closures, CRM contacts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-03-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Spelled out here, not imported from tables.py: a revision is frozen once released. Bodies are json, not
# jsonb, on PostgreSQL: json keeps their keys in order.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
DOCUMENT = sa.JSON()


def _workspace_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_sid"], ["workspaces.sid"], name=f"fk_{table}_workspace_sid_workspaces", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "flow_versions",
        sa.Column("workspace_sid", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("definition", DOCUMENT, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("workspace_sid", "name", "version", name="pk_flow_versions"),
        _workspace_fk("flow_versions"),
    )
    op.create_table(
        "ivr_documents",
        sa.Column("workspace_sid", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("body", DOCUMENT, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("workspace_sid", "kind", "name", name="pk_ivr_documents"),
        _workspace_fk("ivr_documents"),
    )
    op.create_table(
        "numbers",
        sa.Column("e164", sa.Text, nullable=False),
        sa.Column("workspace_sid", sa.Text, nullable=False),
        sa.Column("body", DOCUMENT, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("e164", name="pk_numbers"),
        _workspace_fk("numbers"),
    )
    op.create_index("ix_numbers_workspace_sid", "numbers", ["workspace_sid"])
    op.create_table(
        "prompts",
        sa.Column("workspace_sid", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=True),
        sa.Column("voice", sa.Text, nullable=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("audio", sa.LargeBinary, nullable=True),
        sa.Column("seconds", sa.Double, nullable=True),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("workspace_sid", "name", "language", name="pk_prompts"),
        _workspace_fk("prompts"),
    )
    op.create_table(
        "closures",
        sa.Column("workspace_sid", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("prompt", sa.Text, nullable=True),
        sa.Column("text", sa.Text, nullable=True),
        sa.Column("closed_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("workspace_sid", "scope", "target", name="pk_closures"),
        _workspace_fk("closures"),
    )
    op.create_table(
        "contacts",
        sa.Column("sid", sa.Text, nullable=False),
        sa.Column("workspace_sid", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("numbers", JSON, nullable=False),
        sa.Column("vip", sa.Boolean, nullable=False),
        sa.Column("manager", sa.Text, nullable=True),
        sa.Column("language", sa.Text, nullable=True),
        sa.Column("attributes", DOCUMENT, nullable=False),
        sa.Column("date_created", sa.Double, nullable=False),
        sa.Column("date_updated", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("sid", name="pk_contacts"),
        _workspace_fk("contacts"),
    )
    op.create_index("ix_contacts_workspace_sid_name", "contacts", ["workspace_sid", "name"])
    op.create_table(
        "contact_numbers",
        sa.Column("workspace_sid", sa.Text, nullable=False),
        sa.Column("e164", sa.Text, nullable=False),
        sa.Column("contact_sid", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("workspace_sid", "e164", name="pk_contact_numbers"),
        _workspace_fk("contact_numbers"),
        sa.ForeignKeyConstraint(
            ["contact_sid"], ["contacts.sid"], name="fk_contact_numbers_contact_sid_contacts", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_contact_numbers_contact_sid", "contact_numbers", ["contact_sid"])


def downgrade() -> None:
    for name in ("contact_numbers", "contacts", "closures", "prompts", "numbers", "ivr_documents", "flow_versions"):
        op.drop_table(name)
