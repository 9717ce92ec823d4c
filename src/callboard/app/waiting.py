"""The waiting room of one queued call: music, the caller's position and expected wait, custom announcements, the
callback offer, the maximum wait, and Asterisk's join-when-empty / leave-when-empty.

Options come from the queue the task waits in now (a task that escalates to another queue takes that queue's
options at the next announcement). Position and expected wait come from the routing engine (`wait_estimate`,
docs/routing.md "Position and estimated wait").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from callboard.flows.conversation import Message, PromptRef, SayNumber
from callboard.voice.calls.events import Dtmf, LegEvent
from callboard.voice.calls.inbound import Waited, WaitExit
from callboard.voice.calls.leg import Leg, LegState

if TYPE_CHECKING:
    from callboard.app.ivr_voice import VoiceConversation

__all__ = ["QueueWaiting"]

log = logging.getLogger(__name__)

POLL = 1.0  # seconds between looks at the queue (staffing, escalation) while nothing else is due
MAX_NUMBER_DIGITS = 15  # E.164


class QueueWaiting:
    """`WaitingRoom` for one call of a flow's `enqueue` node."""

    def __init__(self, conversation: VoiceConversation, language: str) -> None:
        self.conversation = conversation
        self.voice = conversation.voice
        self.language = language
        self.digits: asyncio.Queue[str] = asyncio.Queue()

    def _estimate(self, workspace_sid: str, task_sid: str) -> Any:
        return self.voice.center.workspace(workspace_sid).wait_estimate(task_sid)

    def _options(self, workspace_sid: str, estimate: Any) -> Mapping[str, Any]:
        engine = self.voice.center.workspace(workspace_sid)
        queue = engine.queues.get(estimate.queue_sid) if estimate is not None else None
        return self.conversation.waiting_options(queue.friendly_name if queue is not None else None)

    async def wait(self, leg: Leg, workspace_sid: str, task_sid: str) -> WaitExit:
        def hear(event: LegEvent) -> None:
            if isinstance(event, Dtmf):
                self.digits.put_nowait(event.digit)

        leg.subscribe(hear)
        try:
            return await self._wait(leg, workspace_sid, task_sid)
        finally:
            leg.unsubscribe(hear)
            leg.stop_playback()

    async def _wait(self, leg: Leg, workspace_sid: str, task_sid: str) -> WaitExit:
        clock = self.voice.center.clock
        started = clock.now()
        estimate = self._estimate(workspace_sid, task_sid)
        options = self._options(workspace_sid, estimate)
        if not options.get("join_when_empty", True) and estimate is not None and estimate.staffed == 0:
            return WaitExit(Waited.NO_AGENTS)
        every = float(options.get("announce_every", 60) or 0)
        next_announcement: float | None = started
        custom = [(a["prompt"], float(a["every"])) for a in options.get("announcements") or ()]
        next_custom = [started + every_ for _, every_ in custom]
        callback = options.get("callback") if self.voice.callbacks else None
        offer_at = started + float(callback.get("after", 0)) if callback else None
        offered = False
        max_wait = options.get("max_wait")
        await self._music(leg, workspace_sid, options)
        while True:
            now = clock.now()
            if max_wait is not None and now - started >= float(max_wait):
                return WaitExit(Waited.TIMEOUT)
            estimate = self._estimate(workspace_sid, task_sid)
            if estimate is None:  # offered or moved: nothing to say, the B2BUA decides
                next_announcement = None
            elif options.get("leave_when_empty") and estimate.staffed == 0:
                return WaitExit(Waited.NO_AGENTS)
            if next_announcement is not None and now >= next_announcement:
                options = self._options(workspace_sid, estimate)
                await self._announce(leg, workspace_sid, estimate, options)
                next_announcement = now + every if every > 0 else None
                await self._music(leg, workspace_sid, options)
            for i, (prompt, period) in enumerate(custom):
                if now >= next_custom[i]:
                    await self._say(leg, workspace_sid, Message((PromptRef(prompt),), self.language))
                    next_custom[i] = now + period
                    await self._music(leg, workspace_sid, options)
            if callback and offer_at is not None and now >= offer_at and not offered:
                offered = True
                await self._say(leg, workspace_sid, Message((PromptRef("callback-offer"),), self.language))
                await self._music(leg, workspace_sid, options)
            deadlines = [t for t in (next_announcement, *next_custom) if t is not None]
            if callback and not offered and offer_at is not None:
                deadlines.append(offer_at)
            if max_wait is not None:
                deadlines.append(started + float(max_wait))
            pause = min([POLL, *(max(0.0, t - clock.now()) for t in deadlines)])
            digit = await self._digit(pause)
            if digit is not None and callback and offered and digit == str(callback.get("key", "1")):
                number = await self._callback_number(leg, workspace_sid, callback)
                if number is not None:
                    return WaitExit(Waited.CALLBACK, number, _callback_attributes(callback))
                await self._music(leg, workspace_sid, options)

    async def _digit(self, pause: float) -> str | None:
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(self.digits.get(), pause)
        return None

    async def _music(self, leg: Leg, workspace_sid: str, options: Mapping[str, Any]) -> None:
        if leg.state is not LegState.ANSWERED:
            return
        name = options.get("music")
        music = await self.voice.prompt(workspace_sid, name, self.language) if name else None
        music = music or self.voice.hold_music
        leg.stop_playback()
        if music is not None:
            leg.queue_playback(music, loop=True)

    async def _say(self, leg: Leg, workspace_sid: str, message: Message) -> None:
        prompt = await self.voice.render(workspace_sid, message)
        if prompt is not None and leg.state is LegState.ANSWERED:
            leg.stop_playback()
            await leg.play(prompt)

    async def _announce(self, leg: Leg, workspace_sid: str, estimate: Any, options: Mapping[str, Any]) -> None:
        if estimate is None:
            return
        parts: list[Any] = []
        if options.get("announce_position", True):
            parts += [PromptRef("you-are-number"), SayNumber(estimate.position, "position"), PromptRef("in-line")]
        if options.get("announce_wait", True) and estimate.seconds is not None:
            minutes = math.ceil(estimate.seconds / 60)
            if estimate.seconds < 60:
                parts += [PromptRef("expected-wait"), PromptRef("less-than-a-minute")]
            else:
                parts += [PromptRef("expected-wait"), SayNumber(minutes, "minutes")]
        if parts:
            await self._say(leg, workspace_sid, Message(tuple(parts), self.language))

    async def _callback_number(self, leg: Leg, workspace_sid: str, callback: Mapping[str, Any]) -> str | None:
        """Confirms the caller's own number or takes another; None when the caller gives none."""
        caller = self.conversation.call.caller
        own = caller if caller.lstrip("+").isdigit() else None
        if callback.get("confirm", True) and own is not None:
            prompt = await self.voice.render(workspace_sid, Message((PromptRef("callback-confirm"),), self.language))
            leg.stop_playback()
            leg.clear_digits()
            choice = await leg.gather(1, 6.0, terminator="", interrupt_prompt=prompt)
            if choice == "1":
                number: str | None = own
            elif choice == "2":
                number = await self._enter_number(leg, workspace_sid)
            else:
                return None
        elif own is not None:
            number = own
        else:
            number = await self._enter_number(leg, workspace_sid)
        if number:
            await self._say(leg, workspace_sid, Message((PromptRef("callback-registered"),), self.language))
        return number or None

    async def _enter_number(self, leg: Leg, workspace_sid: str) -> str | None:
        prompt = await self.voice.render(workspace_sid, Message((PromptRef("callback-enter"),), self.language))
        leg.stop_playback()
        leg.clear_digits()
        digits = await leg.gather(MAX_NUMBER_DIGITS, 8.0, terminator="#", interrupt_prompt=prompt)
        return digits if len(digits) >= 3 else None


def _callback_attributes(callback: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "callback_retries": int(callback.get("retries", 2)),
        "callback_retry_every": int(callback.get("retry_every", 300)),
        "callback_attempt": 1,
    }
