"""The IVR's records: flow versions, documents, numbers unique across workspaces, prompts and closures."""

from __future__ import annotations

import io
import wave

import pytest
from sqlalchemy import inspect

from callboard.core.clock import VirtualClock
from callboard.core.errors import ConflictError, NotFoundError, ValidationError
from callboard.storage import Store
from callboard.storage.migrate import current_revision, upgrade
from conftest import Database

MAIN = {"name": "main", "start": "greet", "nodes": {"greet": {"type": "play", "prompt": "welcome"}}}


def wav(seconds: float = 0.5, rate: int = 8000, channels: int = 1) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x00" * channels * int(rate * seconds))
    return out.getvalue()


@pytest.fixture
async def ivr(store: Store) -> Store:
    """The store with two workspaces and a virtual clock (dates are checked)."""
    clocked = Store(store.engine, VirtualClock(1000.0))
    await clocked.save_workspace({"sid": "WS1", "friendly_name": "one"})
    await clocked.save_workspace({"sid": "WS2", "friendly_name": "two"})
    return clocked


def advance(store: Store, seconds: float) -> None:
    clock = store._clock
    assert isinstance(clock, VirtualClock)
    clock.advance(seconds)


async def test_publishing_a_flow_makes_a_version_only_when_it_changes(ivr: Store) -> None:
    assert await ivr.publish_flow("WS1", "main", MAIN) == 1
    advance(ivr, 5)
    assert await ivr.publish_flow("WS1", "main", dict(MAIN)) == 1  # unchanged
    changed = {**MAIN, "start": "menu"}
    assert await ivr.publish_flow("WS1", "main", changed) == 2
    advance(ivr, 5)
    assert await ivr.publish_flow("WS1", "main", MAIN) == 3  # back to the first: still a new version
    assert await ivr.publish_flow("WS2", "main", changed) == 1  # versions count per workspace

    assert await ivr.get_flow("WS1", "main") == {"name": "main", "version": 3, "definition": MAIN, "created_at": 1010}
    assert await ivr.get_flow("WS1", "main", 2) == {
        "name": "main",
        "version": 2,
        "definition": changed,
        "created_at": 1005,
    }
    assert await ivr.get_flow("WS1", "main", 4) is None
    assert await ivr.get_flow("WS1", "other") is None
    assert await ivr.flow_versions("WS1", "main") == [
        {"version": 1, "created_at": 1000},
        {"version": 2, "created_at": 1005},
        {"version": 3, "created_at": 1010},
    ]


async def test_list_flows_gives_the_latest_of_each_and_delete_takes_every_version(ivr: Store) -> None:
    await ivr.publish_flow("WS1", "main", MAIN)
    await ivr.publish_flow("WS1", "main", {**MAIN, "start": "x"})
    await ivr.publish_flow("WS1", "after-hours", {"name": "after-hours"})
    await ivr.publish_flow("WS2", "elsewhere", {"name": "elsewhere"})
    listed = await ivr.list_flows("WS1")
    assert [(f["name"], f["version"]) for f in listed] == [("after-hours", 1), ("main", 2)]
    assert listed[1]["definition"] == {**MAIN, "start": "x"}

    assert await ivr.delete_flow("WS1", "main") is True
    assert await ivr.delete_flow("WS1", "main") is False
    assert await ivr.flow_versions("WS1", "main") == []
    assert await ivr.publish_flow("WS1", "main", MAIN) == 1  # a new flow of the same name starts again


async def test_bodies_keep_their_keys_in_order(ivr: Store) -> None:
    # A flow without `start` starts at its first node: PostgreSQL's jsonb would sort the keys.
    nodes = {"zebra": {"type": "play"}, "alpha": {"type": "hangup"}, "mid": {"type": "hangup"}}
    await ivr.publish_flow("WS1", "main", {"name": "main", "nodes": nodes})
    assert list((await ivr.get_flow("WS1", "main") or {})["definition"]["nodes"]) == ["zebra", "alpha", "mid"]
    assert list((await ivr.list_flows("WS1"))[0]["definition"]) == ["name", "nodes"]
    body = {"time_zone": "Europe/Madrid", "name": "madrid", "weekly": {"sun": [], "mon": []}}
    await ivr.put_document("WS1", "schedule", "madrid", body)
    assert list((await ivr.get_document("WS1", "schedule", "madrid") or {})["weekly"]) == ["sun", "mon"]
    assert list((await ivr.list_documents("WS1", "schedule"))[0]["body"]) == ["time_zone", "name", "weekly"]
    await ivr.put_document("WS1", "number", "+34910000001", {"site": "x", "number": "+34910000001"})
    assert list((await ivr.find_number("+34910000001") or ("", {}))[1]) == ["site", "number"]


async def test_flows_are_refused_without_a_workspace_or_a_mapping(ivr: Store) -> None:
    with pytest.raises(NotFoundError):
        await ivr.publish_flow("WS404", "main", MAIN)
    with pytest.raises(ValidationError):
        await ivr.publish_flow("WS1", "main", ["not", "a", "mapping"])  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        await ivr.publish_flow("WS1", "", MAIN)


