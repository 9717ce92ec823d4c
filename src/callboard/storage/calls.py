"""Call records: one row per call, written when it starts and again as it is answered, queued, bridged and ended.

The voice plane writes them; the API lists them and reporting reads them. A save names the fields it
knows: the ones it leaves out keep their stored value (or their default on the first save).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, and_, or_, select
from sqlalchemy.exc import IntegrityError

from callboard.core.errors import NotFoundError, ValidationError
from callboard.core.ids import CALL
from callboard.storage.base import StoreBase
from callboard.storage.tables import calls
from callboard.storage.upsert import upsert

DIRECTIONS = ("inbound", "outbound", "internal")
OUTCOMES = ("completed", "abandoned", "no_agent", "failed", "rejected", "ivr", "callback")
HANGUP_BY = ("caller", "agent", "called", "system")  # called: whom an agent called or transferred to

# Every save must name these: they are what a call is, from its first moment.
REQUIRED = ("sid", "workspace_sid", "direction", "started_at")
TEXT_DEFAULTS = {"caller": "", "called": "", "from_uri": "", "to_uri": ""}
OPTIONAL_TEXT = ("task_sid", "queue_sid", "worker_sid", "agent_contact", "hangup_cause", "recording_path")
OPTIONAL_TIMES = ("answered_at", "enqueued_at", "agent_answered_at", "ended_at")
DURATIONS = ("wait_seconds", "talk_seconds", "hold_seconds")
CHOICES = {"direction": DIRECTIONS, "outcome": OUTCOMES, "hangup_by": HANGUP_BY}

SEARCH_COLUMNS = {"caller": "caller_digits", "called": "called_digits"}  # derived on save, never given or shown
COLUMNS = frozenset(c.name for c in calls.columns)
FIELDS = COLUMNS - set(SEARCH_COLUMNS.values())


def searched_digits(number: str) -> str:
    """The digits a number is found by, without leading zeros: `+34 600-11` and `0034 60011` both give `3460011`."""
    return "".join(c for c in number if c.isdigit()).lstrip("0")


def _defaults() -> dict[str, Any]:
    return {
        **TEXT_DEFAULTS,
        **dict.fromkeys(OPTIONAL_TEXT),
        **dict.fromkeys(OPTIONAL_TIMES),
        **dict.fromkeys(DURATIONS, 0.0),
        "outcome": None,
        "hangup_by": None,
        "attributes": {},
    }


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError(f"call record: {field} {message}", error_id="call_invalid", field=field)


def _number(field: str, value: Any, *, optional: bool) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid(field, f"must be a number{' or null' if optional else ''}, got {value!r}")
    return float(value)


def call_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """The given fields of a call record, checked and normalized; raises `ValidationError`."""
    if not isinstance(record, Mapping):
        raise ValidationError("a call record must be a mapping", error_id="call_invalid")
    unknown = set(record) - FIELDS
    if unknown:
        raise ValidationError(
            f"call record: unknown fields {sorted(unknown)}", error_id="call_invalid", fields=sorted(unknown)
        )
    missing = [name for name in REQUIRED if name not in record]
    if missing:
        raise ValidationError(f"call record: missing {missing}", error_id="call_invalid", fields=missing)
    row: dict[str, Any] = {}
    for field, value in record.items():
        if field == "attributes":
            if not isinstance(value, Mapping):
                raise _invalid(field, f"must be a mapping, got {value!r}")
            row[field] = dict(value)
        elif field == "started_at":
            row[field] = _number(field, value, optional=False)
        elif field in OPTIONAL_TIMES:
            row[field] = _number(field, value, optional=True)
        elif field in DURATIONS:
            number = _number(field, value, optional=False)
            if number is not None and number < 0:
                raise _invalid(field, f"must not be negative, got {value!r}")
            row[field] = number
        else:
            nullable = field not in (*REQUIRED, *TEXT_DEFAULTS)
            if not (isinstance(value, str) or (value is None and nullable)):
                raise _invalid(field, f"must be a string{' or null' if nullable else ''}, got {value!r}")
            if field in CHOICES and value is not None and value not in CHOICES[field]:
                raise _invalid(field, f"must be one of {', '.join(CHOICES[field])}; got {value!r}")
            row[field] = value
    if not row["sid"].startswith(CALL) or not row["workspace_sid"]:
        raise _invalid("sid", f"must start with {CALL!r} and come with a workspace_sid, got {row['sid']!r}")
    return row


class CallsMixin(StoreBase):
    """Saving, getting and listing call records."""

    async def save_call(self, record: Mapping[str, Any]) -> None:
        """Insert or update a call by `sid`; fields left out of `record` keep their stored value.

        Raises `ValidationError` on an unknown field or a bad value, `NotFoundError` for an unknown workspace.
        """
        row = call_row(record)
        for number, column in SEARCH_COLUMNS.items():
            if number in row:
                row[column] = searched_digits(row[number])[::-1]
        given = set(row)
        statement = upsert(self.dialect, calls, keep=COLUMNS - given)
        try:
            async with self._write() as conn:
                await conn.execute(statement, [{**_defaults(), **row}])
        except IntegrityError as exc:
            raise NotFoundError(
                f"workspace {row['workspace_sid']} not found", sid=row["workspace_sid"], call_sid=row["sid"]
            ) from exc

    async def get_call(self, workspace_sid: str, sid: str) -> dict[str, Any] | None:
        query = select(calls).where(calls.c.workspace_sid == workspace_sid, calls.c.sid == sid)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _record(row)

    async def list_calls(
        self,
        workspace_sid: str,
        *,
        limit: int = 50,
        before: float | None = None,
        before_sid: str | None = None,
        queue_sid: str | None = None,
        worker_sid: str | None = None,
        outcome: str | None = None,
        callers: Sequence[str] | None = None,
        since: float | None = None,
        number_ends: str | None = None,
        has_recording: bool | None = None,
    ) -> list[dict[str, Any]]:
        """Calls newest first (by `started_at`, then `sid`), those that started before `before` and at or after
        `since`; `callers` keeps the calls from any of those numbers, `number_ends` those whose caller or called
        number ends with these digits (as `searched_digits` gives them), `has_recording` the recorded (True) or
        unrecorded (False) ones.

        To read on from the last call of a page, pass its `started_at` as `before` and its `sid` as
        `before_sid`: calls that started at that same instant with a smaller sid follow too.
        """
        if limit < 0:
            raise ValidationError("limit must not be negative", limit=limit)
        t = calls
        where: list[ColumnElement[bool]] = [t.c.workspace_sid == workspace_sid]
        if since is not None:
            where.append(t.c.started_at >= since)
        if number_ends is not None:
            if not number_ends.isdigit():
                raise ValidationError(f"number_ends takes digits, got {number_ends!r}", number_ends=number_ends)
            start = number_ends[::-1]
            where.append(or_(t.c.caller_digits.startswith(start), t.c.called_digits.startswith(start)))
        if has_recording is not None:
            where.append(t.c.recording_path.is_not(None) if has_recording else t.c.recording_path.is_(None))
        if before is not None:
            if before_sid is None:
                where.append(t.c.started_at < before)
            else:
                where.append(or_(t.c.started_at < before, and_(t.c.started_at == before, t.c.sid < before_sid)))
        for column, value in (("queue_sid", queue_sid), ("worker_sid", worker_sid), ("outcome", outcome)):
            if value is not None:
                where.append(t.c[column] == value)
        if callers is not None:
            where.append(t.c.caller.in_(list(callers)))
        query = select(t).where(*where).order_by(t.c.started_at.desc(), t.c.sid.desc()).limit(limit)
        async with self._engine.connect() as conn:
            return [_record(row) for row in (await conn.execute(query)).mappings()]


def _record(row: RowMapping) -> dict[str, Any]:
    record = {key: value for key, value in row.items() if key in FIELDS}
    record["attributes"] = dict(record["attributes"] or {})
    return record
