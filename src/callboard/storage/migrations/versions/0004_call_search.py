"""Call search by number in the store: each call's caller and called digits, reversed, so that "the number ends
with these digits" is a prefix search an index serves.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_BATCH = 1000


def _reversed_digits(number: str | None) -> str:
    """Spelled out here, not imported: a revision is frozen once released."""
    return "".join(c for c in number or "" if c.isdigit()).lstrip("0")[::-1]


def upgrade() -> None:
    op.add_column("calls", sa.Column("caller_digits", sa.Text, nullable=False, server_default=""))
    op.add_column("calls", sa.Column("called_digits", sa.Text, nullable=False, server_default=""))
    calls = sa.table(
        "calls",
        sa.column("sid", sa.Text),
        sa.column("caller", sa.Text),
        sa.column("called", sa.Text),
        sa.column("caller_digits", sa.Text),
        sa.column("called_digits", sa.Text),
    )
    connection = op.get_bind()
    after = ""
    while True:
        rows = connection.execute(
            sa.select(calls.c.sid, calls.c.caller, calls.c.called)
            .where(calls.c.sid > after)
            .order_by(calls.c.sid)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        connection.execute(
            calls.update().where(calls.c.sid == sa.bindparam("row_sid")),
            [
                {"row_sid": sid, "caller_digits": _reversed_digits(caller), "called_digits": _reversed_digits(called)}
                for sid, caller, called in rows
            ],
        )
        after = rows[-1][0]
    op.create_index("ix_calls_workspace_sid_caller_digits", "calls", ["workspace_sid", "caller_digits"])
    op.create_index("ix_calls_workspace_sid_called_digits", "calls", ["workspace_sid", "called_digits"])


def downgrade() -> None:
    op.drop_index("ix_calls_workspace_sid_called_digits", "calls")
    op.drop_index("ix_calls_workspace_sid_caller_digits", "calls")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("called_digits")
        batch.drop_column("caller_digits")
