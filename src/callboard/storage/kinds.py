"""The routing record kinds: which table holds each, which fields are columns, and which records are live."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, true

from callboard.core.errors import ValidationError
from callboard.storage import tables

Record = dict[str, Any]

TERMINAL_TASK_STATUSES = ("completed", "canceled")
LIVE_RESERVATION_STATUSES = ("pending", "accepted", "wrapping")


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of routing record and the table row it becomes."""

    name: str
    table: Table
    columns: tuple[str, ...]  # copied from the record; every one can be filtered on

    def row(self, workspace_sid: str, record: Mapping[str, Any], now: float) -> dict[str, Any]:
        row = {name: record.get(name) for name in self.columns}
        row["sid"] = record["sid"]
        row["workspace_sid"] = workspace_sid
        created = _float(record.get("date_created"), now)
        row["date_created"] = created
        row["date_updated"] = _float(record.get("date_updated"), created)
        row["data"] = record
        return row

    def live(self) -> ColumnElement[bool]:
        """The records an engine restores: every one but finished tasks and reservations."""
        if self.name == "task":
            return self.table.c.assignment_status.not_in(TERMINAL_TASK_STATUSES)
        if self.name == "reservation":
            return self.table.c.reservation_status.in_(LIVE_RESERVATION_STATUSES)
        return true()

    def filterable(self, name: str) -> bool:
        return name in self.columns or name == "sid"


def _float(value: Any, default: float) -> float:
    return float(value) if isinstance(value, int | float) else default


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("activity", tables.activities, ("friendly_name", "available")),
        Kind("channel", tables.task_channels, ("unique_name", "friendly_name")),
        Kind("worker", tables.workers, ("friendly_name", "activity_sid")),
        Kind("queue", tables.task_queues, ("friendly_name",)),
        Kind("workflow", tables.workflows, ("friendly_name",)),
        Kind(
            "task",
            tables.tasks,
            ("workflow_sid", "task_queue_sid", "worker_sid", "assignment_status", "task_channel", "priority"),
        ),
        Kind("reservation", tables.reservations, ("task_sid", "worker_sid", "reservation_status")),
    )
}


def kind_of(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise ValidationError(f"unknown record kind {name!r}", kind=name, known=sorted(KINDS)) from None


def check_record(kind: Kind, record: Any) -> None:
    if not isinstance(record, Mapping) or not isinstance(record.get("sid"), str) or not record["sid"]:
        raise ValidationError(f"a {kind.name} record must be a mapping with a string 'sid'", kind=kind.name)
