"""The prompt library over the API: uploads converted once, text-to-speech, previews, the system prompts."""

from __future__ import annotations

import io
import math
import struct
import wave
from pathlib import Path

from fastapi import FastAPI

from callboard.flows.tts import TextToSpeech
from conftest import require_peer

from .api_support import Seed, error_id
from .test_flows_api import listen


def tone(rate: int = 16000, channels: int = 2, seconds: float = 0.5) -> bytes:
    """A 440 Hz tone as a WAV file that is not what calls play (16 kHz stereo)."""
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) * channels
        for i in range(int(rate * seconds))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return out.getvalue()


def shape(data: bytes) -> tuple[int, int, float]:
    with wave.open(io.BytesIO(data), "rb") as wav:
        return wav.getframerate(), wav.getnchannels(), wav.getnframes() / wav.getframerate()


def rendered(cache: Path) -> int:
    return len(list(cache.glob("*.wav")))


async def test_an_uploaded_recording_is_converted_and_previewed(seed: Seed, api: FastAPI) -> None:
    heard = listen(api)
    stored = await seed.admin.put(
        seed.url("/prompts/greeting/es"), content=tone(), headers={"Content-Type": "audio/wav"}
    )
    assert stored.status_code == 200, stored.text
    prompt = stored.json()
    assert (prompt["name"], prompt["language"], prompt["source"], prompt["system"]) == (
        "greeting",
        "es",
        "upload",
        False,
    )
    assert prompt["has_audio"] is True and abs(prompt["seconds"] - 0.5) < 0.05
    assert heard.changes == [seed.ws]

    preview = await seed.supervisor.get(seed.url("/prompts/greeting/es/audio"))
    assert preview.status_code == 200 and preview.headers["content-type"] == "audio/wav"
    rate, channels, seconds = shape(preview.content)
    assert (rate, channels) == (8000, 1) and abs(seconds - 0.5) < 0.05


async def test_a_recording_comes_in_a_multipart_form_too(seed: Seed) -> None:
    files = {"file": ("hello.wav", tone(rate=44100, channels=1), "audio/wav")}
    stored = await seed.admin.put(seed.url("/prompts/hello/en"), files=files)
    assert stored.status_code == 200, stored.text
    assert shape((await seed.admin.get(seed.url("/prompts/hello/en/audio"))).content)[:2] == (8000, 1)

    empty = await seed.admin.put(seed.url("/prompts/hello/en"), files={"note": (None, "no file here")})
    assert empty.status_code == 422 and error_id(empty) == "prompt_missing"


async def test_what_is_not_audio_is_refused(seed: Seed) -> None:
    garbage = await seed.admin.put(
        seed.url("/prompts/greeting/en"), content=b"not audio at all" * 64, headers={"Content-Type": "audio/mpeg"}
    )
    assert garbage.status_code == 422 and error_id(garbage) == "prompt_format_invalid"
    nothing = await seed.admin.put(seed.url("/prompts/greeting/en"), headers={"Content-Type": "audio/wav"})
    assert nothing.status_code == 422 and error_id(nothing) == "prompt_missing"
    bad_name = await seed.admin.put(seed.url("/prompts/..%2Fsecret/en"), content=tone())
    assert bad_name.status_code in (404, 422)
    bad_language = await seed.admin.get(seed.url("/prompts/welcome/english/audio"))
    assert bad_language.status_code == 422 and error_id(bad_language) == "request_invalid"
    assert (await seed.admin.get(seed.url("/prompts"))).json()["items"][0]["system"] is True


async def test_system_prompts_are_listed_and_previewed(seed: Seed) -> None:
    items = (await seed.supervisor.get(seed.url("/prompts"), params={"system": "true", "page_size": 1000})).json()
    assert items["meta"]["total"] > 100 and all(p["system"] for p in items["items"])
    welcome = [p for p in items["items"] if p["name"] == "welcome"]
    assert {p["language"] for p in welcome} == {"en", "es", "ru"}
    assert all(p["has_audio"] and p["text"] for p in welcome)
    preview = await seed.supervisor.get(seed.url("/prompts/welcome/ru/audio"))
    assert preview.status_code == 200 and shape(preview.content)[:2] == (8000, 1)
    missing = await seed.supervisor.get(seed.url("/prompts/goodbye/fr/audio"))
    assert missing.status_code == 404 and error_id(missing) == "prompt_not_found"


