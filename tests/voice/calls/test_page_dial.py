"""Calls an agent places from the page, with an in-process aiortc peer connection as the page, a fake routing
side and a browser-line leg standing in for the number the trunk reaches: the line connects, then talks once
the number answers, the record and the task follow the call, and a busy number, an agent who hangs up while it
rings and a line that is not idle end as they should."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, cast

import pytest
from test_conference import Capture
from test_webrtc_line import Browser

from callboard.core.clock import SystemClock
from callboard.core.errors import ConflictError, NotFoundError
from callboard.voice.calls.b2bua import B2bua
from callboard.voice.calls.errors import DialError
from callboard.voice.calls.events import HangupCause
from callboard.voice.calls.inbound import CallFlow
from callboard.voice.calls.leg import Leg, LegState
from callboard.voice.calls.media import MediaSettings
from callboard.voice.calls.ports import RoutingPort
from callboard.voice.calls.trunk import TrunkRoute
from callboard.voice.calls.webrtc_leg import WebRtcLeg
from callboard.voice.calls.webrtc_line import LineState
from callboard.voice.media.clock import VirtualMediaClock
from callboard.voice.media.ports import RtpPortPool
from callboard.voice.sip.uri import SipUri


class Routing:
    """The routing side as the page's calls use it."""

    def __init__(self) -> None:
        self.available = True
        self.wrapped: list[str] = []
        self.saved: list[dict[str, Any]] = []

    async def worker_named(self, workspace_sid: str, name: str) -> tuple[str, str] | None:
        return None

    async def outbound_task(self, workspace_sid: str, worker_sid: str, attributes: dict[str, Any]) -> tuple[str, str]:
        if not self.available:
            raise ConflictError("not available", error_id="agent_not_available")
        return "WT1", "WR1"

    async def wrap_up(self, workspace_sid: str, reservation_sid: str) -> None:
        self.wrapped.append(reservation_sid)

    async def save_call(self, record: dict[str, Any]) -> None:
        self.saved.append(record)


class Node:
    def __init__(self) -> None:
        settings = MediaSettings(RtpPortPool(23600, 23700, host="127.0.0.1"), VirtualMediaClock(), "127.0.0.1")
        self.routing = Routing()
        self.b2bua = B2bua(
            None, cast(RoutingPort, self.routing), settings, cast(CallFlow, None), SystemClock(),
            trunk=TrunkRoute(SipUri("trunk.test")),
        )  # fmt: skip
        self.answer: asyncio.Future[Leg] = asyncio.get_running_loop().create_future()
        self.dialed: list[str] = []

        async def dial_number(number: str, *, caller: str) -> Leg:
            self.dialed.append(number)
            return await self.answer

        self.b2bua.dial_number = dial_number  # type: ignore[method-assign]

    def last_record(self) -> dict[str, Any]:
        return self.routing.saved[-1]


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(100):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("it did not happen")


async def open_line(node: Node, browser: Browser) -> None:
    await browser.answered(await node.b2bua.lines.open_line("WK1", await browser.offer()))


async def test_the_agent_dials_a_number_and_hangs_up() -> None:
    node, browser = Node(), Browser()
    try:
        with pytest.raises(NotFoundError):
            await node.b2bua.page_dials.dial("WS1", "WK1", "+15550100")  # no line
        await open_line(node, browser)
        with pytest.raises(NotFoundError):
            await node.b2bua.page_dials.dial("WS1", "WK1", "nobody")
        placed = await node.b2bua.lines.dial("WS1", "WK1", "+15550100")
        assert placed["task_sid"] == "WT1" and placed["line"]["state"] == "connecting"
        with pytest.raises(ConflictError):
            await node.b2bua.page_dials.dial("WS1", "WK1", "+15550101")
        await until(lambda: node.dialed == ["+15550100"])
        assert node.b2bua.calls == 1
        customer = WebRtcLeg.connected(node.b2bua.settings, Capture())
        node.answer.set_result(customer)
        await until(lambda: node.b2bua.lines.line_view("WK1")["state"] == "talking")
        assert customer.state is LegState.BRIDGED and node.b2bua.live_call(placed["call_sid"]) is not None
        assert node.b2bua.lines.hold("WK1", True)["held"] is True
        assert node.b2bua.lines.hold("WK1", False)["held"] is False
        await node.b2bua.lines.hang_up("WK1")
        await customer.wait_ended()
        await until(lambda: node.last_record()["outcome"] is not None)
        record = node.last_record()
        assert (record["direction"], record["outcome"], record["hangup_by"]) == ("outbound", "completed", "agent")
        assert record["task_sid"] == "WT1" and node.routing.wrapped == ["WR1"]
        assert node.b2bua.lines.line_view("WK1")["state"] == "idle" and node.b2bua.calls == 0
    finally:
        await node.b2bua.close()
        await browser.close()


async def test_a_busy_number_an_agent_who_gives_up_and_an_unavailable_agent() -> None:
    node, browser = Node(), Browser()
    try:
        await open_line(node, browser)
        await node.b2bua.lines.dial("WS1", "WK1", "+15550100")
        node.answer.set_exception(DialError(HangupCause.BUSY))
        await until(lambda: node.last_record()["outcome"] is not None)
        assert (node.last_record()["outcome"], node.last_record()["hangup_cause"]) == ("failed", "busy")
        assert node.b2bua.lines.line("WK1").state is LineState.IDLE and node.routing.wrapped == ["WR1"]

        node.answer = asyncio.get_running_loop().create_future()
        await node.b2bua.lines.dial("WS1", "WK1", "+15550102")
        await until(lambda: node.dialed[-1] == "+15550102")
        await node.b2bua.lines.hang_up("WK1")  # while it rings
        await until(lambda: node.last_record()["outcome"] is not None)
        assert (node.last_record()["outcome"], node.last_record()["hangup_by"]) == ("abandoned", "agent")

        node.routing.available = False
        with pytest.raises(ConflictError) as busy:
            await node.b2bua.lines.dial("WS1", "WK1", "+15550103")
        assert busy.value.error_id == "agent_not_available"
    finally:
        await node.b2bua.close()
        await browser.close()
