"""The softphone's API over a fake line port: who may open, answer and steer a line, what the page sends and gets
back, and how a transfer's outcome and a missing voice node become errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from callboard.core.errors import InvalidStateError, NotFoundError
from callboard.voice.calls.errors import DialError
from callboard.voice.calls.events import HangupCause

from .api_support import Seed, error_id


class FakeLines:
    """The voice node's lines as the API sees them: records what the page asked."""

    def __init__(self) -> None:
        self.open: dict[str, str] = {}
        self.asked: list[tuple[str, str, Any]] = []
        self.transfer_status = 200

    def _line(self, worker_sid: str) -> dict[str, Any]:
        if worker_sid not in self.open:
            raise NotFoundError("no line", error_id="line_not_open")
        return {"worker_sid": worker_sid, "state": "idle"}

    async def open_line(self, worker_sid: str, offer: str) -> str:
        self.open[worker_sid] = offer
        return "v=0 answer"

    async def close_line(self, worker_sid: str) -> bool:
        return self.open.pop(worker_sid, None) is not None

    def line_view(self, worker_sid: str) -> dict[str, Any]:
        return self._line(worker_sid)

    def desk_view(self, worker_sid: str) -> dict[str, Any]:
        return {"worker_sid": worker_sid, "device": "sip", "state": "idle"}

    def answer(self, worker_sid: str) -> dict[str, Any]:
        if worker_sid not in self.open:
            raise InvalidStateError("answer on the desk phone", error_id="answer_on_phone")
        self.asked.append((worker_sid, "answer", None))
        return self._line(worker_sid)

    def reject(self, worker_sid: str) -> dict[str, Any]:
        raise InvalidStateError("no call is ringing", error_id="line_not_ringing")

    async def hang_up(self, worker_sid: str) -> dict[str, Any]:
        self.asked.append((worker_sid, "hangup", None))
        return self._line(worker_sid)

    def hold(self, worker_sid: str, held: bool) -> dict[str, Any]:
        self.asked.append((worker_sid, "hold", held))
        return self._line(worker_sid)

    def mute(self, worker_sid: str, muted: bool) -> dict[str, Any]:
        self.asked.append((worker_sid, "mute", muted))
        return self._line(worker_sid)

    async def dtmf(self, worker_sid: str, digits: str) -> dict[str, Any]:
        self.asked.append((worker_sid, "dtmf", digits))
        return self._line(worker_sid)

    async def transfer(self, worker_sid: str, target: str) -> int:
        self.asked.append((worker_sid, "transfer", target))
        return self.transfer_status

    async def consult(self, worker_sid: str, target: str) -> dict[str, Any]:
        self.asked.append((worker_sid, "consult", target))
        if target == "busy":
            raise DialError(HangupCause.BUSY)
        return {**self._line(worker_sid), "consult": {"target": target, "state": "talking"}}

    async def consult_cancel(self, worker_sid: str) -> dict[str, Any]:
        self.asked.append((worker_sid, "consult/cancel", None))
        return self._line(worker_sid)

    async def consult_complete(self, worker_sid: str) -> int:
        self.asked.append((worker_sid, "consult/complete", None))
        return self.transfer_status

    def conference(self, worker_sid: str) -> dict[str, Any]:
        self.asked.append((worker_sid, "conference", None))
        return self._line(worker_sid)

    async def dial(self, workspace_sid: str, worker_sid: str, target: str) -> dict[str, Any]:
        self.asked.append((worker_sid, "dial", (workspace_sid, target)))
        if target == "nobody":
            raise NotFoundError("no such target", error_id="dial_target_not_found")
        return {"call_sid": "CA1", "task_sid": "WT1", "line": self._line(worker_sid)}


@pytest.fixture
def lines(api: FastAPI) -> FakeLines:
    api.state.phone = FakeLines()
    fake: FakeLines = api.state.phone
    return fake


