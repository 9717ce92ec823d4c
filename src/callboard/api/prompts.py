"""The prompt library: recordings and text-to-speech per name and language, beside the shipped system prompts.

Every prompt is converted once, when it is stored, to the 8 kHz mono WAV calls play, so playing never
converts. A stored prompt with the name of a system prompt is said instead of it.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import replace
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

import callboard.voice
from callboard.api.access import AdminScope, Scope, StaffScope
from callboard.api.errors import ServiceUnavailableError
from callboard.api.ivr import ListenerDep, changed, check_removal, ivr_store, load_ivr
from callboard.api.params import PageDep
from callboard.api.ports import Record
from callboard.api.urls import WORKSPACE
from callboard.core.errors import NotFoundError, ValidationError
from callboard.flows.audio import MAX_BYTES, convert_prompt
from callboard.flows.system_prompts import SYSTEM_PROMPTS
from callboard.flows.tts import TextToSpeech, TextToSpeechError, TextToSpeechUnavailableError

router = APIRouter(prefix=f"{WORKSPACE}/prompts", tags=["prompts"])

SYSTEM_PROMPTS_DIR = Path(callboard.voice.__file__).resolve().parent / "prompts"
MAX_UPLOAD_BYTES = MAX_BYTES + 64 * 1024  # room for a multipart form's headers
# File name suffixes the converter recognises a format by, for uploads that do not say their file name.
SUFFIX_BY_TYPE = {
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/wave": ".wav",
    "audio/vnd.wave": ".wav",
    "audio/mpeg": ".mp3",
    "audio/mp3": ".mp3",
    "audio/ogg": ".ogg",
    "audio/opus": ".opus",
    "audio/flac": ".flac",
    "audio/x-flac": ".flac",
    "audio/mp4": ".m4a",
    "audio/aac": ".aac",
    "audio/webm": ".webm",
    "audio/basic": ".au",
}

Name = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", description="Prompt name")]
Language = Annotated[str, PathParam(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$", description="ISO 639-1 code")]


def get_tts(request: Request) -> TextToSpeech:
    tts: TextToSpeech = request.app.state.tts
    return tts


TtsDep = Annotated[TextToSpeech, Depends(get_tts)]


class SpeechBody(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
    voice: str | None = Field(default=None, description="An espeak-ng voice (default: the language's)")


@functools.cache
def shipped() -> frozenset[Path]:
    """Every system prompt file in the package, relative to its folder (they never change while it runs)."""
    if not SYSTEM_PROMPTS_DIR.is_dir():
        return frozenset()
    return frozenset(path.relative_to(SYSTEM_PROMPTS_DIR) for path in SYSTEM_PROMPTS_DIR.glob("**/*.wav"))


def system_file(name: str, language: str) -> Path | None:
    """The shipped file a call plays for a prompt without a stored one: the language's, else the older
    language-less file (`app/ivr_voice.py` looks in the same order)."""
    files = shipped()
    found = next((p for p in (Path(language, f"{name}.wav"), Path(f"{name}.wav")) if p in files), None)
    return SYSTEM_PROMPTS_DIR / found if found is not None else None


def _system_prompts() -> list[Record]:
    return [
        {
            "name": name,
            "language": language,
            "text": text,
            "source": "system",
            "has_audio": system_file(name, language) is not None,
            "system": True,
        }
        for language, texts in sorted(SYSTEM_PROMPTS.items())
        for name, text in sorted(texts.items())
    ]


def _not_found(name: str, language: str | None = None) -> NotFoundError:
    which = f"{name} in {language}" if language else name
    return NotFoundError(f"no stored prompt {which}", error_id="prompt_not_found", name=name, language=language)


async def _stored(scope: Scope, name: str, language: str, listener: ListenerDep, **prompt: Any) -> Record:
    store = ivr_store(scope)
    await store.put_prompt(scope.sid, name, language, **prompt)
    changed(listener, scope.sid)
    return next(
        {**p, "system": False}
        for p in await store.list_prompts(scope.sid)
        if p["name"] == name and p["language"] == language
    )


@router.get("")
async def list_prompts(
    scope: StaffScope,
    page: PageDep,
    system: Annotated[
        bool | None, Query(description="Only the shipped prompts (true) or the stored ones (false)")
    ] = None,
) -> dict[str, Any]:
    """Stored prompts (`system: false`), then the shipped ones (`system: true`)."""
    stored = (
        [{**p, "system": False} for p in await ivr_store(scope).list_prompts(scope.sid)] if system is not True else []
    )
    return page.slice(stored + (_system_prompts() if system is not False else []))


@router.put(
    "/{name}/{language}",
    openapi_extra={
        "requestBody": {
            "content": {"audio/*": {"schema": {"type": "string", "format": "binary"}}, "multipart/form-data": {}},
            "required": True,
        }
    },
)
async def upload_prompt(
    name: Name, language: Language, request: Request, scope: AdminScope, listener: ListenerDep
) -> Record:
    """Store a recording: the raw file as the body (any common audio type), or a multipart form's file."""
    data, filename = await _upload(request)
    wav = await asyncio.to_thread(convert_prompt, data, filename)
    return await _stored(scope, name, language, listener, audio=wav, text=None, voice=None, source="upload")


