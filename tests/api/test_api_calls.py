"""Call records over the API: who sees which calls, paging, and who may download recordings from where."""

from __future__ import annotations

import os
import wave
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from callboard.api import create_api
from callboard.app.center import Center

from .api_support import Seed, error_id, make_client

RECORDED = b"\x01\x02" * 800  # 100 ms of stereo 16-bit samples at 8 kHz


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    folder = tmp_path / "recordings"
    folder.mkdir()
    return folder


@pytest.fixture
def api(center: Center, recordings: Path) -> FastAPI:
    return create_api(center, login_rate_limit=3, recordings_dir=recordings)


def write_wav(path: Path) -> bytes:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(RECORDED)
    return path.read_bytes()


async def save(center: Center, seed: Seed, sid: str, started_at: float, **fields: Any) -> None:
    record = {"sid": sid, "workspace_sid": seed.ws, "direction": "inbound", "started_at": started_at}
    await center.store.save_call(record | {"caller": "+34600000000", "called": "900"} | fields)


def sids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [c["sid"] for c in response.json()["items"]]


@pytest.fixture
async def calls(center: Center, seed: Seed, recordings: Path) -> dict[str, Any]:
    """CA1 alice's call (recorded), CA2 bob's, CA3 abandoned in Support with no agent."""
    wav = write_wav(recordings / "CA1.wav")
    await save(
        center,
        seed,
        "CA1",
        100.0,
        worker_sid=seed.alice,
        queue_sid=seed.support,
        outcome="completed",
        recording_path=str(recordings / "CA1.wav"),
    )
    await save(center, seed, "CA2", 200.0, worker_sid=seed.bob, queue_sid=seed.sales, outcome="completed")
    await save(center, seed, "CA3", 300.0, queue_sid=seed.support, outcome="abandoned")
    return {"wav": wav}


async def test_staff_see_every_call_and_an_agent_only_its_own(seed: Seed, calls: dict[str, Any]) -> None:
    for client in (seed.admin, seed.supervisor):
        assert sids(await client.get(seed.url("/calls"))) == ["CA3", "CA2", "CA1"]
        assert (await client.get(seed.url("/calls/CA2"))).json()["worker_sid"] == seed.bob
    assert sids(await seed.agent.get(seed.url("/calls"))) == ["CA1"]
    assert (await seed.agent.get(seed.url("/calls/CA1"))).json()["worker_sid"] == seed.alice
    for other in ("CA2", "CA3", "CA404"):
        response = await seed.agent.get(seed.url(f"/calls/{other}"))
        assert response.status_code == 404 and error_id(response) == "call_not_found"
    # Asking for someone else's calls gives nothing, not theirs.
    assert sids(await seed.agent.get(seed.url(f"/calls?worker_sid={seed.bob}"))) == []
    assert sids(await seed.agent.get(seed.url(f"/calls?worker_sid={seed.alice}"))) == ["CA1"]
    missing = await seed.supervisor.get(seed.url("/calls/CA404"))
    assert missing.status_code == 404 and error_id(missing) == "call_not_found"


async def test_the_record_fields_and_who_sees_the_recording(
    seed: Seed, calls: dict[str, Any], recordings: Path
) -> None:
    admin = (await seed.admin.get(seed.url("/calls/CA1"))).json()
    supervisor = (await seed.supervisor.get(seed.url("/calls/CA1"))).json()
    agent = (await seed.agent.get(seed.url("/calls/CA1"))).json()
    url = f"/api/v1/workspaces/{seed.ws}/calls/CA1/recording"
    assert admin["recording_path"] == str(recordings / "CA1.wav") and admin["recording_url"] == url
    assert supervisor["recording_path"] is None and supervisor["recording_url"] == url
    assert agent["recording_path"] is None and agent["recording_url"] is None
    assert admin["has_recording"] and supervisor["has_recording"] and agent["has_recording"]
    assert str(recordings) not in str(agent) and str(recordings) not in str(supervisor)
    assert set(admin) == {
        *("sid", "workspace_sid", "direction", "caller", "called", "from_uri", "to_uri", "task_sid", "queue_sid"),
        *("worker_sid", "agent_contact", "started_at", "answered_at", "enqueued_at", "agent_answered_at"),
        *("ended_at", "wait_seconds", "talk_seconds", "hold_seconds", "outcome", "hangup_cause", "hangup_by"),
        *("recording_path", "attributes", "has_recording", "recording_url", "disposition", "notes"),
    }
    assert admin["caller"] == "+34600000000" and admin["started_at"] == 100.0 and admin["wait_seconds"] == 0.0
    unrecorded = (await seed.admin.get(seed.url("/calls/CA2"))).json()
    assert unrecorded["has_recording"] is False and unrecorded["recording_url"] is None
    listed = (await seed.agent.get(seed.url("/calls"))).json()["items"][0]
    assert listed == agent


