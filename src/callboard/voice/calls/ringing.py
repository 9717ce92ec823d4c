"""Ringing several contacts at once (a user's phones, registered in parallel): the first to answer wins, the
others are cancelled, and when none answers the failure that says most about the user is reported."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import TypeVar

from callboard.voice.calls.errors import DialError
from callboard.voice.calls.events import HangupCause
from callboard.voice.calls.leg import Leg
from callboard.voice.calls.media import MediaSettings
from callboard.voice.sip.transport_port import Destination
from callboard.voice.sip.uri import NameAddr, Uri
from callboard.voice.sip.user_agent import UserAgent

RING_GRACE = 2.0  # a ring outlives its reservation by this much, so that the engine, not the ring, times out

__all__ = ["RING_GRACE", "ring_all"]

L = TypeVar("L", bound=Leg)


async def ring_all(
    ua: UserAgent,
    contacts: Sequence[tuple[Uri, Destination | None]],
    settings: MediaSettings,
    *,
    ring_seconds: float,
    from_: NameAddr | None = None,
    headers: Iterable[tuple[str, str]] = (),
    leg_type: type[L] = Leg,  # type: ignore[assignment]
) -> L:
    """Rings every contact (URI, where to send) at once for `ring_seconds`; the answered leg (a `leg_type`), or
    the `DialError` of the most telling failure. Cancelling the caller cancels every ring (CANCEL)."""
    extra = list(headers)
    dials = [
        asyncio.ensure_future(
            leg_type.dial(
                ua, uri, settings, destination=destination, ring_timeout=ring_seconds, from_=from_, headers=extra
            )
        )
        for uri, destination in contacts
    ]
    failures: list[DialError] = []
    winner: L | None = None
    try:
        for next_done in asyncio.as_completed(dials):
            try:
                winner = await next_done
                break
            except DialError as exc:
                failures.append(exc)
    finally:
        for dial in dials:
            dial.cancel()
        for result in await asyncio.gather(*dials, return_exceptions=True):
            if isinstance(result, Leg) and result is not winner:  # answered at the same moment: too late
                await result.hangup()
    if winner is None:
        raise worst(failures)
    return winner


def worst(failures: list[DialError]) -> DialError:
    """The failure that says most about the agent: declined beats unanswered beats unreachable."""
    for cause in (HangupCause.BUSY, HangupCause.REJECTED, HangupCause.NO_ANSWER):
        for failure in failures:
            if failure.cause is cause:
                return failure
    return failures[0] if failures else DialError(HangupCause.NO_ANSWER)
