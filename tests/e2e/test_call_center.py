"""A caller reaches an agent through the menu and the queue, with SIPp as the caller and as the agents' phones.

Each test runs a whole node (store, routing, SIP, RTP) on loopback: the agents' phones register with digest,
the caller picks a department with DTMF, the B2BUA rings the reserved agent and bridges the two; the call
record, the recording and the routing engine's state are checked afterwards.
"""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import pytest
from call_center import AUDIO_PCAP, SCENARIOS, call_center, channel_rms, dtmf_pcap, finish
from kamailio import kamailio_proxy, require_kamailio
from sipp import LOOPBACK, finish_sipp, free_media_port, require_sipp, start_sipp

from callboard.routing.model import TaskStatus
from callboard.routing.stats import cumulative
from conftest import require_peer

pytestmark = pytest.mark.e2e
SILENCE = 200.0  # RMS of a 16-bit channel with nothing in it (comfort noise stays far below)


@pytest.fixture(autouse=True)
def _peers() -> None:
    require_sipp()
    require_peer("sipp audio pcap", AUDIO_PCAP is not None, "SIPp's g711a.pcap (sip-tester package)")
    require_peer("sipp DTMF pcaps", dtmf_pcap("2") is not None, "SIPp's dtmf_2833_2.pcap (sip-tester package)")


def _free_sip_port() -> int:
    return free_media_port() + 1  # odd, and free with its even neighbour: nothing else binds it now


async def test_caller_presses_2_waits_and_talks_to_the_support_agent(tmp_path: Path) -> None:
    async with call_center(tmp_path, agents={"alice": ["support"], "sam": ["sales"]}) as cc:
        phone_port = _free_sip_port()
        await cc.register("alice", phone_port)
        await cc.available("alice", "sam")
        phone = await cc.start_phone("agent_answer_uas.xml", phone_port, pcap=str(AUDIO_PCAP))
        caller = await cc.start_caller(
            "caller_rfc4733_uac.xml", "5550001", dtmf=str(dtmf_pcap("2")), pcap=str(AUDIO_PCAP)
        )
        await finish(caller)
        await finish(phone)
        record = await cc.finished_call("5550001")
        alice = cc.agents["alice"].worker_sid
        assert record["outcome"] == "completed" and record["hangup_by"] == "agent"
        assert record["attributes"]["department"] == "support" and record["called"] == "100"
        assert record["worker_sid"] == alice
        support = next(q.sid for q in cc.workspace.queues.values() if q.friendly_name == "support")
        assert record["queue_sid"] == support
        assert 2.0 < record["talk_seconds"] < 10.0 and 0 <= record["wait_seconds"] < 5.0
        assert record["answered_at"] <= record["enqueued_at"] <= record["agent_answered_at"] <= record["ended_at"]
        # Audio flowed both ways: both sides of the recording carry the G.711 speech each SIPp streamed.
        recording = Path(record["recording_path"])
        assert recording.parent == cc.recordings
        left, right = channel_rms(recording)
        assert left > SILENCE and right > SILENCE, (left, right)
        # The engine saw it through: the task completed or is wrapping, the agent got it, and is in wrap-up.
        task = cc.workspace.tasks.get(record["task_sid"])
        assert task is None or task.status in (TaskStatus.WRAPPING, TaskStatus.COMPLETED)
        logged = await cc.store.events(cc.workspace.sid)
        names = [e.name for _, e in logged if e.data.get("task_sid") == record["task_sid"]]
        assert "reservation.accepted" in names and "reservation.wrapup" in names


async def test_caller_picks_sales_with_sip_info_and_reaches_the_sales_agent(tmp_path: Path) -> None:
    async with call_center(tmp_path, agents={"alice": ["support"], "sam": ["sales"]}) as cc:
        phone_port = _free_sip_port()
        await cc.register("sam", phone_port)
        await cc.available("alice", "sam")
        phone = await cc.start_phone("agent_answer_uas.xml", phone_port, pcap=str(AUDIO_PCAP))
        caller = await cc.start_caller("caller_info_uac.xml", "5550002", digit="1", pcap=str(AUDIO_PCAP))
        await finish(caller)
        await finish(phone)
        record = await cc.finished_call("5550002")
        assert record["attributes"]["department"] == "sales"
        assert (record["outcome"], record["worker_sid"]) == ("completed", cc.agents["sam"].worker_sid)