async def test_the_agent_opens_its_line_and_steers_its_call(seed: Seed, lines: FakeLines) -> None:
    url = seed.url(f"/workers/{seed.alice}/phone")
    opened = await seed.agent.post(url, json={"type": "offer", "sdp": "v=0 offer"})
    assert opened.status_code == 200, opened.text
    assert opened.json()["sdp"] == "v=0 answer" and opened.json()["type"] == "answer"
    assert lines.open[seed.alice] == "v=0 offer"
    assert (await seed.agent.get(url)).json()["state"] == "idle"
    for action, body in [("answer", None), ("hold", None), ("resume", None), ("mute", None), ("unmute", None)]:
        assert (await seed.agent.post(f"{url}/{action}", json=body)).status_code == 200
    assert (await seed.agent.post(f"{url}/dtmf", json={"digits": "12#"})).status_code == 200
    assert (await seed.agent.post(f"{url}/transfer", json={"target": "Sales"})).json()["transferred"] is True
    assert (await seed.agent.post(f"{url}/hangup")).status_code == 200
    assert [a[1:] for a in lines.asked] == [
        ("answer", None), ("hold", True), ("hold", False), ("mute", True), ("mute", False), ("dtmf", "12#"),
        ("transfer", "Sales"), ("hangup", None),
    ]  # fmt: skip
    rejected = await seed.agent.post(f"{url}/reject")
    assert (rejected.status_code, error_id(rejected)) == (409, "line_not_ringing")
    assert (await seed.agent.delete(url)).status_code == 204
    closed = await seed.agent.delete(url)
    assert (closed.status_code, error_id(closed)) == (404, "line_not_open")


async def test_only_the_agent_opens_or_answers_its_line_and_staff_may_steer_it(seed: Seed, lines: FakeLines) -> None:
    alice, bob = seed.url(f"/workers/{seed.alice}/phone"), seed.url(f"/workers/{seed.bob}/phone")
    offer = {"type": "offer", "sdp": "v=0 offer"}
    assert (await seed.agent.post(bob, json=offer)).status_code == 403
    assert (await seed.admin.post(alice, json=offer)).status_code == 403
    assert (await seed.agent.post(alice, json=offer)).status_code == 200
    assert (await seed.supervisor.post(f"{alice}/answer")).status_code == 403
    assert (await seed.supervisor.post(f"{alice}/mute")).status_code == 403
    assert (await seed.supervisor.post(f"{alice}/hold")).status_code == 200
    assert (await seed.supervisor.get(alice)).status_code == 200
    assert (await seed.agent.get(bob)).status_code == 403
    missing = await seed.supervisor.get(seed.url("/workers/WKnobody/phone"))
    assert (missing.status_code, error_id(missing)) == (404, "worker_not_found")


async def test_bad_digits_and_failed_transfers(seed: Seed, lines: FakeLines) -> None:
    url = seed.url(f"/workers/{seed.alice}/phone")
    await seed.agent.post(url, json={"type": "offer", "sdp": "v=0 offer"})
    assert (await seed.agent.post(f"{url}/dtmf", json={"digits": ""})).status_code == 422
    lines.transfer_status = 404
    unknown = await seed.agent.post(f"{url}/transfer", json={"target": "nowhere"})
    assert (unknown.status_code, error_id(unknown)) == (404, "transfer_target_not_found")
    lines.transfer_status = 486
    busy = await seed.agent.post(f"{url}/transfer", json={"target": "+15550100"})
    assert (busy.status_code, error_id(busy)) == (409, "transfer_failed")


async def test_consult_conference_and_complete(seed: Seed, lines: FakeLines) -> None:
    url = seed.url(f"/workers/{seed.alice}/phone")
    await seed.agent.post(url, json={"type": "offer", "sdp": "v=0 offer"})
    consulted = await seed.agent.post(f"{url}/consult", json={"target": "bob"})
    assert consulted.json()["consult"] == {"target": "bob", "state": "talking"}, consulted.text
    assert (await seed.agent.post(f"{url}/consult/cancel")).status_code == 200
    assert (await seed.supervisor.post(f"{url}/conference")).status_code == 200
    assert (await seed.agent.post(f"{url}/consult/complete")).json() == {"transferred": True}
    assert [a[1:] for a in lines.asked] == [
        ("consult", "bob"), ("consult/cancel", None), ("conference", None), ("consult/complete", None),
    ]  # fmt: skip
    busy = await seed.agent.post(f"{url}/consult", json={"target": "busy"})
    assert (busy.status_code, error_id(busy)) == (409, "consult_failed") and busy.json()["error"]["details"][
        "status"
    ] == 486
    lines.transfer_status = 503
    failed = await seed.agent.post(f"{url}/consult/complete")
    assert (failed.status_code, error_id(failed)) == (409, "transfer_failed")
    assert (
        await seed.agent.post(seed.url(f"/workers/{seed.bob}/phone/consult"), json={"target": "x"})
    ).status_code == 403


