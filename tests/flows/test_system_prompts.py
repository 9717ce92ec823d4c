from __future__ import annotations

import wave
from pathlib import Path

import pytest

import callboard.voice
from callboard.flows.catalog import LANGUAGES as CATALOG_LANGUAGES
from callboard.flows.system_prompts import LANGUAGES, MULTILINGUAL, SYSTEM_PROMPTS, VOICES, segments

PROMPTS = Path(callboard.voice.__file__).parent / "prompts"
PHRASES = [
    "welcome",
    "choose-language",
    "main-menu",
    "invalid",
    "no-input",
    "goodbye",
    "connecting",
    "no-agent",
    "closed",
    "holiday",
    "emergency-closed",
    "you-are-number",
    "in-line",
    "expected-wait",
    "less-than-a-minute",
    "callback-offer",
    "callback-confirm",
    "callback-enter",
    "callback-registered",
    "leave-message",
    "message-saved",
    "hold-on",
]


def test_every_language_has_the_same_names() -> None:
    assert set(SYSTEM_PROMPTS) == set(LANGUAGES) == set(VOICES) == CATALOG_LANGUAGES
    names = set(SYSTEM_PROMPTS["en"])
    assert all(set(texts) == names for texts in SYSTEM_PROMPTS.values())
    assert set(PHRASES) <= names
    assert all(text.strip() for texts in SYSTEM_PROMPTS.values() for text in texts.values())


def test_the_language_menu_speaks_each_language_in_its_own_voice() -> None:
    parts = segments("choose-language", "es")
    assert [language for language, _ in parts] == ["en", "es", "ru"]
    assert "English" in parts[0][1] and "español" in parts[1][1] and "русского" in parts[2][1]
    assert set(MULTILINGUAL) == {"choose-language"}
    assert segments("closed", "ru") == (("ru", SYSTEM_PROMPTS["ru"]["closed"]),)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_prompt_is_shipped_as_8khz_mono_16bit_wav(language: str) -> None:
    folder = PROMPTS / language
    for name in SYSTEM_PROMPTS[language]:
        path = folder / f"{name}.wav"
        assert path.is_file(), f"{path} is missing: run scripts/render_prompts languages"
        with wave.open(str(path)) as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000), path
            assert 0.2 * 8000 < wav.getnframes() < 15 * 8000, path
    shipped = {path.stem for path in folder.glob("*.wav")}
    assert shipped == set(SYSTEM_PROMPTS[language]), "a WAV no prompt names: run scripts/render_prompts languages"