async def test_caller_who_hangs_up_in_the_queue_is_abandoned_and_the_task_canceled(tmp_path: Path) -> None:
    async with call_center(tmp_path, agents={"alice": ["support"]}) as cc:  # alice stays Offline
        caller = await cc.start_caller(
            "caller_abandon_uac.xml", "5550003", dtmf=str(dtmf_pcap("2")), pcap=str(AUDIO_PCAP)
        )
        await finish(caller)
        record = await cc.finished_call("5550003")
        assert (record["outcome"], record["hangup_by"], record["worker_sid"]) == ("abandoned", "caller", None)
        assert record["wait_seconds"] > 2.0 and record["agent_answered_at"] is None
        logged = [e for _, e in await cc.store.events(cc.workspace.sid) if e.resource_sid == record["task_sid"]]
        canceled = [e for e in logged if e.name == "task.canceled"]
        assert len(canceled) == 1 and canceled[0].data["reason"] == "caller hung up"
        everything = [e for _, e in await cc.store.events(cc.workspace.sid)]
        stats = cumulative(everything, start=0, end=cc.center.clock.now() + 1)
        assert stats["tasks_canceled"] == 1 and stats["abandonment_rate"] == 1.0


async def test_agent_who_does_not_answer_times_out_and_the_next_agent_rings(tmp_path: Path) -> None:
    async with call_center(tmp_path, agents={"alice": ["support"], "bob": ["support"]}, reservation_timeout=3) as cc:
        alice_port, bob_port = _free_sip_port(), _free_sip_port()
        await cc.register("alice", alice_port)
        await cc.register("bob", bob_port)
        await cc.available("alice", "bob")  # alice has been idle longest: she rings first
        silent = await cc.start_phone("agent_no_answer_uas.xml", alice_port)
        phone = await cc.start_phone("agent_answer_uas.xml", bob_port, pcap=str(AUDIO_PCAP))
        caller = await cc.start_caller(
            "caller_rfc4733_uac.xml", "5550004", dtmf=str(dtmf_pcap("2")), pcap=str(AUDIO_PCAP)
        )
        await finish(silent)  # rang, and was cancelled when the reservation timed out
        await finish(caller)
        await finish(phone)
        record = await cc.finished_call("5550004")
        assert (record["outcome"], record["worker_sid"]) == ("completed", cc.agents["bob"].worker_sid)
        assert record["wait_seconds"] > 2.5  # the first offer's ring
        logged = [e for _, e in await cc.store.events(cc.workspace.sid) if e.data.get("task_sid") == record["task_sid"]]
        timeouts = [e for e in logged if e.name == "reservation.timeout"]
        assert [e.data["worker_sid"] for e in timeouts] == [cc.agents["alice"].worker_sid]
        assert cc.activity_of("alice") == "Missed"


async def test_caller_who_cancels_while_ringing_leaves_a_record(tmp_path: Path) -> None:
    async with call_center(tmp_path, agents={"alice": ["support"]}, answer_delay=5.0) as cc:
        caller = await cc.start_caller("caller_cancel_uac.xml", "5550005")
        await finish(caller)
        record = await cc.finished_call("5550005")
        assert (record["outcome"], record["hangup_cause"], record["hangup_by"]) == ("abandoned", "canceled", "caller")
        assert record["answered_at"] is None and record["task_sid"] is None


