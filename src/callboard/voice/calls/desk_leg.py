"""An agent's call on their desk phone (a SIP leg to a registered phone), which the agent also steers from the
page (`SteeredLeg`). The server does what the page asks without the phone's cooperation: a hold splits the
bridge (music to the caller, silence to the phone, no re-INVITE), a transfer is handled by the call's owner as
the phone's own REFER would be, and after the page's hang-up or a completed transfer the phone gets a BYE. The
phone's own hold (re-INVITE) and REFER keep working as on any leg.
"""

from __future__ import annotations

from callboard.voice.calls.events import HangupCause
from callboard.voice.calls.leg import LegState
from callboard.voice.calls.steered_leg import SteeredLeg

__all__ = ["DeskLeg"]


class DeskLeg(SteeredLeg):
    """A call on an agent's desk phone, steerable from the page (`Leg.dial` makes one: see `ring_all`)."""

    def __repr__(self) -> str:
        return f"<DeskLeg {self.call.call_id if self.call else '-'} {self.state.value}>"

    def end_by_agent(self) -> None:
        """The page hangs up: BYE to the phone (the owner then ends the caller's side)."""
        if self.state is not LegState.ENDED:
            self._hangup_now(HangupCause.NORMAL)
