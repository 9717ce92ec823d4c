from __future__ import annotations

import asyncio
import shutil
import wave
from pathlib import Path

import pytest

from callboard.core.errors import ValidationError
from callboard.flows.tts import TextToSpeech, TextToSpeechError, TextToSpeechUnavailableError
from conftest import require_peer


def script(folder: Path, body: str) -> str:
    path = folder / "fake-espeak"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def counted(tmp_path: Path) -> tuple[str, Path]:
    """A command that runs the real espeak-ng and counts the renders (not the version questions)."""
    require_peer("espeak-ng", shutil.which("espeak-ng") is not None, "apt-get install espeak-ng")
    runs = tmp_path / "runs"
    command = script(tmp_path, f'[ "$1" = --version ] || echo run >> {runs}\nexec espeak-ng "$@"')
    return command, runs


VERSION = '[ "$1" = --version ] && { echo "fake 1.0"; exit 0; }\n'


def wavs(folder: Path) -> list[Path]:
    return list(folder.glob("*.wav"))


def renders(runs: Path) -> int:
    return len(runs.read_text().splitlines()) if runs.exists() else 0


def wav_params(path: Path) -> tuple[int, int, int, int]:
    with wave.open(str(path)) as w:
        return w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()


async def test_a_render_is_an_8khz_mono_wav_and_is_cached(tmp_path: Path, counted: tuple[str, Path]) -> None:
    command, runs = counted
    tts = TextToSpeech(tmp_path / "cache", command=command)
    assert tts.available()
    path = await tts.render("Your order has shipped.", "en")
    channels, width, rate, frames = wav_params(path)
    assert (channels, width, rate) == (1, 2, 8000)
    assert 0.5 * 8000 < frames < 5 * 8000
    assert await tts.render("Your order has shipped.", "en") == path
    assert renders(runs) == 1
    again = TextToSpeech(tmp_path / "cache", command=command)  # a restart keeps the cache
    assert await again.render("Your order has shipped.", "en") == path
    assert renders(runs) == 1


async def test_language_voice_and_text_each_make_another_file(tmp_path: Path, counted: tuple[str, Path]) -> None:
    command, runs = counted
    tts = TextToSpeech(tmp_path, command=command)
    paths = {
        await tts.render("Hola", "es"),
        await tts.render("Hola", "en"),
        await tts.render("Hola", "es", voice="es-419"),
        await tts.render("Hola.", "es"),
    }
    assert len(paths) == 4
    assert renders(runs) == 4
    assert all(wav_params(p)[:3] == (1, 2, 8000) for p in paths)


async def test_russian_renders(tmp_path: Path, counted: tuple[str, Path]) -> None:
    command, _ = counted
    path = await TextToSpeech(tmp_path, command=command).render("Ваш заказ отправлен.", "ru")
    assert wav_params(path)[3] > 0.5 * 8000


async def test_the_same_text_at_once_is_rendered_once(tmp_path: Path, counted: tuple[str, Path]) -> None:
    command, runs = counted
    tts = TextToSpeech(tmp_path, command=command)
    await tts.engine_version()
    first, second = await asyncio.gather(tts.render("One at a time.", "en"), tts.render("One at a time.", "en"))
    assert first == second
    assert renders(runs) == 1


async def test_an_unknown_voice_fails_clearly(tmp_path: Path, counted: tuple[str, Path]) -> None:
    command, _ = counted
    with pytest.raises(TextToSpeechError) as caught:
        await TextToSpeech(tmp_path, command=command).render("Hello", "en", voice="xx-nowhere")
    assert caught.value.error_id == "tts_failed"
    assert "voice" in caught.value.message
    assert wavs(tmp_path) == []


async def test_a_missing_espeak_is_unavailable(tmp_path: Path) -> None:
    tts = TextToSpeech(tmp_path, command=str(tmp_path / "no-such-espeak"))
    assert not tts.available()
    with pytest.raises(TextToSpeechUnavailableError) as caught:
        await tts.render("Hello", "en")
    assert caught.value.error_id == "tts_unavailable"
    assert "espeak-ng" in caught.value.message


async def test_a_failing_engine_is_reported(tmp_path: Path) -> None:
    command = script(tmp_path, VERSION + 'echo "boom: no audio" >&2\nexit 3')
    with pytest.raises(TextToSpeechError) as caught:
        await TextToSpeech(tmp_path, command=command).render("Hello", "en")
    assert caught.value.error_id == "tts_failed"
    assert "boom: no audio" in caught.value.message


async def test_an_engine_that_prints_no_audio_is_reported(tmp_path: Path) -> None:
    command = script(tmp_path, VERSION + 'echo "not a wav"')
    with pytest.raises(TextToSpeechError) as caught:
        await TextToSpeech(tmp_path, command=command).render("Hello", "en")
    assert caught.value.error_id == "tts_failed"


async def test_a_stuck_engine_times_out(tmp_path: Path) -> None:
    command = script(tmp_path, VERSION + "exec sleep 10")
    with pytest.raises(TextToSpeechError, match="took more than") as caught:
        await TextToSpeech(tmp_path, command=command, timeout=0.3).render("Hello", "en")
    assert caught.value.error_id == "tts_failed"


async def test_nothing_to_say_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        await TextToSpeech(tmp_path).render("  ", "en")
    assert caught.value.error_id == "tts_text_empty"


def test_an_engine_that_exits_before_reading_its_input_fails_clearly_under_uvloop(tmp_path: Path) -> None:
    """The server's loop is uvloop, whose write to a pipe the child already closed raises RuntimeError (asyncio's
    own loop swallows BrokenPipeError): the version question writes nothing, a render becomes `tts_failed`."""
    uvloop = pytest.importorskip("uvloop")
    command = script(tmp_path, VERSION + "exit 0")  # never reads the text
    (tmp_path / "silent").mkdir()
    silent = script(tmp_path / "silent", "exit 0")  # prints no version and exits at once

    async def ask() -> list[str]:
        versions = [await TextToSpeech(tmp_path / f"v{n}", command=silent).engine_version() for n in range(40)]
        for n in range(40):
            with pytest.raises(TextToSpeechError) as caught:
                await TextToSpeech(tmp_path / f"r{n}", command=command).render("Hello " * 20_000, "en")
            assert caught.value.error_id == "tts_failed"
        return versions

    assert set(uvloop.run(ask())) == {"unknown"}