async def test_filters(seed: Seed, calls: dict[str, Any]) -> None:
    assert sids(await seed.supervisor.get(seed.url(f"/calls?queue_sid={seed.support}"))) == ["CA3", "CA1"]
    assert sids(await seed.supervisor.get(seed.url(f"/calls?worker_sid={seed.bob}"))) == ["CA2"]
    assert sids(await seed.supervisor.get(seed.url("/calls?outcome=completed"))) == ["CA2", "CA1"]
    assert sids(await seed.agent.get(seed.url("/calls?outcome=abandoned"))) == []
    bad = await seed.supervisor.get(seed.url("/calls?outcome=great"))
    assert bad.status_code == 422 and error_id(bad) == "request_invalid"


async def test_paging_newest_first_without_losing_calls_that_started_together(center: Center, seed: Seed) -> None:
    for n in range(5):
        await save(center, seed, f"CA{n}", 1000.0 + n)
    for sid in ("CAa", "CAb", "CAc"):
        await save(center, seed, sid, 999.0)  # three calls at the same instant, across a page boundary
    seen: list[str] = []
    query = "/calls?limit=3"
    while True:
        body = (await seed.supervisor.get(seed.url(query))).json()
        seen += [c["sid"] for c in body["items"]]
        meta = body["meta"]
        assert meta["limit"] == 3
        if meta["next_before"] is None:
            break
        query = f"/calls?limit=3&before={meta['next_before']}&before_sid={meta['next_before_sid']}"
    assert seen == ["CA4", "CA3", "CA2", "CA1", "CA0", "CAc", "CAb", "CAa"]
    earlier = await seed.supervisor.get(seed.url("/calls?before=1002"))
    assert sids(earlier) == ["CA1", "CA0", "CAc", "CAb", "CAa"]
    iso = await seed.supervisor.get(seed.url("/calls?before=1970-01-01T00:16:42Z"))  # 1002 s
    assert sids(iso) == sids(earlier)
    for limit in (0, 501):
        response = await seed.supervisor.get(seed.url(f"/calls?limit={limit}"))
        assert response.status_code == 422 and error_id(response) == "request_invalid"
    assert len(sids(await seed.supervisor.get(seed.url("/calls?limit=500")))) == 8


async def test_calls_of_another_workspace_are_not_reachable(center: Center, seed: Seed) -> None:
    other = await center.create_workspace("other")
    await center.store.save_call({"sid": "CA9", "workspace_sid": other.sid, "direction": "inbound", "started_at": 1})
    assert sids(await seed.admin.get(seed.url("/calls"))) == []
    assert (await seed.admin.get(seed.url("/calls/CA9"))).status_code == 404
    assert sids(await seed.admin.get(f"/api/v1/workspaces/{other.sid}/calls")) == ["CA9"]
    denied = await seed.agent.get(f"/api/v1/workspaces/{other.sid}/calls")
    assert denied.status_code == 403 and error_id(denied) == "permission_denied"


# Recordings


