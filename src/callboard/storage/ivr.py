"""What the IVR runs on: versioned flows, schedules and queue waiting options, numbers, prompts, closures.

Bodies are plain JSON dicts in the center file's format; the store checks their shape only as far as
it indexes them. Numbers are E.164 (normalising them is the caller's job) and unique across workspaces:
a call finds its workspace by the number it called.
"""

from __future__ import annotations

import io
import re
import wave
from collections.abc import Mapping
from typing import Any

from sqlalchemy import CursorResult, and_, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from callboard.core.errors import ConflictError, NotFoundError, ValidationError
from callboard.storage.tables import closures, flow_versions, ivr_documents, numbers, prompts
from callboard.storage.upsert import upsert
from callboard.storage.workspaces import WorkspacesMixin

DOCUMENT_KINDS = ("schedule", "number", "queue_waiting", "dispositions", "callback_retry")
PROMPT_SOURCES = ("upload", "tts", "file")
CLOSURE_SCOPES = ("number", "site")
PROMPT_RATE = 8000

_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
# A concurrent publish of the same flow can take the version number first; then count again.
_PUBLISH_ATTEMPTS = 3


def check_e164(value: Any, what: str = "number") -> str:
    """`value` if it is an E.164 number (`+` and up to 15 digits); raises `ValidationError` otherwise."""
    if not isinstance(value, str) or not _E164.fullmatch(value):
        raise ValidationError(
            f"{what} must be an E.164 number such as +34910000000, got {value!r}",
            error_id="number_invalid",
            number=value,
        )
    return value


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{what} must be a non-empty string, got {value!r}", field=what)
    return value