async def test_a_stored_prompt_is_deleted_by_language_or_whole(seed: Seed) -> None:
    for language in ("en", "es"):
        await seed.admin.put(seed.url(f"/prompts/welcome/{language}"), content=tone())
    stored = (await seed.admin.get(seed.url("/prompts"), params={"system": "false"})).json()["items"]
    assert [(p["name"], p["language"]) for p in stored] == [("welcome", "en"), ("welcome", "es")]

    assert (await seed.admin.delete(seed.url("/prompts/welcome/es"))).status_code == 204
    assert (await seed.admin.delete(seed.url("/prompts/welcome/es"))).status_code == 404
    assert (await seed.admin.delete(seed.url("/prompts/welcome"))).status_code == 204
    gone = await seed.admin.delete(seed.url("/prompts/welcome"))
    assert gone.status_code == 404 and error_id(gone) == "prompt_not_found"
    # The system prompt of that name is said (and previewed) again.
    assert (await seed.admin.get(seed.url("/prompts/welcome/es/audio"))).status_code == 200


async def test_a_prompt_a_flow_says_is_not_deleted(seed: Seed) -> None:
    await seed.admin.put(seed.url("/prompts/promo/en"), content=tone())
    flow = {"nodes": {"intro": {"type": "play", "say": "promo", "next": "bye"}, "bye": {"type": "hangup"}}}
    assert (await seed.admin.put(seed.url("/flows/main"), json=flow)).status_code == 201

    in_use = await seed.admin.delete(seed.url("/prompts/promo"))
    assert in_use.status_code == 409 and error_id(in_use) == "prompt_in_use"
    assert in_use.json()["error"]["details"]["problems"][0]["path"] == "flows.main.nodes.intro.say"
    assert (await seed.admin.delete(seed.url("/prompts/promo/en"))).status_code == 409


async def test_text_to_speech_is_rendered_once_and_stored(seed: Seed, api: FastAPI, tmp_path: Path) -> None:
    tts = TextToSpeech(tmp_path)
    require_peer("espeak-ng", tts.available(), "apt-get install espeak-ng")
    api.state.tts = tts
    spoken = await seed.admin.post(seed.url("/prompts/promo/es/tts"), json={"text": "Hola, gracias por llamar."})
    assert spoken.status_code == 200, spoken.text
    prompt = spoken.json()
    assert (prompt["source"], prompt["text"], prompt["voice"], prompt["has_audio"]) == (
        "tts",
        "Hola, gracias por llamar.",
        None,
        True,
    )
    assert prompt["seconds"] > 0.5
    assert shape((await seed.admin.get(seed.url("/prompts/promo/es/audio"))).content)[:2] == (8000, 1)
    assert rendered(tmp_path) == 1


async def test_text_to_speech_without_espeak_is_unavailable(seed: Seed, api: FastAPI, tmp_path: Path) -> None:
    api.state.tts = TextToSpeech(tmp_path, command="no-such-espeak-ng")
    response = await seed.admin.post(seed.url("/prompts/promo/en/tts"), json={"text": "Hello"})
    assert response.status_code == 503 and error_id(response) == "tts_unavailable"
    assert (await seed.admin.get(seed.url("/prompts/promo/en/audio"))).status_code == 404


async def test_supervisors_preview_prompts_and_agents_do_not(seed: Seed) -> None:
    assert (await seed.supervisor.get(seed.url("/prompts/welcome/en/audio"))).status_code == 200
    for response in (
        await seed.supervisor.put(seed.url("/prompts/greeting/en"), content=tone()),
        await seed.supervisor.delete(seed.url("/prompts/greeting")),
        await seed.supervisor.post(seed.url("/prompts/greeting/en/tts"), json={"text": "Hello"}),
        await seed.agent.get(seed.url("/prompts")),
        await seed.agent.get(seed.url("/prompts/welcome/en/audio")),
    ):
        assert response.status_code == 403 and error_id(response) == "permission_denied"