async def test_staff_download_the_recording_and_agents_may_not(seed: Seed, calls: dict[str, Any]) -> None:
    for client in (seed.admin, seed.supervisor):
        response = await client.get(seed.url("/calls/CA1/recording"))
        assert response.status_code == 200
        assert response.headers["content-type"] == "audio/wav"
        assert response.content == calls["wav"]
        assert 'filename="CA1.wav"' in response.headers["content-disposition"]
    for sid in ("CA1", "CA2"):  # even its own call
        response = await seed.agent.get(seed.url(f"/calls/{sid}/recording"))
        assert response.status_code == 403 and error_id(response) == "permission_denied"


async def test_a_call_without_a_recording_or_whose_file_is_gone_is_404(
    seed: Seed, calls: dict[str, Any], recordings: Path
) -> None:
    none = await seed.supervisor.get(seed.url("/calls/CA2/recording"))
    assert none.status_code == 404 and error_id(none) == "recording_not_found"
    unknown = await seed.supervisor.get(seed.url("/calls/CA404/recording"))
    assert unknown.status_code == 404 and error_id(unknown) == "call_not_found"
    (recordings / "CA1.wav").unlink()
    gone = await seed.supervisor.get(seed.url("/calls/CA1/recording"))
    assert gone.status_code == 404 and error_id(gone) == "recording_not_found"


@pytest.mark.parametrize("kind", ["absolute", "dotdot", "symlink", "folder"])
async def test_a_recording_path_outside_the_folder_is_refused(
    center: Center, seed: Seed, recordings: Path, tmp_path: Path, kind: str
) -> None:
    secret = tmp_path / "secret.wav"
    write_wav(secret)
    if kind == "absolute":
        stored = str(secret)
    elif kind == "dotdot":
        stored = str(recordings / ".." / "secret.wav")
    elif kind == "symlink":
        os.symlink(secret, recordings / "CA7.wav")
        stored = str(recordings / "CA7.wav")
    else:
        stored = str(recordings)  # the folder itself is no recording
    await save(center, seed, "CA7", 1.0, recording_path=stored)
    response = await seed.admin.get(seed.url("/calls/CA7/recording"))
    assert response.status_code == 404 and error_id(response) == "recording_not_found"
    assert secret.read_bytes() not in response.content


