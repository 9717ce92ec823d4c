"""A consultation with a queue, with an in-process aiortc page as the queue's agent and a fake routing side: the
task's offer (also one that comes before the task is known) rings the agent's line, the answer is accepted and
becomes the consultation's leg, whose end wraps the agent up; nobody answering in time ends the task."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from test_webrtc_line import Browser

from callboard.core.clock import SystemClock
from callboard.voice.calls.b2bua import B2bua, Enqueued, Offer
from callboard.voice.calls.errors import DialError
from callboard.voice.calls.events import HangupCause
from callboard.voice.calls.inbound import CallFlow
from callboard.voice.calls.leg import LegState
from callboard.voice.calls.media import MediaSettings
from callboard.voice.calls.ports import RoutingPort
from callboard.voice.calls.webrtc_line import Ring
from callboard.voice.media.clock import VirtualMediaClock
from callboard.voice.media.ports import RtpPortPool

RING = Ring("WR1", "WT1", "CA1", "5550100", None, "WS1")


class Routing:
    def __init__(self, b2bua: list[B2bua]) -> None:
        self.node = b2bua
        self.early = False
        self.calls: list[tuple[str, ...]] = []

    async def queue_task(self, workspace_sid: str, queue: str, attributes: dict[str, Any]) -> Enqueued:
        self.calls.append(("queue_task", queue, str(attributes["consult_of"])))
        if self.early:  # the engine's offer is read before the task is handed back
            self.node[0].offer(offer("WR9"))
        return Enqueued(workspace_sid, "WT9")

    async def accept(self, workspace_sid: str, reservation_sid: str) -> bool:
        self.calls.append(("accept", reservation_sid))
        return True

    async def wrap_up(self, workspace_sid: str, reservation_sid: str) -> None:
        self.calls.append(("wrap_up", reservation_sid))

    async def cancel(self, workspace_sid: str, task_sid: str, reason: str) -> None:
        self.calls.append(("cancel", task_sid))

    async def reject(self, workspace_sid: str, reservation_sid: str, *, unreachable: bool) -> None:
        self.calls.append(("reject", reservation_sid))


def offer(reservation_sid: str) -> Offer:
    return Offer("WT9", reservation_sid, "WK2", "WQ2", 5.0, None, "WS1", phone="webrtc")


@pytest.mark.parametrize("early", [False, True])
async def test_the_queues_agent_answers_and_wraps_up_after(early: bool) -> None:
    settings = MediaSettings(RtpPortPool(23800, 23900, host="127.0.0.1"), VirtualMediaClock(), "127.0.0.1")
    nodes: list[B2bua] = []
    routing = Routing(nodes)
    routing.early = early
    b2bua = B2bua(None, cast(RoutingPort, routing), settings, cast(CallFlow, None), SystemClock())
    nodes.append(b2bua)
    browser = Browser()
    try:
        await browser.answered(await b2bua.lines.open_line("WK2", await browser.offer()))
        consulting = asyncio.ensure_future(b2bua.queue_consults.call("WS1", "billing", RING))
        for _ in range(100):
            if routing.calls:
                break
            await asyncio.sleep(0.01)
        if not early:
            b2bua.offer(offer("WR9"))
        for _ in range(100):
            if b2bua.lines.line_view("WK2")["state"] == "ringing":
                break
            await asyncio.sleep(0.01)
        assert b2bua.lines.line_view("WK2")["ringing"]["caller"] == "5550100"
        b2bua.lines.answer("WK2")
        leg = await consulting
        assert leg.state is LegState.ANSWERED
        assert routing.calls == [("queue_task", "billing", "CA1"), ("accept", "WR9")]
        await b2bua.lines.hang_up("WK2")
        for _ in range(100):
            if routing.calls[-1] == ("wrap_up", "WR9"):
                break
            await asyncio.sleep(0.01)
        assert routing.calls[-1] == ("wrap_up", "WR9")
    finally:
        await b2bua.close()
        await browser.close()


async def test_nobody_answering_ends_the_task() -> None:
    settings = MediaSettings(RtpPortPool(23900, 23990, host="127.0.0.1"), VirtualMediaClock(), "127.0.0.1")
    nodes: list[B2bua] = []
    routing = Routing(nodes)
    b2bua = B2bua(None, cast(RoutingPort, routing), settings, cast(CallFlow, None), SystemClock())
    nodes.append(b2bua)
    b2bua.queue_consults.wait_seconds = 0.1
    with pytest.raises(DialError) as unanswered:
        await b2bua.queue_consults.call("WS1", "billing", RING)
    assert unanswered.value.cause is HangupCause.NO_ANSWER
    assert routing.calls[-1] == ("cancel", "WT9") and not b2bua.queue_consults.waiting
    await b2bua.close()
