"""Transfers through a leg (RFC 3515): the far end's REFER becomes a `TransferRequest` the owner answers with
progress reports, and `Leg.transfer` asks the far end to move and waits for how it went."""

from __future__ import annotations

import asyncio

import pytest
from leg_exchange import exchange, get, started

from callboard.voice.calls.errors import TransferFailedError
from callboard.voice.calls.events import TransferRequest
from callboard.voice.calls.leg import LegState
from callboard.voice.sip import call_events as sip


async def test_the_far_ends_refer_reaches_the_owner_who_reports_its_progress() -> None:
    async with exchange() as x:
        phone, leg = await x.answered_leg()
        requests: asyncio.Queue[TransferRequest] = asyncio.Queue()

        def keep(event: object) -> None:
            if isinstance(event, TransferRequest):
                requests.put_nowait(event)

        leg.subscribe(keep)
        assert phone.call is not None
        phone.call.transfer("sip:billing@callboard.example")
        request = await get(requests)
        assert request.user == "billing" and request.target == "sip:billing@callboard.example"
        assert not request.attended
        assert leg.report_transfer(180, request.refer_id)
        progress = await phone.next(sip.TransferProgress)
        assert (progress.status_code, progress.final) == (100, False)  # the REFER's own Trying comes first
        assert (await phone.next(sip.TransferProgress)).status_code == 180
        assert leg.report_transfer(200, request.refer_id)
        done = await phone.next(sip.TransferProgress)
        assert (done.status_code, done.final) == (200, True)
        assert not leg.report_transfer(200, request.refer_id)  # settled: nobody listens any more
        await leg.hangup()


@pytest.mark.parametrize("outcome", [200, 486])
async def test_transfer_asks_the_far_end_and_returns_once_it_reports_the_outcome(outcome: int) -> None:
    async with exchange() as x:
        phone, leg = await x.answered_leg()
        transfer = await started(leg.transfer("sip:carol@192.0.2.9"))
        asked = await phone.next(sip.TransferRequested)
        assert str(asked.refer_to) == "sip:carol@192.0.2.9" and asked.replaces is None
        assert phone.call is not None
        phone.call.report_transfer(outcome)
        if outcome == 200:
            assert await transfer == 200
        else:
            with pytest.raises(TransferFailedError) as failed:
                await transfer
            assert failed.value.status == 486 and failed.value.error_id == "transfer_failed"
        assert leg.state is LegState.ANSWERED  # the legs stay up: hanging up is the owner's call
        await leg.hangup()