async def test_documents_are_upserted_by_kind_and_name(ivr: Store) -> None:
    week = {"name": "madrid", "timezone": "Europe/Madrid", "hours": {"mon-fri": "09:00-18:00"}}
    await ivr.put_document("WS1", "schedule", "madrid", week)
    await ivr.put_document("WS1", "queue_waiting", "madrid", {"announce_every": 60})  # same name, other kind
    await ivr.put_document("WS1", "schedule", "denver", {"name": "denver"})
    await ivr.put_document("WS1", "schedule", "madrid", {**week, "holidays": ["ES"]})
    assert await ivr.get_document("WS1", "schedule", "madrid") == {**week, "holidays": ["ES"]}
    assert await ivr.get_document("WS2", "schedule", "madrid") is None
    assert await ivr.list_documents("WS1", "schedule") == [
        {"name": "denver", "body": {"name": "denver"}},
        {"name": "madrid", "body": {**week, "holidays": ["ES"]}},
    ]
    assert await ivr.list_documents("WS1", "queue_waiting") == [{"name": "madrid", "body": {"announce_every": 60}}]
    assert await ivr.delete_document("WS1", "schedule", "madrid") is True
    assert await ivr.delete_document("WS1", "schedule", "madrid") is False
    assert await ivr.get_document("WS1", "queue_waiting", "madrid") == {"announce_every": 60}


async def test_documents_refuse_unknown_kinds_and_workspaces(ivr: Store) -> None:
    with pytest.raises(ValidationError) as raised:
        await ivr.put_document("WS1", "flow", "main", {})
    assert raised.value.error_id == "document_kind_unknown"
    with pytest.raises(ValidationError):
        await ivr.list_documents("WS1", "prompt")
    with pytest.raises(NotFoundError):
        await ivr.put_document("WS404", "schedule", "x", {})


async def test_a_number_belongs_to_one_workspace(ivr: Store) -> None:
    body = {"number": "+34910000001", "flow": "main", "schedule": "madrid"}
    await ivr.put_document("WS1", "number", "+34910000001", body)
    assert await ivr.find_number("+34910000001") == ("WS1", body)
    assert await ivr.find_number("+34910000002") is None

    with pytest.raises(ConflictError) as raised:
        await ivr.put_document("WS2", "number", "+34910000001", {"flow": "theirs"})
    assert raised.value.error_id == "number_taken"
    assert await ivr.find_number("+34910000001") == ("WS1", body)  # untouched

    await ivr.put_document("WS1", "number", "+34910000001", {**body, "flow": "other"})  # its owner may change it
    assert await ivr.list_documents("WS1", "number") == [{"name": "+34910000001", "body": {**body, "flow": "other"}}]
    assert await ivr.get_document("WS2", "number", "+34910000001") is None
    assert await ivr.delete_document("WS2", "number", "+34910000001") is False  # not theirs to delete

    assert await ivr.delete_document("WS1", "number", "+34910000001") is True
    await ivr.put_document("WS2", "number", "+34910000001", {"flow": "theirs"})  # free again
    assert await ivr.find_number("+34910000001") == ("WS2", {"flow": "theirs"})


@pytest.mark.parametrize("number", ["34910000001", "+34 910 000 001", "+0123", "", "+1234567890123456"])
async def test_numbers_must_be_e164(ivr: Store, number: str) -> None:
    with pytest.raises(ValidationError) as raised:
        await ivr.put_document("WS1", "number", number, {})
    assert raised.value.error_id in ("number_invalid", "validation_error")


async def test_prompts_keep_audio_or_text_per_language(ivr: Store) -> None:
    audio = wav(1.5)
    await ivr.put_prompt("WS1", "welcome", "en", audio=audio, text="Welcome.", voice=None, source="upload")
    await ivr.put_prompt("WS1", "welcome", "es", audio=None, text="Bienvenido.", voice="es", source="tts")
    await ivr.put_prompt("WS1", "bye", "en", audio=None, text="Bye.", voice=None, source="tts")
    assert await ivr.get_prompt("WS1", "welcome", "en") == {
        "name": "welcome",
        "language": "en",
        "text": "Welcome.",
        "voice": None,
        "source": "upload",
        "audio": audio,
        "updated_at": 1000,
    }
    assert await ivr.get_prompt("WS1", "welcome", "ru") is None
    assert await ivr.get_prompt("WS2", "welcome", "en") is None
    listed = await ivr.list_prompts("WS1")
    assert [(p["name"], p["language"], p["has_audio"], p["seconds"]) for p in listed] == [
        ("bye", "en", False, None),
        ("welcome", "en", True, 1.5),
        ("welcome", "es", False, None),
    ]
    assert all("audio" not in p for p in listed)

    # rendering the text later replaces the row with the same text and its audio
    advance(ivr, 1)
    await ivr.put_prompt("WS1", "bye", "en", audio=wav(0.25), text="Bye.", voice=None, source="tts")
    bye = await ivr.get_prompt("WS1", "bye", "en")
    assert bye is not None and bye["source"] == "tts" and bye["updated_at"] == 1001 and bye["audio"] == wav(0.25)

    assert await ivr.delete_prompt("WS1", "welcome", "es") == 1
    assert await ivr.delete_prompt("WS1", "welcome", "es") == 0
    await ivr.put_prompt("WS1", "welcome", "ru", audio=None, text="Привет.", voice="ru", source="tts")
    assert await ivr.delete_prompt("WS1", "welcome") == 2
    assert [p["name"] for p in await ivr.list_prompts("WS1")] == ["bye"]


