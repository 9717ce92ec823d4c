"""A call through a center's `FlowCalls` with a scripted caller: the flow summary the call record keeps in
`attributes.flow` (the flow, how it ended, the hours and holiday it found, each node with the exit taken, never
the digits typed in a collect node), the variables the flow starts with, the emergency closure, the fallback."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from callboard.app.ivr import FlowCalls, IvrSnapshot
from callboard.core.clock import VirtualClock
from callboard.flows.conversation import EnqueueRequest, Message, PromptRef, QueueOutcome, Speech
from callboard.flows.numbers import Number
from callboard.flows.scripted import ScriptedConversation, ScriptedServices
from callboard.flows.workspace_ivr import build_workspace_ivr
from callboard.voice.calls.call_record import CallRecord, Outcome

MONDAY_1030_MADRID = 1_767_605_400.0  # 2026-01-05 09:30 UTC
TUESDAY_1030_MADRID = MONDAY_1030_MADRID + 86_400  # 2026-01-06, Epiphany as the schedule's own date
NUMBER = "+34910000000"
SECRET = "4321"

FLOWS = [
    {
        "name": "main",
        "nodes": {
            "hours": {"type": "hours", "open": "menu"},
            "menu": {"type": "menu", "say": ["main-menu"], "options": {"1": "account", "2": "common"}},
            "account": {"type": "collect", "say": ["enter-account"], "variable": "account", "next": "common"},
            "common": {"type": "subflow", "flow": "greet", "next": "queue"},
            "queue": {"type": "enqueue", "workflow": "inbound", "attributes": {"account": "{{ account }}"}},
        },
    },
    {
        "name": "greet",
        "nodes": {  # returns by the exit it leaves out: silence at the menu
            "hello": {"type": "set", "values": {"greeted": True}, "next": "more"},
            "more": {"type": "menu", "say": ["main-menu"], "retries": 0, "options": {"9": "hello"}},
        },
    },
]


def snapshot(closures: Iterable[dict[str, Any]] = ()) -> tuple[IvrSnapshot, Number]:
    ivr = build_workspace_ivr(
        flows=FLOWS,
        schedules=[
            {
                "name": "madrid",
                "time_zone": "Europe/Madrid",
                "weekly": {day: ["09:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
                "dates": [{"date": "2026-01-06", "name": "Epiphany"}],
            }
        ],
        numbers=[{"number": NUMBER, "site": "madrid", "flow": "main", "schedule": "madrid", "language": "es"}],
        prompts=["main-menu", "enter-account"],
        workflows=["inbound"],
    )
    assert ivr.problems == ()
    shot = IvrSnapshot("WS1", ivr.flows, ivr.numbers, {}, tuple(closures), ivr.catalog.prompts, ivr.problems)
    return shot, ivr.numbers[NUMBER]


class Call:
    """An answered `InboundCall` as `FlowCalls` uses it: its record, and whether it was stored again."""

    def __init__(self, caller: str = "610000001", called: str = NUMBER.lstrip("+")) -> None:
        self.record = CallRecord("CA1", "inbound", caller, called, f"sip:{caller}@trunk", f"sip:{called}@cb", 0.0)
        self.outcome: Outcome | None = None
        self.saved = 0

    @property
    def sid(self) -> str:
        return self.record.sid

    @property
    def caller(self) -> str:
        return self.record.caller

    @property
    def called(self) -> str:
        return self.record.called

    async def save(self) -> None:
        self.saved += 1


class AgentTalks(ScriptedConversation):
    """A caller who talks to an agent from the queue: as the B2BUA does, the record takes the task's attributes
    and the call is over (and its record stored) before the flow run returns."""

    def __init__(self, call: Call, inputs: Iterable[str | None], clock: VirtualClock) -> None:
        super().__init__(inputs, clock=clock)
        self.call = call

    async def enqueue(self, request: EnqueueRequest) -> QueueOutcome:
        outcome = await super().enqueue(request)
        self.call.record.attributes = self.task_attributes = dict(request.attributes)
        self.call.record.ended_at = 42.0
        return outcome


class Config:
    def __init__(self, found: tuple[IvrSnapshot, Number] | None) -> None:
        self.found = found

    async def number(self, called: str) -> tuple[IvrSnapshot, Number] | None:
        return self.found if called == NUMBER.lstrip("+") else None


class Voice:
    """`CallerVoice` as `FlowCalls` uses it: the conversation of a call, and what it said outside a flow."""

    def __init__(self, conversation: ScriptedConversation) -> None:
        self.conversation_ = conversation
        self.said: list[Message] = []

    def conversation(self, call: Call, snapshot: IvrSnapshot, number: Number) -> ScriptedConversation:
        return self.conversation_

    async def say(self, call: Call, snapshot: IvrSnapshot, message: Message) -> None:
        self.said.append(message)


class Fallback:
    def __init__(self) -> None:
        self.ran: list[Call] = []

    async def run(self, call: Call) -> None:
        self.ran.append(call)


async def run_call(
    conversation: ScriptedConversation | None = None,
    *,
    call: Call | None = None,
    at: float = MONDAY_1030_MADRID,
    closures: Iterable[dict[str, Any]] = (),
) -> tuple[Call, Voice, Fallback]:
    clock = VirtualClock(at)
    call = call or Call()
    voice, fallback = Voice(conversation or ScriptedConversation([], clock=clock)), Fallback()
    flows = FlowCalls(Config(snapshot(closures)), voice, ScriptedServices(), clock, fallback)
    await flows.run(call)
    return call, voice, fallback


async def test_the_record_keeps_the_path_with_exits_and_the_hours_but_not_the_collected_digits() -> None:
    clock = VirtualClock(MONDAY_1030_MADRID)
    call = Call()
    conversation = AgentTalks(call, ["1", SECRET, ""], clock)
    await run_call(conversation, call=call)
    assert conversation.task_attributes["account"] == SECRET  # the task has it; the summary must not
    flow = call.record.attributes["flow"]
    assert flow == {
        "name": "main",
        "end": "enqueued",
        "outcome": "completed",  # the queue ended with the agent, not with a hang-up or a callback
        "hours": "open",
        "holiday": None,
        "path": [
            {"node": "hours", "exit": "open"},
            {"node": "menu", "exit": "1"},  # the digit chosen in a menu is the exit
            {"node": "account", "exit": "next"},
            {"node": "common", "exit": "next"},
            {"node": "hello", "exit": "next", "flow": "greet"},  # a subflow's nodes name it
            {"node": "more", "exit": "no_input", "flow": "greet"},
            {"node": "queue", "exit": "completed"},
        ],
    }
    assert SECRET not in repr(flow)
    assert "flow" not in conversation.task_attributes  # the record's attributes are a copy, not the task's
    assert call.saved == 1  # the call had ended with the agent and was stored: stored again with the summary


async def test_on_a_holiday_the_summary_names_it_and_a_call_still_going_is_not_stored_yet() -> None:
    call, _, _ = await run_call(at=TUESDAY_1030_MADRID)
    flow = call.record.attributes["flow"]
    assert (flow["end"], flow["hours"], flow["holiday"]) == ("hangup", "holiday", "Epiphany")
    assert flow["path"] == [{"node": "hours", "exit": "holiday"}]
    assert call.saved == 0  # the B2BUA stores it when the call ends


async def test_a_flow_summary_already_kept_is_not_replaced_but_the_path_up_to_a_queue_is() -> None:
    call = Call()
    call.record.attributes["flow"] = {"name": "earlier", "end": "hangup"}
    await run_call(call=call)
    assert call.record.attributes["flow"] == {"name": "earlier", "end": "hangup"}
    # The task's attributes carry the path up to the queue (for the screen pop); the record gets the whole run.
    call = Call()
    call.record.attributes["flow"] = {"name": "main", "path": [{"node": "hours", "exit": "open"}]}
    await run_call(call=call)
    assert call.record.attributes["flow"]["end"] == "caller_gone" and call.record.attributes["flow"]["path"]


async def test_the_flow_starts_with_the_callers_number_in_e164() -> None:
    clock = VirtualClock(MONDAY_1030_MADRID)
    shot, number = snapshot()
    flows = FlowCalls(Config((shot, number)), Voice(ScriptedConversation([])), ScriptedServices(), clock, Fallback())
    variables = flows.variables(Call(caller="0034610000001"), shot, number)
    assert variables["caller"] == "+34610000001" and variables["number"] == NUMBER and variables["language"] == "es"
    assert (variables["called"], variables["workspace"], variables["call_sid"]) == ("34910000000", "WS1", "CA1")
    assert flows.variables(Call(caller="anonymous"), shot, number)["caller"] == ""


async def test_an_emergency_closure_answers_instead_of_the_flow() -> None:
    site = {"scope": "site", "target": "madrid", "text": "Cerrado hoy."}
    call, voice, _ = await run_call(closures=[site])
    assert voice.said == [Message((Speech("Cerrado hoy."),), "es")]
    assert call.outcome is Outcome.IVR and "flow" not in call.record.attributes

    number = {"scope": "number", "target": NUMBER, "text": None, "prompt": None}
    _, voice, _ = await run_call(closures=[number])
    assert voice.said == [Message((PromptRef("emergency-closed"),), "es")]


async def test_a_number_the_center_does_not_have_goes_to_the_fallback() -> None:
    call, _, fallback = await run_call(call=Call(called="34910000999"))
    assert fallback.ran == [call] and "flow" not in call.record.attributes
