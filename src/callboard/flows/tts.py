"""Text-to-speech with espeak-ng, rendered once and cached as 8 kHz mono 16-bit WAV files.

`TextToSpeech.render(text, language)` runs espeak-ng as a subprocess (never blocking the event loop),
converts its output to what the media engine plays with PyAV (`audio.convert_prompt`, in a worker thread)
and keeps the file in `cache_dir` under a hash of the text, language, voice, speed and espeak-ng's version, so
the same sentence is synthesised once, even across restarts, and a new espeak-ng renders afresh. Two
renders of the same text at once share one espeak-ng run. A missing espeak-ng is `tts_unavailable`, one that
fails or times out `tts_failed`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from callboard.core.errors import CallboardError, ValidationError
from callboard.flows.audio import convert_prompt
from callboard.flows.system_prompts import VOICES

__all__ = ["TextToSpeech", "TextToSpeechError", "TextToSpeechUnavailableError"]

CACHE_FORMAT = 1  # bump when the rendered files change for the same inputs (rate, trimming, ...)


class TextToSpeechError(CallboardError):
    """espeak-ng ran but gave no usable audio (it failed, timed out, or the voice does not exist)."""

    error_id = "tts_failed"


class TextToSpeechUnavailableError(TextToSpeechError):
    """espeak-ng is not installed (apt-get install espeak-ng) or cannot be run."""

    error_id = "tts_unavailable"


class TextToSpeech:
    """Renders text to cached WAV files with espeak-ng; `VOICES` picks the voice for en, es and ru."""

    def __init__(self, cache_dir: Path, *, command: str = "espeak-ng", speed: int = 150, timeout: float = 30.0) -> None:
        self.cache_dir = cache_dir
        self.command = command
        self.speed = speed
        self.timeout = timeout
        self._version: str | None = None
        self._rendering: dict[Path, asyncio.Future[Path]] = {}

    def available(self) -> bool:
        """Whether the espeak-ng command can be found."""
        return shutil.which(self.command) is not None

    async def render(self, text: str, language: str, voice: str | None = None) -> Path:
        """The WAV file saying `text` in `language` (with espeak-ng's `voice`, else the language's)."""
        if not text.strip():
            raise ValidationError("there is no text to say", error_id="tts_text_empty")
        voice = voice or VOICES.get(language, language)
        version = await self.engine_version()
        key = json.dumps([CACHE_FORMAT, version, self.speed, language, voice, text], ensure_ascii=False)
        path = self.cache_dir / f"{hashlib.sha256(key.encode()).hexdigest()}.wav"
        if path.exists():
            return path
        pending = self._rendering.get(path)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Path] = asyncio.get_running_loop().create_future()
        self._rendering[path] = future
        try:
            await self._render(text, voice, path)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody else waited
            raise
        else:
            future.set_result(path)
        finally:
            del self._rendering[path]
        return path

    async def engine_version(self) -> str:
        """espeak-ng's version line, asked once."""
        if self._version is None:
            out = await self._run(["--version"], None)
            self._version = out.decode(errors="replace").strip().splitlines()[0] if out.strip() else "unknown"
        return self._version

    async def _render(self, text: str, voice: str, path: Path) -> None:
        raw = await self._run(["-v", voice, "-s", str(self.speed), "--stdout", "--stdin"], text.encode())
        try:
            wav = await asyncio.to_thread(convert_prompt, raw, "espeak-ng.wav")
        except ValidationError as exc:
            raise TextToSpeechError(f"espeak-ng gave no usable audio: {exc.message}", voice=voice) from None
        await asyncio.to_thread(_write_atomically, path, wav)

    async def _run(self, arguments: list[str], stdin: bytes | None) -> bytes:
        """The command's output; `stdin` (None: nothing, the command's input is /dev/null) is written to it."""
        try:
            process = await asyncio.create_subprocess_exec(
                self.command,
                *arguments,
                stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:  # not found, not executable
            raise TextToSpeechUnavailableError(
                f"text-to-speech needs {self.command} (apt-get install espeak-ng): {exc.strerror or exc}",
                command=self.command,
            ) from None
        try:
            out, err = await asyncio.wait_for(process.communicate(stdin), self.timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise TextToSpeechError(
                f"{self.command} took more than {self.timeout:g} s", command=self.command, arguments=arguments
            ) from None
        except (OSError, RuntimeError):  # it exited before reading its input: uvloop's closed pipe is RuntimeError
            await process.wait()
            raise TextToSpeechError(
                f"{self.command} ended before reading the text (exit status {process.returncode})",
                command=self.command,
                arguments=arguments,
            ) from None
        if process.returncode != 0:
            said = err.decode(errors="replace").strip() or f"exit status {process.returncode}"
            raise TextToSpeechError(f"{self.command} failed: {said}", command=self.command, arguments=arguments)
        return out


def _write_atomically(path: Path, data: bytes) -> None:
    """Readers see the whole file or none: a crash mid-write leaves no half WAV in the cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