@pytest.mark.parametrize(
    ("audio", "text", "source"),
    [
        (None, None, "tts"),  # nothing to say
        (None, "", "tts"),
        (b"RIFF not really", None, "upload"),
        (wav(rate=16000), None, "upload"),
        (wav(channels=2), None, "upload"),
        (None, "Hello.", "recorded"),
    ],
)
async def test_malformed_prompts_are_refused(ivr: Store, audio: bytes | None, text: str | None, source: str) -> None:
    with pytest.raises(ValidationError):
        await ivr.put_prompt("WS1", "p", "en", audio=audio, text=text, voice=None, source=source)
    assert await ivr.list_prompts("WS1") == []


async def test_closures_are_the_emergency_switch(ivr: Store) -> None:
    closed = await ivr.set_closure("WS1", "number", "+34910000001", prompt="storm", text=None)
    assert closed == {"scope": "number", "target": "+34910000001", "prompt": "storm", "text": None, "closed_at": 1000}
    advance(ivr, 60)
    await ivr.set_closure("WS1", "site", "madrid", prompt=None, text="We are closed today.")
    again = await ivr.set_closure("WS1", "number", "+34910000001", prompt=None, text="Closed for the storm.")
    assert again["closed_at"] == 1000 and again["text"] == "Closed for the storm." and again["prompt"] is None
    assert [(c["scope"], c["target"], c["closed_at"]) for c in await ivr.list_closures("WS1")] == [
        ("number", "+34910000001", 1000),
        ("site", "madrid", 1060),
    ]
    assert await ivr.list_closures("WS2") == []
    assert await ivr.clear_closure("WS1", "site", "madrid") is True
    assert await ivr.clear_closure("WS1", "site", "madrid") is False
    assert [c["target"] for c in await ivr.list_closures("WS1")] == ["+34910000001"]

    with pytest.raises(ValidationError):
        await ivr.set_closure("WS1", "queue", "sales", prompt=None, text="x")
    with pytest.raises(ValidationError):
        await ivr.set_closure("WS1", "number", "910000001", prompt=None, text="x")


async def test_everything_survives_a_restart_and_goes_with_its_workspace(ivr: Store, database: Database) -> None:
    await ivr.publish_flow("WS1", "main", MAIN)
    await ivr.put_document("WS1", "schedule", "madrid", {"name": "madrid"})
    await ivr.put_document("WS1", "number", "+34910000001", {"flow": "main"})
    await ivr.put_prompt("WS1", "welcome", "en", audio=wav(), text=None, voice=None, source="file")
    await ivr.set_closure("WS1", "site", "madrid", prompt=None, text="Closed.")
    await ivr.publish_flow("WS2", "main", MAIN)

    reopened = await database.open()
    try:
        assert (await reopened.get_flow("WS1", "main") or {})["definition"] == MAIN
        assert await reopened.get_document("WS1", "schedule", "madrid") == {"name": "madrid"}
        assert await reopened.find_number("+34910000001") == ("WS1", {"flow": "main"})
        assert (await reopened.get_prompt("WS1", "welcome", "en") or {})["audio"] == wav()
        assert len(await reopened.list_closures("WS1")) == 1

        await reopened.delete_workspace("WS1")
        assert await reopened.list_flows("WS1") == []
        assert await reopened.list_documents("WS1", "schedule") == []
        assert await reopened.find_number("+34910000001") is None
        assert await reopened.list_prompts("WS1") == []
        assert await reopened.list_closures("WS1") == []
        assert [f["name"] for f in await reopened.list_flows("WS2")] == ["main"]
    finally:
        await reopened.close()


async def test_upgrading_from_0002_adds_the_ivr_tables(database: Database) -> None:
    store = await database.open()
    try:
        await upgrade(store.engine, "0002")
        await store.save_workspace({"sid": "WS1", "friendly_name": "main"})
        await store.migrate()
        assert await current_revision(store.engine) >= "0003"
        async with store.engine.connect() as conn:
            names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert {"flow_versions", "ivr_documents", "numbers", "prompts", "closures", "contacts"} <= names
        assert await store.publish_flow("WS1", "main", MAIN) == 1
    finally:
        await store.close()
