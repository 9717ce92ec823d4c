"""A leg maps the SIP layer's hangup causes by value: every one of them must have a leg cause."""

from __future__ import annotations

from callboard.voice.calls.events import HangupCause
from callboard.voice.sip import call_events as sip


def test_every_sip_hangup_cause_is_a_leg_hangup_cause() -> None:
    missing = {cause.value for cause in sip.HangupCause} - {cause.value for cause in HangupCause}
    assert not missing, f"add these to callboard.voice.calls.events.HangupCause: {sorted(missing)}"