def _body(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(f"{what} must be a mapping", field=what)
    return dict(value)


def wav_seconds(audio: bytes) -> float:
    """The length of an 8 kHz mono WAV; raises `ValidationError` for anything else."""
    try:
        with wave.open(io.BytesIO(audio), "rb") as wav:
            channels, rate, frames = wav.getnchannels(), wav.getframerate(), wav.getnframes()
    except (wave.Error, EOFError) as exc:
        raise ValidationError(f"prompt audio is not a WAV file: {exc}", error_id="prompt_audio_invalid") from None
    if channels != 1 or rate != PROMPT_RATE:
        raise ValidationError(
            f"prompt audio must be {PROMPT_RATE} Hz mono, got {rate} Hz with {channels} channels",
            error_id="prompt_audio_invalid",
        )
    return frames / rate


class IvrMixin(WorkspacesMixin):
    """Flows with their versions, IVR documents, numbers, prompts and emergency closures."""

    # Flows

    async def publish_flow(self, workspace_sid: str, name: str, definition: Mapping[str, Any]) -> int:
        """Store `definition` as the next version of flow `name` and return its number (1, 2, ...); when it
        equals the latest version, nothing is stored and that version's number is returned."""
        _name(name, "flow name")
        body = _body(definition, "flow definition")
        for attempt in range(_PUBLISH_ATTEMPTS):
            try:
                async with self._write() as conn:
                    latest = (await conn.execute(_latest_version(workspace_sid, name))).first()
                    if latest is not None and latest.definition == body:
                        return int(latest.version)
                    version = 1 if latest is None else int(latest.version) + 1
                    row = {
                        "workspace_sid": workspace_sid,
                        "name": name,
                        "version": version,
                        "definition": body,
                        "created_at": self._clock.now(),
                    }
                    await conn.execute(insert(flow_versions), [row])
                    return version
            except IntegrityError as exc:
                await self._check_workspace(workspace_sid, exc)
                if attempt == _PUBLISH_ATTEMPTS - 1:
                    raise ConflictError(
                        f"flow {name!r} is being published concurrently", error_id="flow_conflict", name=name
                    ) from exc
        raise AssertionError("unreachable")

    async def get_flow(self, workspace_sid: str, name: str, version: int | None = None) -> dict[str, Any] | None:
        """{name, version, definition, created_at} of one version of a flow (None: the latest)."""
        t = flow_versions
        if version is None:
            query = _latest_version(workspace_sid, name)
        else:
            query = select(t.c.version, t.c.definition, t.c.created_at).where(
                t.c.workspace_sid == workspace_sid, t.c.name == name, t.c.version == version
            )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return {"name": name, "version": row.version, "definition": dict(row.definition), "created_at": row.created_at}

    async def list_flows(self, workspace_sid: str) -> list[dict[str, Any]]:
        """The latest version of every flow of the workspace (as `get_flow`), by name."""
        t = flow_versions
        latest = (
            select(t.c.name, func.max(t.c.version).label("version"))
            .where(t.c.workspace_sid == workspace_sid)
            .group_by(t.c.name)
            .subquery()
        )
        query = (
            select(t.c.name, t.c.version, t.c.definition, t.c.created_at)
            .join(latest, and_(t.c.name == latest.c.name, t.c.version == latest.c.version))
            .where(t.c.workspace_sid == workspace_sid)
            .order_by(t.c.name)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [{**row, "definition": dict(row["definition"])} for row in rows]

    async def flow_versions(self, workspace_sid: str, name: str) -> list[dict[str, Any]]:
        """{version, created_at} of every version of a flow, oldest first."""
        t = flow_versions
        query = (
            select(t.c.version, t.c.created_at)
            .where(t.c.workspace_sid == workspace_sid, t.c.name == name)
            .order_by(t.c.version)
        )
        async with self._engine.connect() as conn:
            return [dict(row) for row in (await conn.execute(query)).mappings()]

    async def delete_flow(self, workspace_sid: str, name: str) -> bool:
        """Delete a flow with all its versions; False when there was none."""
        t = flow_versions
        return await self._delete(delete(t).where(t.c.workspace_sid == workspace_sid, t.c.name == name)) > 0

    # Documents: schedules, numbers, queue waiting options

    async def put_document(self, workspace_sid: str, kind: str, name: str, body: Mapping[str, Any]) -> None:
        """Insert or replace a document. A number's name is its E.164 form; a number another workspace has
        raises `ConflictError` (`number_taken`)."""
        _kind(kind)
        _name(name, f"{kind} name")
        data = _body(body, kind)
        now = self._clock.now()
        if kind == "number":
            await self._put_number(workspace_sid, check_e164(name), data, now)
            return
        row = {"workspace_sid": workspace_sid, "kind": kind, "name": name, "body": data, "updated_at": now}
        try:
            async with self._write() as conn:
                await conn.execute(upsert(self.dialect, ivr_documents), [row])
        except IntegrityError as exc:
            await self._check_workspace(workspace_sid, exc)
            raise ConflictError("the write conflicts with stored records", workspace_sid=workspace_sid) from exc

    async def _put_number(self, workspace_sid: str, e164: str, body: dict[str, Any], now: float) -> None:
        t = numbers
        stmt = postgresql.insert(t) if self.dialect == "postgresql" else sqlite.insert(t)
        # Only the owner's row is updated: another workspace's number is left as it is, and counted as 0 rows.
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.e164],
            set_={"body": stmt.excluded.body, "updated_at": stmt.excluded.updated_at},
            where=t.c.workspace_sid == stmt.excluded.workspace_sid,
        )
        row = {"e164": e164, "workspace_sid": workspace_sid, "body": body, "updated_at": now}
        try:
            async with self._write() as conn:
                result: CursorResult[Any] = await conn.execute(stmt, row)
        except IntegrityError as exc:
            await self._check_workspace(workspace_sid, exc)
            raise ConflictError("the write conflicts with stored records", workspace_sid=workspace_sid) from exc
        if result.rowcount == 0:
            raise ConflictError(f"number {e164} belongs to another workspace", error_id="number_taken", number=e164)

    async def get_document(self, workspace_sid: str, kind: str, name: str) -> dict[str, Any] | None:
        _kind(kind)
        if kind == "number":
            query = select(numbers.c.body).where(numbers.c.workspace_sid == workspace_sid, numbers.c.e164 == name)
        else:
            t = ivr_documents
            query = select(t.c.body).where(t.c.workspace_sid == workspace_sid, t.c.kind == kind, t.c.name == name)
        async with self._engine.connect() as conn:
            body = await conn.scalar(query)
        return None if body is None else dict(body)

    async def list_documents(self, workspace_sid: str, kind: str) -> list[dict[str, Any]]:
        """{name, body} of every document of `kind`, by name."""
        _kind(kind)
        if kind == "number":
            t = numbers
            query = (
                select(t.c.e164.label("name"), t.c.body).where(t.c.workspace_sid == workspace_sid).order_by(t.c.e164)
            )
        else:
            d = ivr_documents
            query = select(d.c.name, d.c.body).where(d.c.workspace_sid == workspace_sid, d.c.kind == kind)
            query = query.order_by(d.c.name)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [{"name": row["name"], "body": dict(row["body"])} for row in rows]

    async def delete_document(self, workspace_sid: str, kind: str, name: str) -> bool:
        _kind(kind)
        if kind == "number":
            n = numbers
            return await self._delete(delete(n).where(n.c.workspace_sid == workspace_sid, n.c.e164 == name)) > 0
        t = ivr_documents
        statement = delete(t).where(t.c.workspace_sid == workspace_sid, t.c.kind == kind, t.c.name == name)
        return await self._delete(statement) > 0

    async def find_number(self, e164: str) -> tuple[str, dict[str, Any]] | None:
        """The workspace a number belongs to and its body, or None for a number no workspace has."""
        query = select(numbers.c.workspace_sid, numbers.c.body).where(numbers.c.e164 == e164)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else (row.workspace_sid, dict(row.body))

    # Prompts

    async def put_prompt(
        self,
        workspace_sid: str,
        name: str,
        language: str,
        *,
        audio: bytes | None,
        text: str | None,
        voice: str | None,
        source: str,
    ) -> None:
        """Insert or replace a prompt in one language: recorded `audio` (an 8 kHz mono WAV), or `text` for
        text-to-speech in `voice`, or both (the text of a recording, or the rendering of the text)."""
        _name(name, "prompt name")
        _name(language, "prompt language")
        if source not in PROMPT_SOURCES:
            raise ValidationError(
                f"prompt source must be one of {', '.join(PROMPT_SOURCES)}; got {source!r}", field="source"
            )
        if audio is None and not text:
            raise ValidationError(f"prompt {name!r} ({language}) needs audio or text", error_id="prompt_empty")
        for field, value in (("text", text), ("voice", voice)):
            if value is not None and not isinstance(value, str):
                raise ValidationError(f"prompt {field} must be a string or None", field=field)
        seconds = None if audio is None else wav_seconds(audio)
        row = {
            "workspace_sid": workspace_sid,
            "name": name,
            "language": language,
            "text": text,
            "voice": voice,
            "source": source,
            "audio": audio,
            "seconds": seconds,
            "updated_at": self._clock.now(),
        }
        try:
            async with self._write() as conn:
                await conn.execute(upsert(self.dialect, prompts), [row])
        except IntegrityError as exc:
            await self._check_workspace(workspace_sid, exc)
            raise ConflictError("the write conflicts with stored records", workspace_sid=workspace_sid) from exc

    async def get_prompt(self, workspace_sid: str, name: str, language: str) -> dict[str, Any] | None:
        """{name, language, text, voice, source, audio, updated_at}, or None."""
        t = prompts
        query = select(t.c.name, t.c.language, t.c.text, t.c.voice, t.c.source, t.c.audio, t.c.updated_at).where(
            t.c.workspace_sid == workspace_sid, t.c.name == name, t.c.language == language
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        if row is None:
            return None
        prompt = dict(row)
        if prompt["audio"] is not None:
            prompt["audio"] = bytes(prompt["audio"])
        return prompt

    async def list_prompts(self, workspace_sid: str) -> list[dict[str, Any]]:
        """Every prompt language of the workspace without its audio, with `has_audio` and `seconds`, by name
        then language."""
        t = prompts
        query = (
            select(
                t.c.name,
                t.c.language,
                t.c.text,
                t.c.voice,
                t.c.source,
                t.c.audio.is_not(None).label("has_audio"),
                t.c.seconds,
                t.c.updated_at,
            )
            .where(t.c.workspace_sid == workspace_sid)
            .order_by(t.c.name, t.c.language)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [{**row, "has_audio": bool(row["has_audio"])} for row in rows]

    async def delete_prompt(self, workspace_sid: str, name: str, language: str | None = None) -> int:
        """Delete a prompt in one language, or in all of them; returns how many languages went."""
        t = prompts
        statement = delete(t).where(t.c.workspace_sid == workspace_sid, t.c.name == name)
        if language is not None:
            statement = statement.where(t.c.language == language)
        return await self._delete(statement)

    # Emergency closures

    async def set_closure(
        self, workspace_sid: str, scope: str, target: str, *, prompt: str | None, text: str | None
    ) -> dict[str, Any]:
        """Close a number (`scope` "number", `target` its E.164) or a site until cleared, with a prompt or a
        text to say instead; setting it again changes the message and keeps when it closed."""
        if scope not in CLOSURE_SCOPES:
            raise ValidationError(
                f"closure scope must be one of {', '.join(CLOSURE_SCOPES)}; got {scope!r}", field="scope"
            )
        if scope == "number":
            check_e164(target, "a closed number")
        else:
            _name(target, "site")
        row = {
            "workspace_sid": workspace_sid,
            "scope": scope,
            "target": target,
            "prompt": prompt,
            "text": text,
            "closed_at": self._clock.now(),
        }
        try:
            async with self._write() as conn:
                await conn.execute(upsert(self.dialect, closures, keep=("closed_at",)), [row])
                query = _closure_columns().where(
                    closures.c.workspace_sid == workspace_sid, closures.c.scope == scope, closures.c.target == target
                )
                stored = (await conn.execute(query)).mappings().one()
        except IntegrityError as exc:
            await self._check_workspace(workspace_sid, exc)
            raise ConflictError("the write conflicts with stored records", workspace_sid=workspace_sid) from exc
        return dict(stored)

    async def clear_closure(self, workspace_sid: str, scope: str, target: str) -> bool:
        """Open again; False when it was not closed."""
        t = closures
        statement = delete(t).where(t.c.workspace_sid == workspace_sid, t.c.scope == scope, t.c.target == target)
        return await self._delete(statement) > 0

    async def list_closures(self, workspace_sid: str) -> list[dict[str, Any]]:
        """{scope, target, prompt, text, closed_at} of everything closed, by scope and target."""
        query = (
            _closure_columns()
            .where(closures.c.workspace_sid == workspace_sid)
            .order_by(closures.c.scope, closures.c.target)
        )
        async with self._engine.connect() as conn:
            return [dict(row) for row in (await conn.execute(query)).mappings()]

    # Shared

    async def _delete(self, statement: Any) -> int:
        async with self._write() as conn:
            result: CursorResult[Any] = await conn.execute(statement)
        return result.rowcount

    async def _check_workspace(self, workspace_sid: str, exc: IntegrityError) -> None:
        """Raise `NotFoundError` when a write failed because its workspace does not exist."""
        if not await self._workspace_exists(workspace_sid):
            raise NotFoundError(
                f"workspace {workspace_sid} not found", error_id="workspace_not_found", sid=workspace_sid
            ) from exc


def _kind(kind: str) -> None:
    if kind not in DOCUMENT_KINDS:
        raise ValidationError(
            f"unknown document kind {kind!r}; expected one of: {', '.join(DOCUMENT_KINDS)}",
            error_id="document_kind_unknown",
            kind=kind,
        )


def _latest_version(workspace_sid: str, name: str) -> Any:
    t = flow_versions
    return (
        select(t.c.version, t.c.definition, t.c.created_at)
        .where(t.c.workspace_sid == workspace_sid, t.c.name == name)
        .order_by(t.c.version.desc())
        .limit(1)
    )


def _closure_columns() -> Any:
    t = closures
    return select(t.c.scope, t.c.target, t.c.prompt, t.c.text, t.c.closed_at)
