"""The whole center as its YAML file (admins): export it, check a file, plan it, apply it to the running center.

The file is the one `callboard export` writes and `callboard apply` reads (`config/center.py`), sent and
answered as text. Checking and parsing happen here (`config/`); exporting, planning and applying go through
the `CenterFilePort` that `app/` hands to `create_api`. A file sent over the API names no files on the server:
a recording comes inline as `audio:` (base64), as export writes it.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import io
import wave
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from callboard.api.auth import Admin, CenterDep, Principal
from callboard.api.errors import ServiceUnavailableError
from callboard.api.ivr import ListenerDep, changed
from callboard.api.ports import CenterFilePort, IvrListener
from callboard.config.dump import dump_center
from callboard.config.model import Center
from callboard.config.plan import Change, format_plan, hides
from callboard.config.validate import build_center
from callboard.config.yaml_source import ConfigError, SourceMap, YamlSourceError, load_yaml
from callboard.core.errors import ConflictError, ValidationError

router = APIRouter(prefix="/api/v1/center", tags=["center"])

FILENAME = "center.yaml"
MAX_BYTES = 256 * 2**20  # a file carries its recordings inline: 10 minutes of a prompt is about 13 MB of base64
YAML = "application/yaml"
_TEXT_BODY = {
    "requestBody": {
        "content": {YAML: {"schema": {"type": "string"}}, "text/plain": {"schema": {"type": "string"}}},
        "required": True,
    }
}


def get_center_file(request: Request) -> CenterFilePort:
    port: CenterFilePort | None = request.app.state.center_file
    if port is None:
        raise ServiceUnavailableError("this server does not manage its center file", error_id="center_file_unavailable")
    return port


CenterFileDep = Annotated[CenterFilePort, Depends(get_center_file)]


async def read_text(request: Request, limit: int = MAX_BYTES) -> str:
    """The request body as UTF-8 text (422 `text_invalid` otherwise, `request_too_large` past `limit`)."""
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise ValidationError(
                f"the body can be {limit // 2**20} MiB at most", error_id="request_too_large", limit=limit
            )
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError("the body is not UTF-8 text", error_id="text_invalid", offset=exc.start) from None


def problem_view(error: ConfigError) -> dict[str, Any]:
    return {"line": error.line, "col": error.col, "message": error.message}


def parse_center(text: str) -> tuple[Center | None, list[ConfigError]]:
    """The center in `text` (None when it has problems) and its problems in file order, as `callboard check`
    finds them, plus one for each recording named by `file:` (the server reads no files for a request)."""
    early: list[ConfigError] = []
    try:
        data, source = load_yaml(text, FILENAME)
    except YamlSourceError as exc:
        if exc.loaded is None:
            return None, exc.errors
        (data, source), early = exc.loaded, exc.errors
    data, refused = _without_files(data, source)
    center, errors = build_center(data, source)
    problems = sorted(set(early + refused + errors))
    return (center if not problems else None), problems


# Stands in for a recording named by `file:` while the rest is checked; the file is refused, so never applied.
_SILENCE = io.BytesIO()
with wave.open(_SILENCE, "wb") as _out:
    _out.setnchannels(1)
    _out.setsampwidth(2)
    _out.setframerate(8000)
    _out.writeframes(b"\0\0" * 80)
_PLACEHOLDER = base64.b64encode(_SILENCE.getvalue()).decode("ascii")


def _without_files(data: Any, source: SourceMap) -> tuple[Any, list[ConfigError]]:
    workspaces = data.get("workspaces") if isinstance(data, dict) else None
    if not isinstance(workspaces, list):
        return data, []
    data = copy.deepcopy(data)
    refused: list[ConfigError] = []
    for i, space in enumerate(data["workspaces"]):
        prompts = space.get("prompts") if isinstance(space, dict) else None
        for j, prompt in enumerate(prompts if isinstance(prompts, list) else ()):
            if not isinstance(prompt, dict) or "file" not in prompt:
                continue
            files = prompt.pop("file")
            at = source.key(("workspaces", i, "prompts", j, "file"))
            refused.append(
                ConfigError.at(
                    at, "a file sent to the API cannot name files on the server: give the recording inline as 'audio'"
                )
            )
            if isinstance(files, dict):
                audio = prompt.setdefault("audio", {})
                if isinstance(audio, dict):
                    for language in files:
                        audio.setdefault(language, _PLACEHOLDER)
    return data, refused


def _invalid(problems: list[ConfigError]) -> ValidationError:
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    return ValidationError(
        f"the center file has {count}", error_id="config_invalid", problems=[problem_view(p) for p in problems]
    )


async def _desired(request: Request) -> Center:
    center, problems = parse_center(await read_text(request))
    if center is None:
        raise _invalid(problems)
    return center


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return None
    return value


def change_view(change: Change) -> dict[str, Any]:
    """A plan's change as data: what `callboard apply` prints as `line`, and each changed field's old and new
    value (secrets and recordings only as `{"changed": true}`)."""
    fields = {
        name: {"changed": True} if hides(name) else {"old": _jsonable(old), "new": _jsonable(new)}
        for name, (old, new) in change.fields.items()
    }
    return {
        "action": change.action,
        "kind": change.kind,
        "workspace": change.workspace,
        "name": change.name,
        "fields": fields,
        "line": format_plan([change]),
    }


def _own_account(principal: Principal, desired: Center) -> None:
    """An admin cannot lock themselves out with a file, as with `/users`: the file lists every user, so one
    it leaves out is deleted."""
    user = next((u for u in desired.users if u.username == principal.username), None)
    if user is None or user.role != "admin":
        action = "delete" if user is None else "demote"
        raise ConflictError(f"the file would {action} your own account", error_id="own_account")


def _notify(listener: IvrListener | None, sids: set[str]) -> None:
    for sid in sorted(sids):
        changed(listener, sid)


@router.get("", response_class=Response, responses={200: {"content": {YAML: {}}, "description": "The center file"}})
async def export_center(_: Admin, port: CenterFileDep) -> Response:
    """The live configuration as a center file (what `callboard export` writes): users with their password
    hashes and SIP credentials, prompts with their recordings inline. Keep it as a secret."""
    text = dump_center(await port.export())
    headers = {"Content-Disposition": f'inline; filename="{FILENAME}"'}
    return Response(text, media_type=f"{YAML}; charset=utf-8", headers=headers)


@router.post("/check", openapi_extra=_TEXT_BODY)
async def check_center(request: Request, _: Admin) -> dict[str, Any]:
    """Every problem of a center file sent as the body, at its line and column (what `callboard check` says);
    changes nothing and needs no running center."""
    problems = parse_center(await read_text(request))[1]
    return {"valid": not problems, "problems": [problem_view(p) for p in problems]}


@router.post("/plan", openapi_extra=_TEXT_BODY)
async def plan_center(request: Request, _: Admin, port: CenterFileDep) -> dict[str, Any]:
    """What applying the file would change, in the order it would (`callboard apply --dry-run`), and the
    changes live work blocks now; changes nothing. 422 `config_invalid` with the problems."""
    planned = await port.plan(await _desired(request))
    return {
        "changes": [change_view(c) for c in planned.changes],
        "blocked": [{"change": change_view(b.change), "reason": b.reason} for b in planned.blocked],
    }


@router.put("", openapi_extra=_TEXT_BODY)
async def apply_center(
    request: Request, principal: Admin, port: CenterFileDep, center: CenterDep, listener: ListenerDep
) -> dict[str, Any]:
    """Make the running center match the file (`callboard apply`) and answer the changes made. Refused
    before anything changes with 422 `config_invalid`, 409 `apply_blocked` (live work in what it deletes) or
    `own_account`; 409 `apply_incomplete` when a step fails midway (the steps before it stay made)."""
    desired = await _desired(request)
    _own_account(principal, desired)
    before = {w.friendly_name: w.sid for w in center.workspaces().values()}
    try:
        changes = await port.apply(desired)
    except Exception:
        _notify(listener, set(before.values()) | {w.sid for w in center.workspaces().values()})
        raise
    after = {w.friendly_name: w.sid for w in center.workspaces().values()}
    named = {c.workspace for c in changes if c.kind != "user" and c.workspace is not None}
    _notify(listener, {sid for name in named for sid in (before.get(name), after.get(name)) if sid is not None})
    return {"changes": [change_view(c) for c in changes]}
