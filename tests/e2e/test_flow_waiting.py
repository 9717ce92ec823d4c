"""A caller's time in a queue over SIP: the callback offer (the task keeps its place, the agent's phone rings
first, then the customer is dialed through the trunk, again when it does not answer), the maximum wait into
voicemail, no agents staffed (overflow to another queue, a message and the hang-up) and the caller who gives up."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from array import array
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from audio import SILENCE_RMS, active_seconds, read_wav, rms, tone_share, write_alaw, write_tone
from call_center import AUDIO_PCAP, SCENARIOS, CallCenter, call_center, dtmf_pcap, finish
from sipp import LOOPBACK, free_media_port, require_sipp, start_sipp

from conftest import require_peer

pytestmark = pytest.mark.e2e

NUMBER = "+34910000200"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS_OPEN = {"time_zone": "Europe/Madrid", "weekly": {day: ["00:00-24:00"] for day in DAYS}}
QUIET = {"announce_position": False, "announce_wait": False}  # no announcements: the caller's timing is known
QUEUE_THEN_GOODBYE: dict[str, Any] = {
    "start": "queue",
    "nodes": {
        "queue": {
            "type": "enqueue",
            "workflow": "inbound",
            "attributes": {"department": "support"},
            "timed_out": "goodbye",
            "no_agents": "goodbye",
        },
        "goodbye": {"type": "hangup", "say": ["goodbye"]},
    },
}


@pytest.fixture(autouse=True)
def _peers() -> None:
    require_sipp()
    require_peer("sipp pcaps", AUDIO_PCAP is not None and dtmf_pcap("1") is not None, "sip-tester's pcaps")


def free_sip_port() -> int:
    return free_media_port() + 1  # odd, and free with its even neighbour: nothing else binds it now


async def configure(
    cc: CallCenter, flow: dict[str, Any], waiting: dict[str, dict[str, Any]], *, language: str = "en"
) -> None:
    """The number, its hours, flow and the queues' waiting options, published as the API and `apply` do."""
    ws = cc.workspace.sid
    await cc.store.put_document(ws, "schedule", "always", ALWAYS_OPEN)
    await cc.store.publish_flow(ws, "main", flow)
    await cc.store.put_document(
        ws, "number", NUMBER, {"site": "madrid", "flow": "main", "language": language, "schedule": "always"}
    )
    for queue, options in waiting.items():
        await cc.store.put_document(ws, "queue_waiting", queue, options)
    cc.node.ivr_changed(ws)


async def start_uas(
    cc: CallCenter, scenario: str, port: int, name: str, *, calls: int = 1, **keys: str
) -> asyncio.subprocess.Process:
    """A SIPp UAS on `port` playing `scenario` for `calls` calls; its <log> lines go to `<name>-logs.txt` and
    its messages, with the time each was sent or received, to `<name>-messages.txt` (see `logged`, `times`)."""
    process = await start_sipp(
        *["-sf", str(SCENARIOS / scenario), "-i", LOOPBACK, "-mi", LOOPBACK, "-p", str(port)],
        *["-trace_err", "-error_file", str(cc.workdir / f"{name}-errors.log")],
        *["-trace_logs", "-log_file", str(cc.workdir / f"{name}-logs.txt")],
        *["-trace_msg", "-message_file", str(cc.workdir / f"{name}-messages.txt")],
        *["-mp", str(free_media_port()), "-m", str(calls), "-timeout", "60s", "-timeout_error", "-nostdin"],
        *[arg for key, value in keys.items() for arg in ("-key", key, value)],
        cwd=cc.workdir,
    )
    cc.processes.append(process)
    return process