async def test_the_agent_dials_from_its_line(seed: Seed, lines: FakeLines) -> None:
    url = seed.url(f"/workers/{seed.alice}/phone")
    await seed.agent.post(url, json={"type": "offer", "sdp": "v=0 offer"})
    dialed = await seed.agent.post(f"{url}/dial", json={"number": "+15550100"})
    assert dialed.json() == {"call_sid": "CA1", "task_sid": "WT1", "line": {"worker_sid": seed.alice, "state": "idle"}}
    assert lines.asked[-1] == (seed.alice, "dial", (seed.ws, "+15550100"))
    unknown = await seed.agent.post(f"{url}/dial", json={"number": "nobody"})
    assert (unknown.status_code, error_id(unknown)) == (404, "dial_target_not_found")
    assert (await seed.supervisor.post(f"{url}/dial", json={"number": "+15550100"})).status_code == 403
    assert (await seed.agent.post(f"{url}/dial", json={"number": ""})).status_code == 422


async def test_an_agent_on_a_desk_phone_has_a_line_between_calls_and_answers_on_the_phone(
    seed: Seed, lines: FakeLines
) -> None:
    url = seed.url(f"/workers/{seed.alice}/phone")
    idle = await seed.agent.get(url)
    assert idle.json() == {"worker_sid": seed.alice, "device": "sip", "state": "idle"}, idle.text
    assert (await seed.supervisor.get(url)).json()["device"] == "sip"
    on_phone = await seed.agent.post(f"{url}/answer")
    assert (on_phone.status_code, error_id(on_phone)) == (409, "answer_on_phone")
    worker = seed.url(f"/workers/{seed.alice}")
    attributes = {"skills": ["support"], "languages": ["en"], "phone": "webrtc"}
    assert (await seed.admin.patch(worker, json={"attributes": attributes})).status_code == 200
    closed = await seed.agent.get(url)  # an agent in the page without its line open has none
    assert (closed.status_code, error_id(closed)) == (404, "line_not_open")


async def test_without_a_voice_node_the_phone_is_unavailable(seed: Seed) -> None:
    response = await seed.agent.post(seed.url(f"/workers/{seed.alice}/phone"), json={"type": "offer", "sdp": "v=0"})
    assert (response.status_code, error_id(response)) == (503, "phone_unavailable")


TURN = {"urls": ["turn:turn.example.net:3478"], "username": "callboard", "credential": "s3cret"}


async def test_the_page_reads_the_ice_servers_of_its_line(seed: Seed, api: FastAPI, client: httpx.AsyncClient) -> None:
    api.state.ice_servers = [{"urls": ["stun:stun.example.net:3478"]}, TURN]
    alice, bob = seed.url(f"/workers/{seed.alice}/phone/config"), seed.url(f"/workers/{seed.bob}/phone/config")
    config = await seed.agent.get(alice)
    assert config.status_code == 200, config.text
    assert config.json() == {"ice_servers": [{"urls": ["stun:stun.example.net:3478"]}, TURN]}
    assert config.headers["cache-control"] == "no-store"  # TURN credentials stay out of caches
    assert (await seed.supervisor.get(alice)).json()["ice_servers"][1]["credential"] == "s3cret"
    assert (await seed.admin.get(bob)).status_code == 200
    assert (await seed.agent.get(bob)).status_code == 403  # an agent gets them for its own line only
    assert (await client.get(alice)).status_code == 401
    missing = await seed.supervisor.get(seed.url("/workers/WKnobody/phone/config"))
    assert (missing.status_code, error_id(missing)) == (404, "worker_not_found")


async def test_without_ice_servers_the_page_uses_none(seed: Seed) -> None:
    config = await seed.agent.get(seed.url(f"/workers/{seed.alice}/phone/config"))
    assert config.json() == {"ice_servers": []}  # a LAN: host candidates only, with or without a voice node
