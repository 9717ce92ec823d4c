"""A call leg: one SIP call and its RTP session behind an async call-control API.

The owner answers, plays, gathers digits, holds, bridges and hangs up; it hears `Ringing`, `Answered`, `Dtmf`,
`Held`, `Resumed` and `Hangup` (events.py), never SIP. The SIP call reports to the leg (`on_call_event`) and
so does the RTP session (`RtpSessionListener`); both run on the event loop, so no locking is needed.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any, ClassVar, Self

from callboard.core.errors import InvalidStateError
from callboard.voice.calls.errors import DialError, LegEndedError, OfferRejectedError, TransferFailedError
from callboard.voice.calls.event_feed import EventFeed, EventIterator
from callboard.voice.calls.events import (
    Answered,
    Dtmf,
    DtmfSource,
    FarEndHeld,
    FarEndResumed,
    Hangup,
    HangupCause,
    Held,
    LegEvent,
    Resumed,
    Ringing,
    TransferRequest,
    digit_of_info,
)
from callboard.voice.calls.media import IncompatibleMediaError, LegMedia, MediaSettings
from callboard.voice.calls.message_take import MessageTake
from callboard.voice.calls.prompter import Prompter
from callboard.voice.media.bridge import Bridge, BridgeLeg, BridgeSide
from callboard.voice.media.dtmf import DtmfDigit
from callboard.voice.media.playback import Prompt
from callboard.voice.media.recorder import RecorderState, StereoRecorder
from callboard.voice.media.rtcp import RtcpCompoundPacket
from callboard.voice.media.rtp import RtpPacket
from callboard.voice.media.sdp import Direction
from callboard.voice.media.session import RtpTimeoutCause
from callboard.voice.sip import call_events as sip
from callboard.voice.sip.caller_id import CallerId
from callboard.voice.sip.digest import DigestClient
from callboard.voice.sip.incoming_call import IncomingCall
from callboard.voice.sip.invite_session import CallState, InviteSession
from callboard.voice.sip.refer import ReplacesTarget
from callboard.voice.sip.transport_port import Destination
from callboard.voice.sip.uri import NameAddr, SipUri, Uri
from callboard.voice.sip.user_agent import UserAgent

__all__ = ["DialError", "Leg", "LegEndedError", "LegState", "OfferRejectedError"]

logger = logging.getLogger(__name__)

REJECT_STATUS = {
    HangupCause.BUSY: 486,
    HangupCause.REJECTED: 603,
    HangupCause.INCOMPATIBLE_MEDIA: 488,
    HangupCause.NOT_FOUND: 404,  # RFC 3261 21.4.5, what Asterisk and FreeSWITCH answer for an unknown number
}


class LegState(enum.Enum):
    NEW = "new"
    RINGING = "ringing"
    ANSWERED = "answered"
    HELD = "held"
    BRIDGED = "bridged"
    ENDED = "ended"


S = LegState


class Leg:
    """One party of a call, inbound (`Leg.incoming`) or outbound (`await Leg.dial`)."""

    transitions: ClassVar[dict[LegState, frozenset[LegState]]] = {
        S.NEW: frozenset({S.RINGING, S.ANSWERED, S.ENDED}),
        S.RINGING: frozenset({S.ANSWERED, S.ENDED}),
        S.ANSWERED: frozenset({S.HELD, S.BRIDGED, S.ENDED}),
        S.HELD: frozenset({S.ANSWERED, S.ENDED}),
        S.BRIDGED: frozenset({S.ANSWERED, S.ENDED}),
        S.ENDED: frozenset(),
    }

    def __init__(self, settings: MediaSettings, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.monotonic = monotonic
        self.media = LegMedia(settings, self)
        self.call: InviteSession | None = None
        self.state = S.NEW
        self.feed = EventFeed()
        self.bridge_: Bridge | None = None
        self.peer: Leg | None = None
        self.recorder: StereoRecorder | None = None
        self._loop = asyncio.get_running_loop()
        self.prompter = Prompter(settings.clock)
        self._waiter: asyncio.Future[sip.CallEvent] | None = None
        self._local_cause: HangupCause | None = None
        self._held_peer: Leg | None = None
        self._ended: asyncio.Future[Hangup] = self._loop.create_future()
        self._tasks: set[asyncio.Task[None]] = set()
        self._transfers: dict[int, asyncio.Future[int]] = {}
        self._replaces: dict[int, ReplacesTarget] = {}
        self._message: MessageTake | None = None

    def __repr__(self) -> str:
        return f"<Leg {self.call.call_id if self.call else '-'} {self.state.value}>"

    @classmethod
    def incoming(
        cls, call: IncomingCall, settings: MediaSettings, *, monotonic: Callable[[], float] = time.monotonic
    ) -> Leg:
        """Takes over a new incoming call (from `UserAgentUser.on_incoming_call`): its events come to the leg."""
        leg = cls(settings, monotonic=monotonic)
        leg.call = call
        call.listener = leg
        return leg

    @classmethod
    async def dial(
        cls,
        ua: UserAgent,
        target: Uri | str,
        settings: MediaSettings,
        *,
        destination: Destination | None = None,
        ring_timeout: float = 30.0,
        from_: NameAddr | None = None,
        headers: Iterable[tuple[str, str]] = (),
        caller_id: CallerId | None = None,
        credentials: DigestClient | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> Self:
        """Calls `target` and returns the leg once answered; `DialError` otherwise. A ring timeout or the
        caller's cancellation sends CANCEL. `caller_id` and `credentials` are for calls out through a trunk
        (presented identity; digest answers to its 401/407)."""
        leg = cls(settings, monotonic=monotonic)
        offer = await leg.media.offer()
        waiter = leg._wait()
        try:
            leg.call = ua.invite(
                target, sdp=offer, listener=leg, destination=destination, from_=from_, headers=headers,
                caller_id=caller_id, credentials=credentials,
            )  # fmt: skip
            async with asyncio.timeout(ring_timeout):
                event = await waiter
        except TimeoutError:
            await leg.hangup(HangupCause.NO_ANSWER)
            raise DialError(HangupCause.NO_ANSWER) from None
        except BaseException:
            if leg.call is not None and not leg.call.terminated:
                leg._local_cause = HangupCause.CANCELED
                leg.call.hangup()
            await leg.media.close()
            raise
        if isinstance(event, sip.Answered) and leg.state is not S.ENDED:
            try:
                leg.media.accept(event.sdp)
            except IncompatibleMediaError:
                await leg.hangup(HangupCause.INCOMPATIBLE_MEDIA)
                raise DialError(HangupCause.INCOMPATIBLE_MEDIA) from None
            leg.prompter.start(leg.session)
            leg._set_state(S.ANSWERED, Answered(leg.monotonic()))
            return leg
        hangup = await leg.wait_ended()
        raise DialError(hangup.cause)

    # -- the state machine (STYLE item 3)

    def _set_state(self, state: LegState, event: LegEvent | None = None) -> None:
        old = self.state
        if state not in self.transitions[old]:
            raise InvalidStateError(f"{self!r} cannot go from {old.value} to {state.value}", state=old.value)
        self.state = state
        logger.debug("%r: %s -> %s", self, old.value, state.value)
        if event is not None:
            self.feed.publish(event)

    def _require(self, *states: LegState, action: str) -> None:
        if self.state is S.ENDED:
            raise LegEndedError(f"{self!r} has ended, cannot {action}", state=self.state.value)
        if self.state not in states:
            raise InvalidStateError(f"{self!r} cannot {action} while {self.state.value}", state=self.state.value)

    @property
    def session(self) -> BridgeLeg:
        """What the leg's audio goes through: its RTP session (a browser line's audio for `WebRtcLeg`)."""
        if self.media.session is None:
            raise InvalidStateError(f"{self!r} has no media", state=self.state.value)
        return self.media.session

    @property
    def events(self) -> EventIterator:
        """Every event of the leg from its first, ending after the Hangup (each iterator reads them all)."""
        return EventIterator(self.feed)

    def subscribe(self, callback: Callable[[LegEvent], None]) -> None:
        """Calls `callback` with each event from now on."""
        self.feed.callbacks.append(callback)

    def unsubscribe(self, callback: Callable[[LegEvent], None]) -> None:
        if callback in self.feed.callbacks:
            self.feed.callbacks.remove(callback)

    # -- answering and ending

    def ring(self) -> None:
        """Tells the caller we are ringing (180)."""
        self._require(S.NEW, action="ring")
        self._incoming().ring()
        self._set_state(S.RINGING, Ringing(self.monotonic()))

    async def answer(self) -> None:
        """Answers the caller's offer, opens RTP and returns once the caller acknowledged (ACK)."""
        self._require(S.NEW, S.RINGING, action="answer")
        call = self._incoming()
        try:
            sdp = await self.media.answer(call.offer)
        except IncompatibleMediaError:
            self._hangup_now(HangupCause.INCOMPATIBLE_MEDIA)
            await self.wait_ended()
            raise
        if self.state is S.ENDED:  # the caller gave up while the ports were being opened
            await self.wait_ended()
            raise LegEndedError(f"{self!r} ended before the answer", state=self.state.value)
        waiter = self._wait()
        call.answer(sdp)
        self.prompter.start(self.session)
        if isinstance(await waiter, sip.Hangup):
            raise LegEndedError(f"{self!r} ended before the answer was acknowledged", state=self.state.value)
        self._set_state(S.ANSWERED, Answered(self.monotonic()))

    async def hangup(self, cause: HangupCause = HangupCause.NORMAL) -> Hangup:
        """Ends the leg (BYE, CANCEL or a rejection by `cause`) and returns once it is over and its media closed."""
        if self.state is not S.ENDED:
            self._hangup_now(cause)
        return await self.wait_ended()

    async def wait_ended(self) -> Hangup:
        """Waits for the end of the leg and the release of its media."""
        hangup = await asyncio.shield(self._ended)
        while self._tasks:
            await asyncio.gather(*self._tasks)
        return hangup

    def _hangup_now(self, cause: HangupCause) -> None:
        call = self.call
        self._local_cause = cause
        self._quiet()
        if call is None or call.terminated:
            self._finish(cause, remote=False)
        elif isinstance(call, IncomingCall) and call.state in (CallState.INITIAL, CallState.EARLY):
            call.reject(REJECT_STATUS.get(cause, 480))
        elif call.state is not CallState.TERMINATING:
            call.hangup()

    def _finish(self, cause: HangupCause, *, remote: bool) -> None:
        if self.state is S.ENDED:
            return
        self._quiet()
        self.prompter.close()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(sip.Hangup(self.monotonic(), sip.HangupCause(HangupCause.NORMAL.value)))
        hangup = Hangup(self.monotonic(), cause, remote)
        self._set_state(S.ENDED, hangup)
        self._spawn(self._release(hangup))

    async def _release(self, hangup: Hangup) -> None:
        try:
            await self.media.close()
        finally:
            # Nothing more comes from the media. Without the cycles leg -> media -> leg and leg -> session -> leg,
            # an ended leg is freed as soon as it is let go, not left to the collector's full collections.
            self.media.listener = None
            self._ended.set_result(hangup)

    def _quiet(self) -> None:
        """Stops what the leg sends: playback, and the bridge it is in."""
        self.prompter.stop()
        if self.bridge_ is not None:
            self._split(final=True)
        recorder, self.recorder = self.recorder, None  # kept over a hold, for going back to the bridge
        if recorder is not None:
            if self._held_peer is not None and self._held_peer.recorder is recorder:
                self._held_peer.recorder = None
            self._spawn(recorder.close())
        self._held_peer = None

    # -- playing and collecting digits

    async def play(self, prompt: Prompt, *, loop: bool = False) -> bool:
        """Plays `prompt` to the far end; True when it played to its end, False when interrupted."""
        self._require(S.ANSWERED, action="play")
        return await self.prompter.play(prompt, loop=loop)

    def queue_playback(self, prompt: Prompt, *, loop: bool = False) -> asyncio.Future[bool]:
        """Queues `prompt` after what is playing without waiting for it (the future says how it ended)."""
        self._require(S.ANSWERED, action="play")
        return self.prompter.queue(prompt, loop=loop)

    def stop_playback(self) -> None:
        """Interrupts the prompt playing and drops the queued ones."""
        self.prompter.stop()

    async def gather(
        self,
        max_digits: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - the wait for each digit, not for the whole gather
        terminator: str = "#",
        interrupt_prompt: Prompt | None = None,
    ) -> str:
        """Collects up to `max_digits` digits (the terminator ends early and is not returned); `timeout` is the
        wait for each digit after the prompt. Digits pressed before (type-ahead) count. "" when nothing came."""
        self._require(S.ANSWERED, action="gather")
        return await self.prompter.gather(max_digits, timeout, terminator, interrupt_prompt)

    def clear_digits(self) -> None:
        """Forgets the digits pressed so far, so that the next `gather` hears only new ones."""
        self.prompter.clear_digits()

    async def take_message(self, max_seconds: float, *, stop_digits: str = "#") -> bytes:
        """Records what the far end says (not what is played to it) until one of `stop_digits`, `max_seconds`
        or the hang-up: 8 kHz mono linear PCM."""
        self._require(S.ANSWERED, action="take a message")
        audio = self.media.audio
        take = MessageTake(max_seconds, audio.payload_type if audio is not None else 0)

        def stop(event: LegEvent) -> None:
            if isinstance(event, Dtmf) and event.digit in stop_digits and not take.done.done():
                take.done.set_result(None)

        self._message = take
        self.subscribe(stop)
        try:
            waits: set[asyncio.Future[Any]] = {take.done, self._ended}
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.unsubscribe(stop)
            self._message = None
        return bytes(take.pcm)

    def _dtmf(self, digit: str, source: DtmfSource) -> None:
        if self.state is S.ENDED:
            return
        self.prompter.digit(digit)
        self.feed.publish(Dtmf(self.monotonic(), digit, source))

    # -- hold

    async def hold(self) -> None:
        """Puts the far end on hold (re-INVITE with sendonly) and plays it the shared music on hold, if any. A
        bridged leg leaves its bridge, and goes back to its peer on `unhold` if the peer is still free."""
        self._require(S.ANSWERED, S.BRIDGED, action="hold")
        await self._reoffer(Direction.SENDONLY)
        peer = self.peer
        self._split(final=False)
        self._held_peer = peer
        self.stop_playback()
        self._set_state(S.HELD, Held(self.monotonic()))
        if self.settings.hold_music is not None:
            self.prompter.queue(self.settings.hold_music, loop=True)

    async def unhold(self) -> None:
        """Takes the far end off hold (re-INVITE with sendrecv); the music stops once the far end agreed."""
        self._require(S.HELD, action="unhold")
        await self._reoffer(Direction.SENDRECV)
        self.stop_playback()
        peer, self._held_peer = self._held_peer, None
        self._set_state(S.ANSWERED, Resumed(self.monotonic()))
        if peer is not None and peer.state is S.ANSWERED:
            self.bridge(peer)

    async def _reoffer(self, direction: Direction) -> None:
        call = self.call
        assert call is not None
        sdp = self.media.reoffer(direction)
        waiter = self._wait()
        try:
            call.reinvite(sdp)
        except BaseException:
            self.media.cancel_offer()
            self._waiter = None
            raise
        event = await waiter
        if isinstance(event, sip.OfferAnswered):
            self.media.accept(event.sdp)
        elif isinstance(event, sip.OfferRejected):
            self.media.cancel_offer()
            raise OfferRejectedError(f"{self!r}: re-INVITE refused with {event.status_code}", status=event.status_code)
        else:
            raise LegEndedError(f"{self!r} ended during a re-INVITE", state=self.state.value)

    @property
    def held_by_far_end(self) -> bool:
        """The far end's last offer put us on hold: we may only send (recvonly) or nothing (inactive)."""
        audio = self.media.audio
        return audio is not None and audio.direction in (Direction.RECVONLY, Direction.INACTIVE)

    # -- bridging and recording

    def bridge(self, other: Leg) -> Bridge:
        """Connects this leg (side A, the recorder's left channel) and `other` (side B) both ways."""
        self._require(S.ANSWERED, action="bridge")
        other._require(S.ANSWERED, action="be bridged")
        self.stop_playback()
        other.stop_playback()

        def on_dtmf(side: BridgeSide, digit: DtmfDigit) -> None:
            (self if side is BridgeSide.A else other)._dtmf(digit.digit, DtmfSource.RFC4733)

        bridge = Bridge(self.session, other.session, on_dtmf=on_dtmf, clock=self.monotonic)
        bridge.bridge()
        recorder = self.recorder or other.recorder
        if recorder is not None and recorder.state is not RecorderState.CLOSED:
            bridge.add_tap(recorder)
        for leg, peer in ((self, other), (other, self)):
            leg.bridge_, leg.peer, leg.recorder = bridge, peer, recorder
            leg._set_state(S.BRIDGED)
        return bridge

    def split(self) -> None:
        """Disconnects the two legs but keeps their recording for when they are bridged again (a hold)."""
        self._require(S.BRIDGED, action="split")
        self._split(final=False)

    def unbridge(self) -> None:
        """Disconnects the two legs (both stay answered) and stops the recording of the pair."""
        self._require(S.BRIDGED, action="unbridge")
        self._split(final=True)

    async def record(self, path: str | Path) -> StereoRecorder:
        """Records the bridge to a stereo WAV (left: side A, right: side B) until unbridged or ended."""
        self._require(S.BRIDGED, action="record")
        assert self.bridge_ is not None and self.peer is not None
        recorder = StereoRecorder(path, self.settings.clock)
        await recorder.open()
        self.bridge_.add_tap(recorder)
        self.recorder = self.peer.recorder = recorder
        return recorder

    def _split(self, *, final: bool) -> None:
        """Leaves the bridge; `final` also ends the pair's recording (a hold keeps it for the return)."""
        bridge, peer, recorder = self.bridge_, self.peer, self.recorder
        if bridge is None or peer is None:
            return
        bridge.unbridge()
        for leg in (self, peer):
            leg.bridge_ = leg.peer = None
            if final:
                leg.recorder = None
        if peer.state is S.BRIDGED:
            peer._set_state(S.ANSWERED)
        if self.state is S.BRIDGED:
            self._set_state(S.ANSWERED)
        if final and recorder is not None:
            peer._track(self._spawn(recorder.close()))

    def _spawn(self, work: Coroutine[object, object, None]) -> asyncio.Task[None]:
        task = self._loop.create_task(work)
        self._track(task)
        return task

    def _track(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- transfers (RFC 3515)

    async def transfer(self, target: Uri | str, *, replacing: Leg | None = None) -> int:
        """Asks the far end to call `target` in our place (a REFER) and waits for the outcome it reports: its
        final status (2xx) once the far end's new call is up; `TransferFailedError` otherwise. With `replacing`
        (our leg to `target`), an attended transfer: the far end's call replaces that leg at `target`'s end.
        The legs stay up: hanging them up after a success is the owner's choice."""
        self._require(S.ANSWERED, S.BRIDGED, S.HELD, action="transfer")
        call = self.call
        assert call is not None
        if replacing is not None and replacing.call is None:
            raise InvalidStateError(f"{replacing!r} has no call to replace", state=replacing.state.value)
        refer_id: int = call.transfer(target, replaces=replacing.call if replacing is not None else None)
        waiter = self._transfers[refer_id] = self._loop.create_future()
        ended = asyncio.ensure_future(asyncio.shield(self._ended))
        try:
            await asyncio.wait({waiter, ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ended.cancel()
            self._transfers.pop(refer_id, None)
        if not waiter.done():
            raise LegEndedError(f"{self!r} ended during a transfer", state=self.state.value)
        status: int = waiter.result()
        if not 200 <= status < 300:
            raise TransferFailedError(status)
        return status

    def replaced_call(self, refer_id: int) -> InviteSession | None:
        """For an attended `TransferRequest`: the call of our user agent it wants replaced, if it is one of ours."""
        target = self._replaces.get(refer_id)
        if target is None or self.call is None:
            return None
        return self.call.ua.find_replaced(target)

    def consulted_leg(self, refer_id: int) -> Leg | None:
        """For an attended `TransferRequest` asked without SIP (the agent's page): the leg the caller goes to."""
        return None

    def report_transfer(self, status: int, refer_id: int | None = None) -> bool:
        """Tells the far end how the transfer it asked for goes (`TransferRequest`): 100, 180, then 200 or a
        failure status; False when it no longer listens."""
        if self.call is None or self.state is S.ENDED:
            return False
        return self.call.report_transfer(status, refer_id=refer_id)

    # -- SIP call events (CallListener)

    def on_call_event(self, call: InviteSession, event: sip.CallEvent) -> None:
        if isinstance(event, sip.Ringing | sip.EarlyMedia):
            if self.state is S.NEW:
                self._set_state(S.RINGING, Ringing(self.monotonic()))
        elif isinstance(event, sip.RemoteOffer):
            was_held = self.held_by_far_end
            answer = self.media.answer_reoffer(event.sdp)
            if answer is None:
                call.reject_offer(488)
            else:
                call.accept_offer(answer)
                if self.held_by_far_end != was_held and self.state is not S.ENDED:
                    now = self.monotonic()
                    self.feed.publish(FarEndHeld(now) if self.held_by_far_end else FarEndResumed(now))
        elif isinstance(event, sip.TransferRequested):
            target = event.refer_to
            user = target.user if isinstance(target, SipUri) else None
            request = TransferRequest(self.monotonic(), str(target), user, event.replaces is not None, event.refer_id)
            if event.replaces is not None:
                self._replaces[event.refer_id] = event.replaces
            self.feed.publish(request)
        elif isinstance(event, sip.TransferProgress):
            transfer = self._transfers.get(event.refer_id)
            if event.final and transfer is not None and not transfer.done():
                transfer.set_result(event.status_code)
        elif isinstance(event, sip.Info):
            digit = digit_of_info(event.body, event.content_type)
            if digit is not None:
                self._dtmf(digit, DtmfSource.INFO)
        if isinstance(event, sip.Answered | sip.OfferAnswered | sip.OfferRejected | sip.Hangup):
            waiter, self._waiter = self._waiter, None
            if waiter is not None and not waiter.done():
                waiter.set_result(event)
        if isinstance(event, sip.Hangup):
            cause = self._local_cause if not event.remote and self._local_cause else HangupCause(event.cause.value)
            self._finish(cause, remote=event.remote)

    def _wait(self) -> asyncio.Future[sip.CallEvent]:
        self._waiter = self._loop.create_future()
        return self._waiter

    def _incoming(self) -> IncomingCall:
        if not isinstance(self.call, IncomingCall):
            raise InvalidStateError(f"{self!r} is not an incoming call", state=self.state.value)
        return self.call

    # -- RTP session events (RtpSessionListener)

    def rtp_received(self, packet: RtpPacket) -> None:
        if self._message is not None:  # otherwise audio from the far end matters only to a bridge or a recorder
            self._message.feed(packet)

    def dtmf_received(self, digit: DtmfDigit) -> None:
        self._dtmf(digit.digit, DtmfSource.RFC4733)

    def rtcp_received(self, packet: RtcpCompoundPacket) -> None:
        pass

    def rtp_timeout(self, cause: RtpTimeoutCause) -> None:
        if self.state in (S.ANSWERED, S.BRIDGED):  # on hold the far end is expected to be silent
            logger.info("%r: no RTP (%s), hanging up", self, cause.value)
            self._hangup_now(HangupCause.MEDIA_TIMEOUT)


async def first_to_end(a: Leg, b: Leg) -> tuple[Leg, Hangup]:
    """Waits until one of two legs ends: that leg and its hangup (the earlier one, should both have ended)."""
    ends = {asyncio.ensure_future(a.wait_ended()): a, asyncio.ensure_future(b.wait_ended()): b}
    done, pending = await asyncio.wait(ends, return_when=asyncio.FIRST_COMPLETED)
    for waiting in pending:
        waiting.cancel()
    first = min(done, key=lambda end: end.result().at)
    return ends[first], first.result()