@router.post("/{name}/{language}/tts")
async def speak_prompt(
    name: Name, language: Language, body: SpeechBody, scope: AdminScope, listener: ListenerDep, tts: TtsDep
) -> Record:
    """Store the text said by text-to-speech (espeak-ng); 503 `tts_unavailable` when it is not installed,
    422 `tts_failed` when it cannot say it (an unknown voice, say)."""
    try:
        path = await tts.render(body.text, language, body.voice)
    except TextToSpeechUnavailableError as exc:
        raise ServiceUnavailableError(exc.message, error_id=exc.error_id, **exc.details) from None
    except TextToSpeechError as exc:
        raise ValidationError(exc.message, error_id=exc.error_id, **exc.details) from None
    wav = await asyncio.to_thread(path.read_bytes)
    return await _stored(scope, name, language, listener, audio=wav, text=body.text, voice=body.voice, source="tts")


@router.get(
    "/{name}/{language}/audio",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}}, "description": "The prompt as calls play it"}},
)
async def prompt_audio(name: Name, language: Language, scope: StaffScope) -> Response:
    """The prompt's WAV, stored or shipped, to preview."""
    prompt = await ivr_store(scope).get_prompt(scope.sid, name, language)
    audio: bytes | None = prompt.get("audio") if prompt else None
    if audio is None:
        path = system_file(name, language)
        if path is None:
            raise NotFoundError(
                f"no prompt {name} in {language}", error_id="prompt_not_found", name=name, language=language
            )
        audio = await asyncio.to_thread(path.read_bytes)
    headers = {"Content-Disposition": f'inline; filename="{name}-{language}.wav"'}
    return Response(audio, media_type="audio/wav", headers=headers)


@router.delete("/{name}", status_code=204)
async def delete_prompt(name: Name, scope: AdminScope, listener: ListenerDep) -> None:
    """Delete every language of a stored prompt (a system prompt of that name is said again); refused
    (409 `prompt_in_use`) while a flow or a number says it and no system prompt has its name."""
    await _delete(scope, name, None, listener)


@router.delete("/{name}/{language}", status_code=204)
async def delete_prompt_language(name: Name, language: Language, scope: AdminScope, listener: ListenerDep) -> None:
    """Delete one language of a stored prompt; refused like the whole prompt when it is the last one."""
    await _delete(scope, name, language, listener)


async def _delete(scope: Scope, name: str, language: str | None, listener: ListenerDep) -> None:
    store = ivr_store(scope)
    languages = {p["language"] for p in await store.list_prompts(scope.sid) if p["name"] == name}
    if not languages or (language is not None and language not in languages):
        raise _not_found(name, language)
    if language is None or languages == {language}:
        ivr = await load_ivr(scope)
        check_removal(scope, ivr, replace(ivr, prompts=ivr.prompts - {name}), "prompt_in_use", f"prompt {name}")
    if not await store.delete_prompt(scope.sid, name, language):
        raise _not_found(name, language)
    changed(listener, scope.sid)


async def _upload(request: Request) -> tuple[bytes, str]:
    """The uploaded file and a file name that tells its format."""
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_UPLOAD_BYTES:
            raise ValidationError(
                f"a prompt file can be {MAX_BYTES // 2**20} MiB at most", error_id="prompt_too_large", limit=MAX_BYTES
            )
    content_type = request.headers.get("content-type", "")
    if content_type.lower().startswith("multipart/form-data"):
        return _multipart_file(bytes(data), content_type)
    if not data:
        raise ValidationError("send the audio file as the request body", error_id="prompt_missing")
    return bytes(data), "prompt" + SUFFIX_BY_TYPE.get(content_type.split(";")[0].strip().lower(), "")


def _multipart_file(body: bytes, content_type: str) -> tuple[bytes, str]:
    """The first file of a `multipart/form-data` body (the standard library parses it: no extra package)."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if message.is_multipart():
        for part in message.iter_parts():
            assert isinstance(part, Message)
            filename = part.get_filename()
            payload = part.get_payload(decode=True)
            if filename is not None and isinstance(payload, bytes) and payload:
                suffix = SUFFIX_BY_TYPE.get(part.get_content_type(), "")
                return payload, filename if Path(filename).suffix else filename + suffix
    raise ValidationError("the form holds no file", error_id="prompt_missing")
