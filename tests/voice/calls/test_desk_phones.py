"""The page's call control on a desk phone's call, over the in-memory SIP link with real RTP: a caller's soft phone
and the agent's desk phone (soft phones too) both call the switch, whose legs are the caller's `Leg` and the
agent's `DeskLeg`, bridged with the owner's `MutualHold` as an inbound call has them. Through `AgentPhones` (the
API's port) the page sees the call, holds the caller (music to the caller, nothing to the phone, no re-INVITE),
sends digits to the caller, transfers (the phone gets a BYE once the owner reports success), consults a colleague
and hands the caller over, and hangs up; answering and muting stay on the phone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from leg_exchange import Exchange, SoftPhone, exchange, get, received, rms, tone

from callboard.core.clock import SystemClock
from callboard.core.errors import InvalidStateError, NotFoundError
from callboard.voice.calls.agent_phones import AgentPhones
from callboard.voice.calls.desk_leg import DeskLeg
from callboard.voice.calls.desk_phones import DeskPhones
from callboard.voice.calls.events import FarEndHeld, FarEndResumed, LegEvent, TransferRequest
from callboard.voice.calls.hold import MutualHold
from callboard.voice.calls.leg import Leg, LegState
from callboard.voice.calls.webrtc_line import Ring
from callboard.voice.calls.webrtc_lines import WebRtcLines
from callboard.voice.sip import call_events as sip
from callboard.voice.sip.incoming_call import IncomingCall

VOICE = tone("voice", 400, 10)
MUSIC = tone("music", 600, 3)
RING = Ring("WR1", "WT1", "CA1", "5550100", "Caller", "WS1")


@dataclass
class DeskCall:
    x: Exchange
    caller_phone: SoftPhone
    caller: Leg
    desk_phone: SoftPhone
    desk: DeskLeg
    desks: DeskPhones
    phones: AgentPhones
    asked: asyncio.Queue[TransferRequest]


async def quiet(phone: SoftPhone) -> bool:
    """Nothing reached the phone in a while (what came before is dropped)."""
    while not phone.rx.packets.empty():
        phone.rx.packets.get_nowait()
    await asyncio.sleep(0.2)
    return phone.rx.packets.empty()


@asynccontextmanager
async def desk_call() -> AsyncIterator[DeskCall]:
    async with exchange(hold_music=MUSIC) as x:
        kinds: list[type[Leg]] = [Leg, DeskLeg, Leg]  # the caller, the agent's desk phone, a colleague

        def incoming(call: IncomingCall) -> None:
            leg = kinds.pop(0).incoming(call, x.settings)
            leg.ring()
            x.bob_switch.legs.put_nowait(leg)

        x.bob_switch.on_incoming_call = incoming  # type: ignore[method-assign]
        caller_phone, caller = await x.answered_leg()
        desk_phone, desk = await x.answered_leg()
        assert isinstance(desk, DeskLeg)
        caller.bridge(desk)
        hold = MutualHold(caller, desk, x.settings.hold_music, SystemClock())
        asked: asyncio.Queue[TransferRequest] = asyncio.Queue()

        def owner(event: LegEvent) -> None:
            hold.on_event(event)
            if isinstance(event, TransferRequest):
                asked.put_nowait(event)

        caller.subscribe(hold.on_event)
        desk.subscribe(owner)
        desks = DeskPhones()
        desks.talking("WK1", desk, RING)
        phones = AgentPhones(WebRtcLines(x.settings), desks)
        yield DeskCall(x, caller_phone, caller, desk_phone, desk, desks, phones, asked)
        for leg in (caller, desk):
            await leg.hangup()


async def test_the_page_sees_the_desk_phones_call_and_holds_the_caller_without_the_phone() -> None:
    async with desk_call() as c:
        view = c.phones.line_view("WK1")
        assert (view["device"], view["state"], view["held"], view["codec"]) == ("sip", "talking", False, "PCMU")
        assert view["call"] == {**RING.view(), "caller": "5550100"} and view["ringing"] is None
        c.caller_phone.send_audio(VOICE, 3)
        assert rms([p.payload for p in await received(c.desk_phone, 3)]) > 3000  # bridged

        held = c.phones.hold("WK1", True)
        assert held["held"] is True and c.desk.held_by_far_end
        assert [type(e) for e in c.desk.feed.history][-1] is FarEndHeld
        c.x.clock.advance(4)
        assert rms([p.payload for p in await received(c.caller_phone, 4)]) > 3000  # music to the caller
        c.caller_phone.send_audio(VOICE, 3)
        assert await quiet(c.desk_phone)  # the phone hears nothing of the caller
        assert c.desk_phone.reoffers == []  # and was not asked to hold: no re-INVITE

        assert c.phones.hold("WK1", False)["held"] is False
        assert [type(e) for e in c.desk.feed.history][-1] is FarEndResumed
        assert c.caller.state is c.desk.state is LegState.BRIDGED
        c.caller_phone.send_audio(VOICE, 3)
        assert rms([p.payload for p in await received(c.desk_phone, 3)]) > 3000


async def test_answer_and_mute_stay_on_the_phone_digits_go_to_the_caller_and_hang_up_sends_bye() -> None:
    async with desk_call() as c:
        for act in (lambda: c.phones.answer("WK1"), lambda: c.phones.reject("WK1")):
            with pytest.raises(InvalidStateError) as refused:
                act()
            assert refused.value.error_id == "answer_on_phone"
        with pytest.raises(InvalidStateError) as muted:
            c.phones.mute("WK1", True)
        assert muted.value.error_id == "mute_on_phone"

        await c.phones.dtmf("WK1", "5#")
        assert [(await get(c.caller_phone.rx.digits)).digit for _ in range(2)] == ["5", "#"]
        c.phones.hold("WK1", True)
        with pytest.raises(InvalidStateError) as on_hold:
            await c.phones.dtmf("WK1", "1")
        assert on_hold.value.error_id == "caller_on_hold"

        ended = await c.phones.hang_up("WK1")
        assert (ended["state"], ended["device"], ended["call"]) == ("idle", "sip", None)
        await c.desk_phone.next(sip.Hangup)  # the server's BYE
        assert c.desk.feed.history[-1].remote is False  # type: ignore[union-attr]
        with pytest.raises(InvalidStateError) as idle:
            c.phones.desks.hold("WK1", True)
        assert idle.value.error_id == "line_not_talking"


async def test_a_blind_transfer_asked_from_the_page_ends_the_desk_phones_call_once_the_owner_reports_it() -> None:
    async with desk_call() as c:
        transferring = asyncio.ensure_future(c.phones.transfer("WK1", "billing"))
        request = await get(c.asked)
        assert (request.user, request.attended, request.refer_id < 0) == ("billing", False, True)
        assert c.desk.report_transfer(200, request.refer_id)
        assert await transferring == 200
        await c.desk_phone.next(sip.Hangup)  # BYE to the phone at once, not after the owner's grace
        await c.desk.wait_ended()
        assert c.desks.get("WK1") is None and c.phones.desk_view("WK1")["state"] == "idle"


async def test_the_page_consults_a_colleague_on_the_desk_phone_and_hands_the_caller_over() -> None:
    async with desk_call() as c:
        colleague: list[tuple[SoftPhone, Leg]] = []

        async def dial(ring: Ring, target: str) -> Leg:
            assert (ring, target) == (RING, "bob")
            colleague.append(await c.x.answered_leg())
            return colleague[0][1]

        c.desks.dial_colleague = dial
        consulting = await c.phones.consult("WK1", "bob")
        assert consulting["consult"] == {"target": "bob", "state": "talking"} and consulting["held"] is True
        bob_phone, bob = colleague[0]
        bob_phone.send_audio(VOICE, 3)
        assert rms([p.payload for p in await received(c.desk_phone, 3)]) > 3000  # the agent talks to bob
        c.x.clock.advance(3)
        assert rms([p.payload for p in await received(c.caller_phone, 3)]) > 3000  # the caller hears music
        with pytest.raises(InvalidStateError) as twice:
            await c.phones.consult("WK1", "carol")
        assert twice.value.error_id == "consult_in_progress"

        completing = asyncio.ensure_future(c.phones.consult_complete("WK1"))
        request = await get(c.asked)
        assert request.attended is True
        handed = c.desk.consulted_leg(request.refer_id)
        assert handed is bob and bob.state is LegState.ANSWERED  # no longer talking to the agent
        c.desk.report_transfer(200, request.refer_id)
        assert await completing == 200
        await c.desk_phone.next(sip.Hangup)
        await bob.hangup()


async def test_the_port_goes_to_the_browser_line_without_a_desk_call_and_shows_the_desk_phone_ringing() -> None:
    async with exchange() as x:
        desks = DeskPhones()
        phones = AgentPhones(WebRtcLines(x.settings), desks)
        with pytest.raises(NotFoundError) as no_line:
            phones.hold("WK1", True)
        assert no_line.value.error_id == "line_not_open"
        assert phones.desk_view("WK1") == {
            "worker_sid": "WK1", "device": "sip", "state": "idle", "codec": None, "connection": None,
            "ringing": None, "call": None, "held": False, "muted": False, "consult": None,
        }  # fmt: skip
        with desks.ringing("WK1", RING):
            ringing = phones.line_view("WK1")
            assert (ringing["state"], ringing["ringing"], ringing["call"]) == ("ringing", RING.view(), RING.view())
            with pytest.raises(InvalidStateError) as not_yet:
                await phones.hang_up("WK1")
            assert not_yet.value.error_id == "line_not_talking"
            with pytest.raises(InvalidStateError) as on_phone:
                phones.answer("WK1")
            assert on_phone.value.error_id == "answer_on_phone"
        assert phones.desk_view("WK1")["state"] == "idle"
        with pytest.raises(NotFoundError):
            phones.line_view("WK1")
