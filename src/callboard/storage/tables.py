"""The SQL tables. Each routing table keeps the full record in `data` and copies the fields it is queried by.

`migrations/versions` must create exactly these tables; `tests/storage/test_migrations.py` checks it.
Timestamps are epoch seconds as floats, as the engine keeps them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeEngine

# Deterministic constraint names, so later migrations can name what they alter on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

Json: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")
# SQLite only autoincrements an INTEGER PRIMARY KEY.
Serial: TypeEngine[int] = BigInteger().with_variant(Integer(), "sqlite")


def _workspace_fk() -> Column[str]:
    return Column("workspace_sid", Text, ForeignKey("workspaces.sid", ondelete="CASCADE"), nullable=False)


def _routing_table(name: str, *columns: Column[object], indexes: tuple[tuple[str, ...], ...]) -> Table:
    table = Table(
        name,
        metadata,
        Column("sid", Text, primary_key=True),
        _workspace_fk(),
        *columns,
        Column("date_created", Double, nullable=False),
        Column("date_updated", Double, nullable=False),
        Column("data", Json, nullable=False),
    )
    for cols in indexes:
        Index(f"ix_{name}_{'_'.join(cols)}", *(table.c[c] for c in cols))
    return table


workspaces = Table(
    "workspaces",
    metadata,
    Column("sid", Text, primary_key=True),
    Column("friendly_name", Text, nullable=False, unique=True),
    Column("data", Json, nullable=False),
    Column("date_created", Double, nullable=False),
)

activities = _routing_table(
    "activities",
    Column("friendly_name", Text, nullable=False),
    Column("available", Boolean, nullable=False),
    indexes=(("workspace_sid", "friendly_name"),),
)

task_channels = _routing_table(
    "task_channels",
    Column("unique_name", Text, nullable=False),
    Column("friendly_name", Text, nullable=False),
    indexes=(("workspace_sid", "unique_name"),),
)

workers = _routing_table(
    "workers",
    Column("friendly_name", Text, nullable=False),
    Column("activity_sid", Text, nullable=True),
    indexes=(("workspace_sid", "friendly_name"), ("workspace_sid", "activity_sid")),
)

task_queues = _routing_table(
    "task_queues",
    Column("friendly_name", Text, nullable=False),
    indexes=(("workspace_sid", "friendly_name"),),
)

workflows = _routing_table(
    "workflows",
    Column("friendly_name", Text, nullable=False),
    indexes=(("workspace_sid", "friendly_name"),),
)

tasks = _routing_table(
    "tasks",
    Column("workflow_sid", Text, nullable=True),
    Column("task_queue_sid", Text, nullable=True),
    Column("worker_sid", Text, nullable=True),
    Column("assignment_status", Text, nullable=False),
    Column("task_channel", Text, nullable=True),
    Column("priority", Integer, nullable=False),
    indexes=(
        ("workspace_sid", "assignment_status"),
        ("workspace_sid", "task_queue_sid"),
        ("workspace_sid", "worker_sid"),
        ("workspace_sid", "date_created"),
    ),
)

reservations = _routing_table(
    "reservations",
    Column("task_sid", Text, nullable=False),
    Column("worker_sid", Text, nullable=False),
    Column("reservation_status", Text, nullable=False),
    indexes=(
        ("workspace_sid", "reservation_status"),
        ("workspace_sid", "task_sid"),
        ("workspace_sid", "worker_sid"),
        ("workspace_sid", "date_created"),
    ),
)

# No foreign key on workspace_sid: the log outlives what it describes.
events = Table(
    "events",
    metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    Column("workspace_sid", Text, nullable=True),
    Column("event_type", Text, nullable=False),
    Column("resource_type", Text, nullable=False),
    Column("resource_sid", Text, nullable=False),
    Column("timestamp", Double, nullable=False),
    Column("data", Json, nullable=False),
    Index("ix_events_workspace_sid_timestamp", "workspace_sid", "timestamp"),
    Index("ix_events_workspace_sid_id", "workspace_sid", "id"),
)

# workspace_sid has no foreign key either: deleting a workspace must not turn its users into global ones.
users = Table(
    "users",
    metadata,
    Column("id", Text, primary_key=True),
    Column("username", Text, nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("workspace_sid", Text, nullable=True),
    Column("worker_sid", Text, nullable=True),
    Column("date_created", Double, nullable=False),
    Column("disabled", Boolean, nullable=False),
    # SIP digest credentials (RFC 7616): H(username:realm:password) per algorithm, set with the password.
    Column("sip_realm", Text, nullable=True),
    Column("sip_ha1_md5", Text, nullable=True),
    Column("sip_ha1_sha256", Text, nullable=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("expires_at", Double, nullable=False),
    Column("csrf_token", Text, nullable=False),
    Column("date_created", Double, nullable=False),
    Index("ix_sessions_user_id", "user_id"),
    Index("ix_sessions_expires_at", "expires_at"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Text, primary_key=True),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("token_hash", Text, nullable=False, unique=True),
    Column("date_created", Double, nullable=False),
    Column("last_used", Double, nullable=True),
    Index("ix_api_tokens_user_id", "user_id"),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    Column("key", Text, nullable=False),
    Column("timestamp", Double, nullable=False),
    Index("ix_login_attempts_key_timestamp", "key", "timestamp"),
)

# One row per call, written when it starts and again as it changes; reports and the call history read it.
calls = Table(
    "calls",
    metadata,
    Column("sid", Text, primary_key=True),
    _workspace_fk(),
    Column("direction", Text, nullable=False),
    Column("caller", Text, nullable=False),
    Column("called", Text, nullable=False),
    Column("from_uri", Text, nullable=False),
    Column("to_uri", Text, nullable=False),
    Column("task_sid", Text, nullable=True),
    Column("queue_sid", Text, nullable=True),
    Column("worker_sid", Text, nullable=True),
    Column("agent_contact", Text, nullable=True),
    Column("started_at", Double, nullable=False),
    Column("answered_at", Double, nullable=True),
    Column("enqueued_at", Double, nullable=True),
    Column("agent_answered_at", Double, nullable=True),
    Column("ended_at", Double, nullable=True),
    Column("wait_seconds", Double, nullable=False),
    Column("talk_seconds", Double, nullable=False),
    Column("hold_seconds", Double, nullable=False),
    Column("outcome", Text, nullable=True),
    Column("hangup_cause", Text, nullable=True),
    Column("hangup_by", Text, nullable=True),
    Column("recording_path", Text, nullable=True),
    Column("attributes", Json, nullable=False),
    # The digits of `caller` and `called` without leading zeros, reversed: "ends with" is then a prefix search.
    Column("caller_digits", Text, nullable=False, server_default=""),
    Column("called_digits", Text, nullable=False, server_default=""),
    Index("ix_calls_workspace_sid_started_at", "workspace_sid", "started_at"),
    Index("ix_calls_workspace_sid_queue_sid_started_at", "workspace_sid", "queue_sid", "started_at"),
    Index("ix_calls_workspace_sid_worker_sid_started_at", "workspace_sid", "worker_sid", "started_at"),
    Index("ix_calls_workspace_sid_caller_digits", "workspace_sid", "caller_digits"),
    Index("ix_calls_workspace_sid_called_digits", "workspace_sid", "called_digits"),
)

# The SIP registrar's bindings (RFC 3261 §10), so registered phones stay reachable across a restart.
sip_bindings = Table(
    "sip_bindings",
    metadata,
    Column("aor", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("record", Json, nullable=False),
)


# IVR. Bodies are kept as the center file writes them (flows, schedules, numbers, queue waiting options), in
# PostgreSQL's json rather than jsonb: json keeps the keys in their order, and order can be meaning (a flow
# without `start` starts at its first node), besides an export reading like the file it came from.
Document: TypeEngine[Any] = JSON()


def _workspace_key() -> Column[str]:
    return Column("workspace_sid", Text, ForeignKey("workspaces.sid", ondelete="CASCADE"), primary_key=True)


# Every published version of a flow is kept: calls in progress finish on the version they started with.
flow_versions = Table(
    "flow_versions",
    metadata,
    _workspace_key(),
    Column("name", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("definition", Document, nullable=False),
    Column("created_at", Double, nullable=False),
)

# Schedules and per-queue waiting options, one row per (kind, name).
ivr_documents = Table(
    "ivr_documents",
    metadata,
    _workspace_key(),
    Column("kind", Text, primary_key=True),
    Column("name", Text, primary_key=True),
    Column("body", Document, nullable=False),
    Column("updated_at", Double, nullable=False),
)

# A number (E.164) belongs to one workspace: an inbound call finds its workspace by the number it called.
numbers = Table(
    "numbers",
    metadata,
    Column("e164", Text, primary_key=True),
    _workspace_fk(),
    Column("body", Document, nullable=False),
    Column("updated_at", Double, nullable=False),
    Index("ix_numbers_workspace_sid", "workspace_sid"),
)

prompts = Table(
    "prompts",
    metadata,
    _workspace_key(),
    Column("name", Text, primary_key=True),
    Column("language", Text, primary_key=True),
    Column("text", Text, nullable=True),
    Column("voice", Text, nullable=True),
    Column("source", Text, nullable=False),
    Column("audio", LargeBinary, nullable=True),  # 8 kHz mono WAV
    Column("seconds", Double, nullable=True),
    Column("updated_at", Double, nullable=False),
)

# The emergency switch: a number or a site closed until cleared, whatever its schedule says.
closures = Table(
    "closures",
    metadata,
    _workspace_key(),
    Column("scope", Text, primary_key=True),
    Column("target", Text, primary_key=True),
    Column("prompt", Text, nullable=True),
    Column("text", Text, nullable=True),
    Column("closed_at", Double, nullable=False),
)

# CRM contacts. `numbers` keeps the contact's order; contact_numbers indexes them for the caller lookup.
contacts = Table(
    "contacts",
    metadata,
    Column("sid", Text, primary_key=True),
    _workspace_fk(),
    Column("name", Text, nullable=False),
    Column("numbers", Json, nullable=False),
    Column("vip", Boolean, nullable=False),
    Column("manager", Text, nullable=True),
    Column("language", Text, nullable=True),
    Column("attributes", Document, nullable=False),
    Column("date_created", Double, nullable=False),
    Column("date_updated", Double, nullable=False),
    Index("ix_contacts_workspace_sid_name", "workspace_sid", "name"),
)

contact_numbers = Table(
    "contact_numbers",
    metadata,
    _workspace_key(),
    Column("e164", Text, primary_key=True),
    Column("contact_sid", Text, ForeignKey("contacts.sid", ondelete="CASCADE"), nullable=False),
    Index("ix_contact_numbers_contact_sid", "contact_sid"),
)
