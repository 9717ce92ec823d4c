"""A caller's wait in a queue, with fakes for the leg, the waiting room and the routing side: what ends the wait
when the caller hangs up in the same loop iteration as the waiting room confirms a callback."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from callboard.core.clock import SystemClock
from callboard.voice.calls.b2bua import B2bua, Enqueued, InboundEntry
from callboard.voice.calls.call_record import CallRecord, Outcome
from callboard.voice.calls.events import Hangup, HangupCause
from callboard.voice.calls.inbound import CallFlow, InboundCall, Waited, WaitExit
from callboard.voice.calls.leg import Leg, LegState
from callboard.voice.calls.media import MediaSettings
from callboard.voice.calls.ports import RoutingPort
from callboard.voice.sip.uri import NameAddr, SipUri

ENQUEUED = Enqueued("WS1", "WT1")


class FakeLeg:
    """What the wait reads of the caller's leg: its state and its end."""

    def __init__(self) -> None:
        self.state = LegState.ANSWERED
        self.ended: asyncio.Future[Hangup] = asyncio.get_running_loop().create_future()

    async def wait_ended(self) -> Hangup:
        return await asyncio.shield(self.ended)

    def hang_up(self) -> None:
        self.state = LegState.ENDED
        self.ended.set_result(Hangup(0.0, HangupCause.NORMAL))

    def stop_playback(self) -> None:
        pass


class Room:
    """A waiting room that takes the caller out when the test says so."""

    def __init__(self) -> None:
        self.exit: asyncio.Future[WaitExit] = asyncio.get_running_loop().create_future()

    async def wait(self, leg: Leg, workspace_sid: str, task_sid: str) -> WaitExit:
        return await self.exit


class Routing:
    def __init__(self) -> None:
        self.updated: list[dict[str, Any]] = []
        self.canceled: list[str] = []
        self.saved: list[dict[str, Any]] = []

    async def update(self, workspace_sid: str, task_sid: str, attributes: dict[str, Any]) -> None:
        self.updated.append(attributes)

    async def cancel(self, workspace_sid: str, task_sid: str, reason: str) -> None:
        self.canceled.append(reason)

    async def save_call(self, record: dict[str, Any]) -> None:
        self.saved.append(record)


class Settings:
    hold_music = None


async def waiting_call() -> tuple[asyncio.Task[Enqueued | Waited], InboundEntry, FakeLeg, Room, Routing]:
    routing = Routing()
    b2bua = B2bua(
        None, cast(RoutingPort, routing), cast(MediaSettings, Settings()), cast(CallFlow, None), SystemClock()
    )
    leg = FakeLeg()
    record = CallRecord("CA1", "inbound", "5550100", "200", "", "", 0.0, workspace_sid="WS1")
    call = InboundEntry(cast(Leg, leg), record, NameAddr(SipUri("callboard.invalid", "5550100")))
    call.inbound = InboundCall(b2bua, record, cast(Leg, leg))
    room = Room()
    waiting = asyncio.create_task(b2bua.queueing.wait_for_agent(call, ENQUEUED, room))
    for _ in range(5):  # up to its wait for the first of the caller, the agent, the task and the room
        await asyncio.sleep(0)
    assert not waiting.done()
    return waiting, call, leg, room, routing


async def test_a_caller_who_hangs_up_as_the_callback_is_confirmed_is_called_back_not_abandoned() -> None:
    waiting, call, leg, room, routing = await waiting_call()
    # Both end in this step: the wait wakes once, with both the room's exit and the hangup done.
    room.exit.set_result(WaitExit(Waited.CALLBACK, "5550100", {"callback_retries": 2}))
    leg.hang_up()
    assert await waiting is Waited.CALLBACK
    assert routing.updated == [
        {"callback_retries": 2, "callback_number": "5550100", "call_sid": None, "callback_of": "CA1"}
    ]
    assert routing.canceled == [] and call.inbound is not None and call.inbound.outcome is Outcome.CALLBACK


async def test_a_caller_who_hangs_up_while_waiting_has_abandoned() -> None:
    waiting, call, leg, _, routing = await waiting_call()
    leg.hang_up()
    assert await waiting is Waited.HUNG_UP
    assert routing.canceled == ["caller hung up"] and routing.updated == []
    assert call.record.outcome is Outcome.ABANDONED and routing.saved[-1]["outcome"] == "abandoned"
