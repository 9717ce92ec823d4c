"""Two legs in conversation, as every kind of call has it: bridged, recorded, until the first hangs up; and
the end of a call's record. One home for what inbound calls, transfers and callbacks do alike."""

from __future__ import annotations

import logging
from pathlib import Path

from callboard.core.clock import Clock
from callboard.voice.calls.call_record import CallRecord, Outcome
from callboard.voice.calls.errors import LegEndedError
from callboard.voice.calls.events import Hangup, HangupCause
from callboard.voice.calls.leg import Leg, first_to_end
from callboard.voice.calls.ports import RoutingPort
from callboard.voice.media.recorder import RecorderState

__all__ = ["end_record", "record_leg", "talk_until_hangup"]

logger = logging.getLogger(__name__)


async def record_leg(leg: Leg, record: CallRecord, folder: Path | None) -> None:
    """Records the conversation of `leg` in `folder` (none: not recorded), or resumes its recording after a
    transfer paused it; the path goes in the call record."""
    if leg.recorder is not None:
        if leg.recorder.state is RecorderState.PAUSED:
            leg.recorder.resume()
        return
    if folder is None or record.recording_path is not None:
        return
    path = folder / f"{record.sid}.wav"
    try:
        await leg.record(path)
        record.recording_path = str(path)
    except (OSError, LegEndedError) as exc:
        logger.warning("call %s is not recorded: %s", record.sid, exc)


async def talk_until_hangup(a: Leg, b: Leg, record: CallRecord, clock: Clock, since: float) -> tuple[Leg, Hangup]:
    """Waits until either of two talking legs hangs up, hangs up the other and adds the talk time (from
    `since`) to the record; the leg that ended first and its hangup."""
    ended, first = await first_to_end(a, b)  # both may have ended already
    await a.hangup()
    await b.hangup()
    record.talk_seconds += clock.now() - since
    return ended, first


async def end_record(
    routing: RoutingPort, clock: Clock, record: CallRecord, outcome: Outcome, cause: HangupCause, *, by: str
) -> None:
    """The call is over: its record says how and who hung up first, and is stored."""
    record.end(clock.now(), outcome, cause.value, by)
    await routing.save_call(record.as_record())