async def test_past_the_call_limit_new_calls_get_503_and_the_call_in_progress_goes_on(tmp_path: Path) -> None:
    async with call_center(tmp_path, agents={"alice": ["support"]}, max_calls=1) as cc:
        first = await cc.start_caller(
            "caller_abandon_uac.xml", "5550006", dtmf=str(dtmf_pcap("2")), pcap=str(AUDIO_PCAP)
        )
        for _ in range(100):  # until the first call is in
            if cc.node.b2bua.calls:
                break
            await asyncio.sleep(0.05)
        refused = await cc.start_caller("caller_refused_uac.xml", "5550007")
        await finish(refused)
        await finish(first)
        assert cc.node.ua.refused == 1
        record = await cc.finished_call("5550006")
        assert record["outcome"] == "abandoned" and record["wait_seconds"] > 2.0


async def test_through_a_record_routing_kamailio_every_request_of_the_call_stays_on_the_proxy(tmp_path: Path) -> None:
    require_kamailio()
    async with call_center(tmp_path, agents={"alice": ["support"]}) as cc:
        proxy_port, phone_port = _free_sip_port(), _free_sip_port()
        await cc.register("alice", phone_port)
        await cc.available("alice")
        async with kamailio_proxy(tmp_path, proxy_port, (LOOPBACK, cc.sip_port)) as log:
            phone = await cc.start_phone("agent_answer_uas.xml", phone_port, pcap=str(AUDIO_PCAP))
            caller = await cc.start_caller(
                "caller_proxy_uac.xml", "5550020", port=proxy_port, dtmf=str(dtmf_pcap("2")), pcap=str(AUDIO_PCAP)
            )
            await finish(caller)
            await finish(phone)
        record = await cc.finished_call("5550020")
        relayed = log.read_text(errors="replace")
    assert (record["outcome"], record["worker_sid"]) == ("completed", cc.agents["alice"].worker_sid)
    assert "relay INVITE" in relayed and "relay ACK" in relayed, relayed
    assert f"relay BYE from {LOOPBACK}:{cc.sip_port}" in relayed, relayed  # our BYE followed the route set


async def test_agent_who_holds_the_caller_counts_hold_time_and_the_recording_pauses(tmp_path: Path) -> None:
    async with call_center(tmp_path, agents={"alice": ["support"]}) as cc:
        phone_port = _free_sip_port()
        await cc.register("alice", phone_port)
        await cc.available("alice")
        phone = await cc.start_phone("agent_hold_uas.xml", phone_port, pcap=str(AUDIO_PCAP))
        caller = await cc.start_caller(
            "caller_rfc4733_uac.xml", "5550030", dtmf=str(dtmf_pcap("2")), pcap=str(AUDIO_PCAP)
        )
        await finish(caller)
        await finish(phone)
        record = await cc.finished_call("5550030")
    assert (record["outcome"], record["hangup_by"]) == ("completed", "agent")
    assert 1.5 < record["hold_seconds"] < 3.5, record
    assert record["talk_seconds"] > record["hold_seconds"]
    # Nothing is recorded while on hold: the recording is about the talk time without the hold.
    with wave.open(record["recording_path"], "rb") as recording:
        recorded = recording.getnframes() / recording.getframerate()
    assert recorded < record["talk_seconds"] - 1.0, (recorded, record["talk_seconds"])


