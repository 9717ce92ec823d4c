"""Calls that leave the center: to a number through the SIP trunk, or straight to a SIP URI. One place dials
them for a flow sending the caller elsewhere, an agent's transfer to a number and a callback's customer."""

from __future__ import annotations

import re
from dataclasses import dataclass

from callboard.voice.calls.leg import Leg
from callboard.voice.calls.media import MediaSettings
from callboard.voice.sip.caller_id import CallerId
from callboard.voice.sip.digest import DigestClient
from callboard.voice.sip.transport_port import Destination
from callboard.voice.sip.uri import SipUri
from callboard.voice.sip.user_agent import UserAgent

__all__ = ["TrunkRoute", "dial_out", "is_number"]

NUMBER = re.compile(r"\+?[0-9]{2,32}")  # what a target must look like to go out through the trunk
DIRECT_RING_SECONDS = 45.0  # how long a SIP URI rings when there is no trunk to say


def is_number(text: str) -> bool:
    """A dialable number (what goes out through the trunk): digits with an optional leading +."""
    return NUMBER.fullmatch(text) is not None


@dataclass(frozen=True)
class TrunkRoute:
    """How calls leave through the trunk: its URI (numbers become its user part), where to send, the digest
    credentials it challenges for, and the caller ID to present (default: the caller's own number)."""

    uri: SipUri
    destination: Destination | None = None
    credentials: DigestClient | None = None
    caller_id: CallerId | None = None
    ring_seconds: float = 45.0

    def target(self, number: str) -> SipUri:
        return SipUri(self.uri.host, number, port=self.uri.port, scheme=self.uri.scheme)


async def dial_out(
    ua: UserAgent, settings: MediaSettings, trunk: TrunkRoute | None, target: str, *, caller: str
) -> Leg:
    """Calls `target`, a number through the trunk (presenting the trunk's caller ID, else `caller`) or a SIP URI
    directly (presenting `caller`), and returns the answered leg. Raises `ValueError` for a target that is
    neither (or a number with no trunk), `DialError` when it is not answered, `CallboardError` or `OSError`
    when it cannot be placed."""
    if trunk is not None and is_number(target):
        return await Leg.dial(
            ua, trunk.target(target), settings, destination=trunk.destination, ring_timeout=trunk.ring_seconds,
            caller_id=trunk.caller_id or CallerId(caller),
            credentials=trunk.credentials.new_session() if trunk.credentials else None,
        )  # fmt: skip
    uri = SipUri.parse(target)  # ValueError: neither a number we can call nor a SIP URI
    ring_seconds = trunk.ring_seconds if trunk is not None else DIRECT_RING_SECONDS
    return await Leg.dial(ua, uri, settings, ring_timeout=ring_seconds, caller_id=CallerId(caller))