async def test_relative_paths_from_the_working_directory_or_the_folder(
    center: Center, seed: Seed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The voice plane writes `recordings_dir / "CA....wav"`; with the default folder that path is relative.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rec").mkdir()
    wav = write_wav(tmp_path / "rec" / "CA1.wav")
    write_wav(tmp_path / "CA2.wav")  # in the working directory, not in the folder
    await save(center, seed, "CA1", 1.0, recording_path="rec/CA1.wav")
    await save(center, seed, "CA3", 3.0, recording_path="CA1.wav")
    await save(center, seed, "CA2", 2.0, recording_path="CA2.wav")
    app = create_api(center, recordings_dir=Path("rec"))
    async with make_client(app, seed.tokens["supervisor"]) as client:
        for sid in ("CA1", "CA3"):
            response = await client.get(seed.url(f"/calls/{sid}/recording"))
            assert response.status_code == 200 and response.content == wav
        refused = await client.get(seed.url("/calls/CA2/recording"))
        assert refused.status_code == 404 and error_id(refused) == "recording_not_found"


async def test_without_a_recordings_folder_nothing_is_served(center: Center, seed: Seed, calls: dict[str, Any]) -> None:
    async with make_client(create_api(center), seed.tokens["admin"]) as client:
        response = await client.get(seed.url("/calls/CA1/recording"))
        assert response.status_code == 404 and error_id(response) == "recording_not_found"
        assert (await client.get(seed.url("/calls/CA1"))).json()["has_recording"] is True


# Searching calls: a date range, a number, recorded or not


async def test_a_date_range(seed: Seed, calls: dict[str, Any]) -> None:
    assert sids(await seed.supervisor.get(seed.url("/calls?start_date=150"))) == ["CA3", "CA2"]
    assert sids(await seed.supervisor.get(seed.url("/calls?end_date=300"))) == ["CA2", "CA1"]
    assert sids(await seed.supervisor.get(seed.url("/calls?start_date=100&end_date=300"))) == ["CA2", "CA1"]
    iso = "/calls?start_date=1970-01-01T00:02:30Z&end_date=1970-01-01T00:05:00"  # 150 to 300 s
    assert sids(await seed.supervisor.get(seed.url(iso))) == ["CA2"]
    assert sids(await seed.supervisor.get(seed.url("/calls?end_date=250&before=1000"))) == ["CA2", "CA1"]
    assert sids(await seed.supervisor.get(seed.url("/calls?end_date=250&before=150"))) == ["CA1"]
    bad = await seed.supervisor.get(seed.url("/calls?start_date=yesterday"))
    assert bad.status_code == 422 and error_id(bad) == "invalid_date"


async def test_a_number_calling_or_called(center: Center, seed: Seed, calls: dict[str, Any]) -> None:
    await save(center, seed, "CA4", 400.0, caller="+34911222333", called="+34910000000", worker_sid=seed.alice)
    for number in ("+34 911 222 333", "911222333", "0034911222333", "+34910000000"):
        assert sids(await seed.supervisor.get(seed.url("/calls"), params={"number": number})) == ["CA4"], number
    assert sids(await seed.supervisor.get(seed.url("/calls?number=600000000"))) == ["CA3", "CA2", "CA1"]
    assert sids(await seed.agent.get(seed.url("/calls?number=600000000"))) == ["CA1"]  # still only its own
    bad = await seed.supervisor.get(seed.url("/calls?number=sales"))
    assert bad.status_code == 422 and error_id(bad) == "number_invalid"


async def test_recorded_or_not(seed: Seed, calls: dict[str, Any]) -> None:
    assert sids(await seed.supervisor.get(seed.url("/calls?has_recording=true"))) == ["CA1"]
    assert sids(await seed.supervisor.get(seed.url("/calls?has_recording=false"))) == ["CA3", "CA2"]
    queue = f"/calls?has_recording=true&queue_sid={seed.support}&worker_sid={seed.alice}&number=600000000"
    assert sids(await seed.supervisor.get(seed.url(queue))) == ["CA1"]
    assert sids(await seed.agent.get(seed.url("/calls?has_recording=false"))) == []


async def test_a_search_by_number_pages_through_full_pages(center: Center, seed: Seed) -> None:
    for n in range(12):
        caller = "+34911000000" if n in (1, 4, 7, 8, 10) else "+34600000000"
        await save(center, seed, f"CA{n:02}", 1000.0 + n, caller=caller)
    await save(center, seed, "CA99", 1004.0, caller="+34911000000")  # started with CA04: both on one page or next
    pages: list[list[str]] = []
    query = "/calls?limit=2&number=911000000"
    while True:
        body = (await seed.supervisor.get(seed.url(query))).json()
        pages.append([c["sid"] for c in body["items"]])
        meta = body["meta"]
        if meta["next_before"] is None:
            break
        query = f"/calls?limit=2&number=911000000&before={meta['next_before']}&before_sid={meta['next_before_sid']}"
    assert pages == [["CA10", "CA08"], ["CA07", "CA99"], ["CA04", "CA01"]]


async def test_a_recording_plays_from_any_point(seed: Seed, calls: dict[str, Any]) -> None:
    # Browsers' audio elements ask for byte ranges to seek.
    whole = await seed.supervisor.get(seed.url("/calls/CA1/recording"))
    assert whole.headers["accept-ranges"] == "bytes"
    size = len(calls["wav"])
    part = await seed.supervisor.get(seed.url("/calls/CA1/recording"), headers={"Range": "bytes=44-99"})
    assert part.status_code == 206 and part.content == calls["wav"][44:100]
    assert part.headers["content-range"] == f"bytes 44-99/{size}"
    tail = await seed.supervisor.get(seed.url("/calls/CA1/recording"), headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == calls["wav"][-10:]
    beyond = await seed.supervisor.get(seed.url("/calls/CA1/recording"), headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416
    agent = await seed.agent.get(seed.url("/calls/CA1/recording"), headers={"Range": "bytes=0-9"})
    assert agent.status_code == 403 and error_id(agent) == "permission_denied"