async def test_agent_transfers_the_caller_to_the_billing_queue_and_a_billing_agent_takes_it(tmp_path: Path) -> None:
    async with call_center(tmp_path, agents={"alice": ["support"], "bill": ["billing"]}) as cc:
        alice_port, bill_port = _free_sip_port(), _free_sip_port()
        await cc.register("alice", alice_port)
        await cc.register("bill", bill_port)
        await cc.available("alice", "bill")
        transferring = await cc.start_phone(
            "agent_transfer_uas.xml", alice_port, pcap=str(AUDIO_PCAP), target="billing"
        )
        taking = await cc.start_phone("agent_answer_uas.xml", bill_port, pcap=str(AUDIO_PCAP))
        caller = await cc.start_caller(
            "caller_rfc4733_uac.xml", "5550040", dtmf=str(dtmf_pcap("2")), pcap=str(AUDIO_PCAP)
        )
        await finish(transferring)
        await finish(caller)
        await finish(taking)
        record = await cc.finished_call("5550040")
        logged = [e for _, e in await cc.store.events(cc.workspace.sid)]
    alice, bill = cc.agents["alice"].worker_sid, cc.agents["bill"].worker_sid
    assert (record["outcome"], record["worker_sid"], record["hangup_by"]) == ("completed", bill, "agent")
    assert record["attributes"]["transfers"][0]["from_worker_sid"] == alice
    assert record["attributes"]["transfers"][0]["to"] == "billing"
    billing = next(q.sid for q in cc.workspace.queues.values() if q.friendly_name == "billing")
    assert record["queue_sid"] == billing
    transfer = [e for e in logged if e.name == "task.transfer-initiated"]
    assert len(transfer) == 1 and transfer[0].resource_sid != record["task_sid"]  # the call moved to a new task
    accepted = [e.data["worker_sid"] for e in logged if e.name == "reservation.accepted"]
    assert accepted == [alice, bill]


async def test_agent_transfers_the_caller_to_an_outside_number_through_the_trunk(tmp_path: Path) -> None:
    trunk_port = _free_sip_port()
    async with call_center(tmp_path, agents={"alice": ["support"]}, trunk_port=trunk_port) as cc:
        alice_port = _free_sip_port()
        await cc.register("alice", alice_port)
        await cc.available("alice")
        trunk = await cc.start_phone("trunk_auth_uas.xml", trunk_port)  # challenges, verifies the digest, answers
        transferring = await cc.start_phone(
            "agent_transfer_uas.xml", alice_port, pcap=str(AUDIO_PCAP), target="0015551234"
        )
        caller = await cc.start_caller(
            "caller_hangup_uac.xml", "5550050", dtmf=str(dtmf_pcap("2")), pcap=str(AUDIO_PCAP)
        )
        await finish(transferring)
        await finish(caller)
        await finish(trunk)
        record = await cc.finished_call("5550050")
        logged = [e for _, e in await cc.store.events(cc.workspace.sid)]
    alice = cc.agents["alice"].worker_sid
    assert (record["outcome"], record["hangup_by"], record["worker_sid"]) == ("completed", "caller", alice)
    [moved] = record["attributes"]["transfers"]
    assert (moved["to"], moved["external"], moved["from_worker_sid"]) == ("0015551234", True, alice)
    wrapped = [e for e in logged if e.name == "reservation.wrapup" and e.data["worker_sid"] == alice]
    assert len(wrapped) == 1  # alice was done with the call as soon as the number answered


async def test_an_agents_phones_ring_together_and_the_first_to_answer_takes_the_call(tmp_path: Path) -> None:
    async with call_center(tmp_path, agents={"alice": ["support"]}) as cc:
        desk_port, soft_port = _free_sip_port(), _free_sip_port()
        await cc.register("alice", desk_port)  # two registrations of one user: a desk phone and a softphone
        await cc.register("alice", soft_port)
        assert len(cc.node.bindings.lookup(f"sip:alice@{LOOPBACK}")) == 2
        await cc.available("alice")
        desk = await cc.start_phone("agent_no_answer_uas.xml", desk_port)  # rings, then gets CANCEL
        soft = await cc.start_phone("agent_answer_uas.xml", soft_port, pcap=str(AUDIO_PCAP))
        caller = await cc.start_caller(
            "caller_rfc4733_uac.xml", "5550060", dtmf=str(dtmf_pcap("2")), pcap=str(AUDIO_PCAP)
        )
        await finish(desk)
        await finish(caller)
        await finish(soft)
        record = await cc.finished_call("5550060")
    assert (record["outcome"], record["worker_sid"]) == ("completed", cc.agents["alice"].worker_sid)