def logged(cc: CallCenter, name: str) -> list[str]:
    """What a SIPp run's scenario logged with <log>, line by line."""
    path = cc.workdir / f"{name}-logs.txt"
    return [line.strip() for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


_STAMP = re.compile(r"^-+ (\d{4}-\d\d-\d\d[\sT]\d\d:\d\d:\d\d(?:\.\d+)?)\s*$")


def times(cc: CallCenter, name: str, first_line: str) -> list[float]:
    """When a SIPp run sent or received each message whose first line starts with `first_line` (its message
    trace stamps every message with the wall-clock time)."""
    path = cc.workdir / f"{name}-messages.txt"
    found, stamp = [], None
    for line in path.read_text(errors="replace").splitlines():
        match = _STAMP.match(line)
        if match:
            stamp = datetime.fromisoformat(match.group(1).replace(" ", "T")).timestamp()
        elif line.startswith(first_line) and stamp is not None:
            found.append(stamp)
            stamp = None
    return found


async def wait_for(predicate: Any, what: str, timeout: float = 30.0) -> Any:  # noqa: ASYNC109
    """Polls `predicate()` (sync or async) until it returns something truthy."""
    async with asyncio.timeout(timeout):
        while True:
            value = predicate()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            await asyncio.sleep(0.1)
    raise AssertionError(what)  # pragma: no cover - asyncio.timeout raises first


async def callbacks(cc: CallCenter) -> list[dict[str, Any]]:
    """The finished calls that called a customer back (outbound, with the number in `attributes.callback`),
    oldest first."""
    calls = await cc.store.list_calls(cc.workspace.sid, limit=50)
    done = [c for c in calls if c["direction"] == "outbound" and c["attributes"].get("callback") and c["outcome"]]
    return sorted(done, key=lambda c: c["started_at"])


def caller_voice(cc: CallCenter, *, silence: float = 1.0, tone: float = 0.0, frequency: float = 700) -> Path:
    """What the streaming caller scenarios send (`caller-voice.al` in SIPp's folder): `silence` seconds, then
    `tone` seconds of a sine (a silent caller still sends RTP, or the node would hang up on it)."""
    samples = array("h", bytes(2 * round(8000 * silence)))
    if tone:
        samples.extend(read_wav(write_tone(cc.workdir / "caller-tone.wav", frequency, tone))[0])
    return write_alaw(cc.workdir / "caller-voice.al", samples)


async def events(cc: CallCenter, name: str) -> list[Any]:
    return [e for _, e in await cc.store.events(cc.workspace.sid) if e.name == name]


CALLBACK_WAITING = {
    "support": {**QUIET, "callback": {"key": "9", "after": 0, "confirm": True, "retries": 1, "retry_every": 1}}
}


async def leave_for_a_callback(cc: CallCenter, caller: str, other_number: str | None = None) -> dict[str, Any]:
    """The caller waits with nobody available, takes the callback offer (9), confirms its own number (1) or
    gives `other_number` (2, three different digits, #) and hangs up; its finished call record."""
    if other_number is None:
        scenario, keys = "caller_callback_uac.xml", {"confirm": str(dtmf_pcap("1"))}
    else:
        assert len(set(other_number)) == len(other_number) == 3, "SIPp replays a digit's pcap as one event"
        scenario = "caller_callback_number_uac.xml"
        keys = {f"d{i}": str(dtmf_pcap(digit)) for i, digit in enumerate(other_number, 1)}
        keys |= {"other": str(dtmf_pcap("2")), "end": str(dtmf_pcap("pound"))}
    process = await cc.start_caller(scenario, caller, called=NUMBER.lstrip("+"), offer=str(dtmf_pcap("9")), **keys)
    await finish(process)
    return await cc.finished_call(caller)


async def test_a_caller_who_asks_for_a_callback_keeps_its_place_and_is_called_back_after_the_agent_answers(
    tmp_path: Path,
) -> None:
    trunk_port = free_sip_port()
    async with call_center(tmp_path, agents={"alice": ["support"]}, trunk_port=trunk_port) as cc:
        await configure(cc, QUEUE_THEN_GOODBYE, CALLBACK_WAITING)
        alice_port = free_sip_port()
        await cc.register("alice", alice_port)  # registered but Offline: nobody takes the call now

        inbound = await leave_for_a_callback(cc, "5550201")
        # The caller hung up while being told it will be called back: its task keeps its place in line.
        assert inbound["outcome"] == "callback", inbound
        assert inbound["attributes"]["callback_number"] == "5550201"
        task = cc.workspace.tasks[inbound["task_sid"]]
        assert task.status.value == "pending", task
        assert task.attributes["callback_number"] == "5550201" and task.attributes["callback_retries"] == 1

        phone = await start_uas(cc, "agent_callback_uas.xml", alice_port, "agent", pcap=str(AUDIO_PCAP))
        customer = await start_uas(cc, "customer_answer_uas.xml", trunk_port, "customer", pcap=str(AUDIO_PCAP))
        await cc.available("alice")
        await finish(customer)
        await finish(phone)
        [callback] = await wait_for(lambda: callbacks(cc), "no finished callback")
    alice = cc.agents["alice"].worker_sid
    assert (callback["outcome"], callback["worker_sid"], callback["task_sid"]) == ("completed", alice, task.sid)
    assert (callback["called"], callback["attributes"]["callback"], callback["hangup_by"]) == (
        "5550201",
        "5550201",
        "called",
    )
    assert callback["talk_seconds"] > 2.0  # the customer talked for 3 s before hanging up
    # The trunk was asked for the number the caller confirmed, and only after the agent's phone answered.
    assert logged(cc, "customer") == ["customer called at 5550201"]
    assert len(logged(cc, "agent")) == 1 and "Callback 5550201" in logged(cc, "agent")[0]
    [agent_answered] = times(cc, "agent", "SIP/2.0 200 OK")[:1]
    [customer_invited] = times(cc, "customer", "INVITE sip:5550201@")
    assert agent_answered < customer_invited
    accepted = await events(cc, "reservation.accepted")
    assert [e.data["worker_sid"] for e in accepted] == [alice]


async def test_a_callback_the_customer_does_not_take_is_tried_again_as_configured(tmp_path: Path) -> None:
    trunk_port = free_sip_port()
    async with call_center(tmp_path, agents={"alice": ["support"]}, trunk_port=trunk_port) as cc:
        await configure(cc, QUEUE_THEN_GOODBYE, CALLBACK_WAITING)  # one retry, a second later
        alice_port = free_sip_port()
        await cc.register("alice", alice_port)
        inbound = await leave_for_a_callback(cc, "5550202", other_number="803")  # not its own number
        assert inbound["outcome"] == "callback", inbound
        assert inbound["attributes"]["callback_number"] == "803"

        phone = await start_uas(cc, "agent_callback_uas.xml", alice_port, "agent", calls=2, pcap=str(AUDIO_PCAP))
        busy = await start_uas(cc, "customer_busy_uas.xml", trunk_port, "busy")
        await cc.available("alice")
        await finish(busy)  # the first attempt: 486
        retry = await wait_for(
            lambda: next((t for t in cc.workspace.tasks.values() if t.attributes.get("callback_attempt") == 2), None),
            "no second attempt",
        )
        customer = await start_uas(cc, "customer_answer_uas.xml", trunk_port, "customer", pcap=str(AUDIO_PCAP))
        await finish(customer)  # the retry, after the agent's wrap-up and the second between attempts
        await finish(phone)
        attempts = await wait_for(lambda: _two(callbacks(cc)), "not two finished callback attempts", timeout=40)
        # No third attempt: one retry was configured, and the second attempt was answered.
        await asyncio.sleep(3)
        assert len(await callbacks(cc)) == 2
    first, second = attempts
    alice = cc.agents["alice"].worker_sid
    assert (first["outcome"], first["worker_sid"], first["task_sid"]) == ("failed", alice, inbound["task_sid"])
    assert (second["outcome"], second["worker_sid"]) == ("completed", alice)
    assert second["task_sid"] == retry.sid != first["task_sid"]  # the retry is a new task of the same number
    assert retry.attributes["callback_number"] == "803" and retry.priority == 0
    assert logged(cc, "busy") == ["customer called at 803"]
    assert logged(cc, "customer") == ["customer called at 803"]
    assert len(logged(cc, "agent")) == 2  # the agent's phone rang for each attempt, before the customer's


async def test_a_callback_customer_who_never_answers_is_tried_again_after_the_ring_time(tmp_path: Path) -> None:
    trunk_port = free_sip_port()
    async with call_center(tmp_path, agents={"alice": ["support"]}, trunk_port=trunk_port) as cc:
        await configure(cc, QUEUE_THEN_GOODBYE, CALLBACK_WAITING)  # one retry, a second later
        trunk = cc.node.b2bua.trunk
        assert trunk is not None
        cc.node.b2bua.trunk = dataclasses.replace(trunk, ring_seconds=3.0)  # not a minute of ringing
        alice_port = free_sip_port()
        await cc.register("alice", alice_port)
        inbound = await leave_for_a_callback(cc, "5550207")
        assert inbound["outcome"] == "callback", inbound

        phone = await start_uas(cc, "agent_callback_uas.xml", alice_port, "agent", calls=2, pcap=str(AUDIO_PCAP))
        away = await start_uas(cc, "customer_no_answer_uas.xml", trunk_port, "away")
        await cc.available("alice")
        await finish(away)  # rang 3 s, then CANCEL
        retry = await wait_for(
            lambda: next((t for t in cc.workspace.tasks.values() if t.attributes.get("callback_attempt") == 2), None),
            "no second attempt",
        )
        customer = await start_uas(cc, "customer_answer_uas.xml", trunk_port, "customer", pcap=str(AUDIO_PCAP))
        await finish(customer)
        await finish(phone)
        first, second = await wait_for(lambda: _two(callbacks(cc)), "not two finished callback attempts", timeout=40)
    assert (first["outcome"], first["hangup_cause"], first["task_sid"]) == ("failed", "no_answer", inbound["task_sid"])
    assert (second["outcome"], second["task_sid"]) == ("completed", retry.sid)
    assert retry.attributes["callback_number"] == "5550207" and "callback_retry" not in retry.attributes
    assert logged(cc, "away") == ["customer called at 5550207"]
    [invited] = times(cc, "away", "INVITE sip:5550207@")
    [canceled] = times(cc, "away", "CANCEL sip:5550207@")
    assert 2.5 < canceled - invited < 10.0  # the trunk's ring time (3 s), not a busy reply


async def _two(calls: Any) -> list[dict[str, Any]] | None:
    found = await calls
    return found if len(found) >= 2 else None


VOICEMAIL_FLOW: dict[str, Any] = {
    "start": "queue",
    "nodes": {
        "queue": {
            "type": "enqueue",
            "workflow": "inbound",
            "attributes": {"department": "support"},
            "timed_out": "voicemail",
        },
        "voicemail": {
            "type": "voicemail",
            "say": ["leave-message"],
            "workflow": "voicemail",
            "max_seconds": 20,
            "next": "goodbye",
        },
        "goodbye": {"type": "hangup", "say": ["message-saved"]},
    },
}


async def add_voicemail(cc: CallCenter) -> None:
    """A `voicemail` channel and workflow (routed to support) in the test center."""

    def op(w: Any) -> None:
        w.add_channel("voicemail")
        w.add_workflow("voicemail", {"task_routing": {"default_filter": {"queue": "support"}}})

    await cc.center.run(cc.workspace.sid, op)


async def test_after_the_maximum_wait_the_caller_leaves_a_voicemail_that_becomes_a_task(tmp_path: Path) -> None:
    async with call_center(tmp_path, agents={"alice": ["support"]}) as cc:
        await add_voicemail(cc)
        await configure(cc, VOICEMAIL_FLOW, {"support": {**QUIET, "max_wait": 2}})
        caller_voice(cc, silence=11.0, tone=3.0)  # its message starts once the prompt and the beep are over
        caller = await cc.start_caller(
            "caller_voicemail_uac.xml", "5550203", called=NUMBER.lstrip("+"), pound=str(dtmf_pcap("pound"))
        )
        await finish(caller)
        record = await cc.finished_call("5550203")
        canceled = await events(cc, "task.canceled")
        tasks = [t for t in cc.workspace.tasks.values() if t.channel == "voicemail"]
    # The queue's task was canceled at the maximum wait (2 s), and the caller went to voicemail.
    assert [e.resource_sid for e in canceled] == [record["task_sid"]]
    assert canceled[0].data.get("reason") == "max wait"
    assert 1.5 < record["wait_seconds"] < 15.0, record  # max_wait 2 s; without it the caller would wait on
    [task] = tasks
    assert record["attributes"]["voicemail_task_sid"] == task.sid
    assert task.attributes["caller"] == "5550203" and task.attributes["call_sid"] == record["sid"]
    message = task.attributes["voicemail"]
    samples, rate = read_wav(Path(message["recording_path"]))  # the file is there
    # What the caller said after the beep: its 3 s tone, whole, and not the prompt it heard.
    assert rate == 8000 and rms(samples) > SILENCE_RMS
    assert 3.0 < len(samples) / rate < 7.0 and abs(message["seconds"] - len(samples) / rate) < 0.05
    assert 2.6 < active_seconds(samples, rate) < 3.4
    assert tone_share(samples, 700) > 0.8


async def test_with_nobody_staffed_a_queue_that_leaves_when_empty_overflows_to_another(tmp_path: Path) -> None:
    flow: dict[str, Any] = {
        "start": "queue",
        "nodes": {
            "queue": {
                "type": "enqueue",
                "workflow": "inbound",
                "attributes": {"department": "support"},
                "no_agents": "overflow",
            },
            "overflow": {"type": "enqueue", "workflow": "inbound", "attributes": {"department": "sales"}},
        },
    }
    async with call_center(tmp_path, agents={"alice": ["support"], "sam": ["sales"]}) as cc:
        await configure(cc, flow, {"support": {**QUIET, "leave_when_empty": True}, "sales": QUIET})
        sam_port = free_sip_port()
        await cc.register("sam", sam_port)
        await cc.available("sam")  # alice, the only support agent, is Offline
        phone = await cc.start_phone("agent_answer_uas.xml", sam_port, pcap=str(AUDIO_PCAP))
        caller_voice(cc)
        caller = await cc.start_caller("caller_listen_uac.xml", "5550204", called=NUMBER.lstrip("+"))
        await finish(phone)
        await finish(caller)
        record = await cc.finished_call("5550204")
        canceled = await events(cc, "task.canceled")
    sales = next(q.sid for q in cc.workspace.queues.values() if q.friendly_name == "sales")
    assert (record["outcome"], record["worker_sid"], record["queue_sid"]) == (
        "completed",
        cc.agents["sam"].worker_sid,
        sales,
    )
    [support_task] = canceled  # the support task left at once, canceled for want of agents
    assert support_task.data.get("reason") == "no agents" and support_task.resource_sid != record["task_sid"]


async def test_a_queue_that_does_not_join_when_empty_refuses_the_caller_at_once(tmp_path: Path) -> None:
    async with call_center(tmp_path, agents={"alice": ["support"]}) as cc:
        await configure(cc, QUEUE_THEN_GOODBYE, {"support": {**QUIET, "join_when_empty": False}})
        # alice is Offline: nobody is staffed for support
        caller_voice(cc)
        caller = await cc.start_caller("caller_listen_uac.xml", "5550208", called=NUMBER.lstrip("+"))
        await finish(caller)
        record = await cc.finished_call("5550208")
        canceled = await events(cc, "task.canceled")
    assert (record["outcome"], record["hangup_by"]) == ("no_agent", "system"), record
    assert record["wait_seconds"] < 1.0  # no music, no wait: the no_agents exit at once
    assert [(e.resource_sid, e.data.get("reason")) for e in canceled] == [(record["task_sid"], "no agents")]
    # Then the flow's no_agents exit: goodbye (2.4 s in English) and the hang-up.
    assert 1.5 < record["ended_at"] - record["enqueued_at"] < 15.0


async def test_at_the_maximum_wait_the_caller_hears_a_message_and_is_hung_up(tmp_path: Path) -> None:
    flow: dict[str, Any] = {
        "start": "queue",
        "nodes": {
            "queue": {
                "type": "enqueue",
                "workflow": "inbound",
                "attributes": {"department": "support"},
                "timed_out": "busy",
            },
            "busy": {"type": "hangup", "say": ["all-busy", "goodbye"]},
        },
    }
    async with call_center(tmp_path, agents={"alice": ["support"]}) as cc:
        await configure(cc, flow, {"support": {**QUIET, "max_wait": 3}})
        await cc.available("alice")  # staffed, but her phone is not registered: she is never reached
        caller_voice(cc)
        caller = await cc.start_caller("caller_listen_uac.xml", "5550205", called=NUMBER.lstrip("+"))
        await finish(caller)
        record = await cc.finished_call("5550205")
        canceled = await events(cc, "task.canceled")
    assert (record["outcome"], record["hangup_by"]) == ("no_agent", "system"), record
    assert 2.5 < record["wait_seconds"] < 15.0  # max_wait 3 s
    # The message (2.4 s + 2.4 s in English) was said after the wait, before the hang-up.
    assert record["ended_at"] - record["answered_at"] > record["wait_seconds"] + 4.0
    assert [(e.resource_sid, e.data.get("reason")) for e in canceled] == [(record["task_sid"], "max wait")]


async def test_a_caller_who_hangs_up_while_waiting_is_an_abandoned_task_with_its_wait_recorded(
    tmp_path: Path,
) -> None:
    async with call_center(tmp_path, agents={"alice": ["support"]}) as cc:
        await configure(cc, QUEUE_THEN_GOODBYE, {"support": QUIET})
        caller = await cc.start_caller("caller_wait_hangup_uac.xml", "5550206", called=NUMBER.lstrip("+"))
        await finish(caller)
        record = await cc.finished_call("5550206")
        canceled = await events(cc, "task.canceled")
        task = cc.workspace.tasks.get(record["task_sid"])
    assert (record["outcome"], record["hangup_by"]) == ("abandoned", "caller"), record
    assert record["task_sid"] is not None and record["enqueued_at"] is not None
    assert 3.0 < record["wait_seconds"] < 10.0  # the caller hung up 4 s after the answer
    assert [(e.resource_sid, e.data.get("reason")) for e in canceled] == [(record["task_sid"], "caller hung up")]
    assert task is None or task.status.value == "canceled"