async def test_an_agent_calls_a_number_out_through_the_trunk_after_proving_who_they_are(tmp_path: Path) -> None:
    trunk_port = _free_sip_port()
    async with call_center(tmp_path, agents={"alice": ["support"]}, trunk_port=trunk_port) as cc:
        trunk = await cc.start_phone("trunk_auth_uas.xml", trunk_port)
        phone = await start_sipp(
            *[f"{LOOPBACK}:{cc.sip_port}", "-sf", str(SCENARIOS / "agent_call_uac.xml"), "-s", "0015559876"],
            *["-key", "agent", "alice", "-au", "alice", "-ap", cc.agents["alice"].password, "-key", "pcap"],
            *[str(AUDIO_PCAP), "-auth_uri", f"0015559876@{LOOPBACK}:{cc.sip_port}"],  # else it signs its host
            *["-i", LOOPBACK, "-mi", LOOPBACK, "-p", "0", "-mp", str(free_media_port()), "-m", "1"],
            *[
                "-timeout",
                "25s",
                "-timeout_error",
                "-nostdin",
                "-trace_err",
                "-error_file",
                str(tmp_path / "a-errors.log"),
            ],
            cwd=tmp_path,
        )
        await finish(phone)
        await finish(trunk)
        calls = []
        for _ in range(100):
            calls = [c for c in await cc.store.list_calls(cc.workspace.sid) if c["outcome"] is not None]
            if calls:
                break
            await asyncio.sleep(0.05)
    [call] = calls
    assert (call["direction"], call["caller"], call["called"]) == ("outbound", "alice", "0015559876")
    assert (call["outcome"], call["hangup_by"], call["worker_sid"]) == (
        "completed",
        "agent",
        cc.agents["alice"].worker_sid,
    )
    assert call["talk_seconds"] > 1.0 and call["recording_path"]


async def test_an_unproven_call_from_an_agents_name_is_challenged_and_refused(tmp_path: Path) -> None:
    async with call_center(tmp_path, agents={"alice": ["support"]}) as cc:
        phone = await start_sipp(
            *[f"{LOOPBACK}:{cc.sip_port}", "-sf", str(SCENARIOS / "agent_call_uac.xml"), "-s", "0015559876"],
            *["-key", "agent", "alice", "-au", "alice", "-ap", "not-her-password", "-key", "pcap", str(AUDIO_PCAP)],
            *["-auth_uri", f"0015559876@{LOOPBACK}:{cc.sip_port}"],
            *["-i", LOOPBACK, "-mi", LOOPBACK, "-p", "0", "-mp", str(free_media_port()), "-m", "1"],
            *["-timeout", "15s", "-timeout_error", "-nostdin"],
            cwd=tmp_path,
        )
        code, output = await finish_sipp(phone)
        assert code != 0 and "401" in output  # challenged again: no call was placed
        assert await cc.store.list_calls(cc.workspace.sid) == []


async def test_agent_whose_phone_goes_dead_after_answering_is_hung_up_by_the_rtp_timeout(tmp_path: Path) -> None:
    # No RTP and no BYE from the agent's phone: the call must not stay up for ever (the caller still streams audio).
    async with call_center(tmp_path, agents={"alice": ["support"]}) as cc:
        phone_port = _free_sip_port()
        await cc.register("alice", phone_port)
        await cc.available("alice")
        phone = await cc.start_phone("agent_answer_silent_uas.xml", phone_port)
        caller = await cc.start_caller(
            "caller_rfc4733_uac.xml", "5550040", dtmf=str(dtmf_pcap("2")), pcap=str(AUDIO_PCAP)
        )
        await finish(phone)  # it got the node's BYE
        await finish(caller)  # and so did the caller
        record = await cc.finished_call("5550040")
        assert cc.node.b2bua.calls == 0
    assert (record["outcome"], record["hangup_by"]) == ("completed", "agent"), record
    assert record["hangup_cause"] == "media_timeout", record
    assert record["worker_sid"] == cc.agents["alice"].worker_sid
    assert 9.0 < record["talk_seconds"] < 20.0, record  # the test center's RTP timeout is 10 s
