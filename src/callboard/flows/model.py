"""Built flows: the node types, a `Flow` of named nodes, and `FlowSet`, the published snapshot a run reads.

Nodes are frozen and hold compiled templates and expressions, so a run never parses anything. An exit is the
name of a node in the same flow, or None where the flow leaves it out: the top flow then ends the call, a
subflow returns to the flow that called it (see `runner`). A `return` node is that, written out.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Protocol, TypeAlias

from callboard.core.expressions import Expression
from callboard.flows.conversation import Message, PromptRef, QueueOutcome, SayNumber, Speech, Utterance
from callboard.flows.template import Template, ValueTemplate

__all__ = [
    "CALL_OVER",
    "QUEUE_EXITS",
    "BranchCase",
    "BranchNode",
    "CallbackNode",
    "CollectNode",
    "CrmNode",
    "EnqueueNode",
    "Flow",
    "FlowSet",
    "HangupNode",
    "HoursNode",
    "HoursStateLike",
    "LanguageNode",
    "LookupNode",
    "MenuNode",
    "MenuOption",
    "Node",
    "NumberItem",
    "PlayNode",
    "PromptItem",
    "ReturnNode",
    "Say",
    "SayItem",
    "ScheduleLike",
    "SetNode",
    "SubflowNode",
    "TextItem",
    "TransferNode",
    "VoicemailNode",
]

# --- What a node says -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PromptItem:
    """A prompt of the library by name; the channel picks the version in the message's language."""

    name: str


@dataclass(frozen=True, slots=True)
class TextItem:
    """Text (a template), either one for every language or one per language code."""

    text: Template | Mapping[str, Template]

    def in_language(self, language: str) -> Template | None:
        """The text for `language`, else the English one, else the first given."""
        if isinstance(self.text, Template):
            return self.text
        return self.text.get(language) or self.text.get("en") or next(iter(self.text.values()), None)


@dataclass(frozen=True, slots=True)
class NumberItem:
    """A number said in the message's language (`{{ position }}`); not said when it is not a whole number."""

    value: Template
    unit: str | None = None


SayItem: TypeAlias = PromptItem | TextItem | NumberItem


@dataclass(frozen=True)
class Say:
    """A `say` list as built; `message()` turns it into what the channel says, in the caller's language."""

    items: tuple[SayItem, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.items)

    def message(self, variables: Mapping[str, Any], language: str) -> Message:
        parts: list[Utterance] = []
        for item in self.items:
            if isinstance(item, PromptItem):
                parts.append(PromptRef(item.name))
            elif isinstance(item, TextItem):
                template = item.in_language(language)
                text = template.text(variables) if template is not None else ""
                if text.strip():
                    parts.append(Speech(text))
            else:
                number = _whole_number(item.value.render(variables))
                if number is not None:
                    parts.append(SayNumber(number, item.unit))
        return Message(tuple(parts), language)


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


# --- Nodes ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HoursNode:
    """Chooses an exit by the schedule's state now: open, closed or holiday."""

    kind: ClassVar[str] = "hours"
    name: str
    open: str
    schedule: str | None = None  # None: the number's (variable `schedule`)
    closed: str | None = None  # None: the number's closed prompt, then the call ends
    holiday: str | None = None  # None: the number's holiday prompt, then the call ends


@dataclass(frozen=True)
class MenuOption:
    next: str
    values: Mapping[str, ValueTemplate] = field(default_factory=dict)  # variables set when chosen


@dataclass(frozen=True)
class MenuNode:
    """Says the menu and waits for one digit; repeats on a wrong digit or silence, `retries` times. When the
    tries run out, the last one decides the exit: `invalid` after a wrong digit, `no_input` after silence (a
    wrong digit then silence leaves by `no_input`: the caller stopped trying)."""

    kind: ClassVar[str] = "menu"
    name: str
    say: Say
    options: Mapping[str, MenuOption]
    timeout: float = 5.0
    retries: int = 2
    invalid_say: Say = Say((PromptItem("invalid"),))
    invalid: str | None = None  # None: the no_input exit
    no_input: str | None = None

    @property
    def invalid_exit(self) -> str | None:
        return self.invalid if self.invalid is not None else self.no_input


@dataclass(frozen=True)
class CollectNode:
    """Collects several digits into a variable, checked by length and pattern."""

    kind: ClassVar[str] = "collect"
    name: str
    say: Say
    variable: str
    next: str
    max_digits: int = 32
    min_digits: int = 1
    terminator: str = "#"
    pattern: re.Pattern[str] | None = None  # must match the whole input
    timeout: float = 5.0
    attempts: int = 3
    invalid_say: Say = Say((PromptItem("invalid"),))
    failed: str | None = None


@dataclass(frozen=True)
class BranchCase:
    when: Expression
    next: str


@dataclass(frozen=True)
class BranchNode:
    """The first case whose expression holds (variables are the `call` scope), else `default`."""

    kind: ClassVar[str] = "branch"
    name: str
    cases: tuple[BranchCase, ...]
    default: str


@dataclass(frozen=True)
class SetNode:
    kind: ClassVar[str] = "set"
    name: str
    values: Mapping[str, ValueTemplate]
    next: str


@dataclass(frozen=True)
class LanguageNode:
    """Switches the caller's language when the value is one of `known`."""

    kind: ClassVar[str] = "language"
    name: str
    language: Template
    next: str
    known: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LookupNode:
    """An HTTP request whose JSON reply fills variables."""

    kind: ClassVar[str] = "lookup"
    name: str
    url: Template
    next: str
    fallback: str
    method: str = "GET"
    body: ValueTemplate | None = None
    timeout: float = 3.0
    into: Mapping[str, tuple[str | int, ...]] = field(default_factory=dict)  # variable <- path in the reply


@dataclass(frozen=True)
class CrmNode:
    """Looks the caller up in the CRM by number: variable `contact`."""

    kind: ClassVar[str] = "crm"
    name: str
    found: str
    not_found: str


# The exit an enqueue node takes for each outcome: the outcome's name, except `timed_out`, because the node's
# `timeout` is the task's TTL in seconds, as `timeout` is a number of seconds in every other node.
QUEUE_EXITS: Mapping[QueueOutcome, str] = MappingProxyType(
    {outcome: "timed_out" if outcome is QueueOutcome.TIMEOUT else outcome.value for outcome in QueueOutcome}
)

# Outcomes after which the caller is done with this call: they talked to an agent, hung up, or left to be called
# back. Without an exit for it the whole run ends there, in a subflow too: there is no one left to go on with.
# After the others (timed_out, no_agents, failed) the caller is still on the line, and a subflow returns.
CALL_OVER: frozenset[QueueOutcome] = frozenset({QueueOutcome.COMPLETED, QueueOutcome.HUNG_UP, QueueOutcome.CALLBACK})


@dataclass(frozen=True)
class EnqueueNode:
    """Hands the caller to the routing engine and leaves by how waiting ended."""

    kind: ClassVar[str] = "enqueue"
    name: str
    workflow: str
    attributes: ValueTemplate
    priority: ValueTemplate
    timeout: int | None = None
    personal_manager: bool = False
    exits: Mapping[QueueOutcome, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CallbackNode:
    """Offers a callback on the caller's number (or one they enter) and registers it."""

    kind: ClassVar[str] = "callback"
    name: str
    say: Say
    workflow: str
    attributes: ValueTemplate
    next: str
    priority: ValueTemplate
    confirm: bool = True
    number_say: Say = Say((PromptItem("enter-number"),))
    timeout: float = 5.0
    attempts: int = 3
    invalid_say: Say = Say((PromptItem("invalid"),))
    failed: str | None = None


@dataclass(frozen=True)
class VoicemailNode:
    kind: ClassVar[str] = "voicemail"
    name: str
    say: Say
    workflow: str
    attributes: ValueTemplate
    next: str
    max_seconds: int = 120
    beep: bool = True
    failed: str | None = None  # None: `next`


@dataclass(frozen=True)
class TransferNode:
    kind: ClassVar[str] = "transfer"
    name: str
    to: Template
    failed: str | None = None


@dataclass(frozen=True)
class SubflowNode:
    """Runs another flow; continues at `next` when it returns without ending the call (None: this flow ends
    there too, as the subflow ended)."""

    kind: ClassVar[str] = "subflow"
    name: str
    flow: str
    next: str | None = None


@dataclass(frozen=True)
class ReturnNode:
    """Leaves the flow here: a subflow returns to the flow that ran it, which goes on at the subflow node's
    `next`; a flow run directly by a number ends the call, as an exit left out does."""

    kind: ClassVar[str] = "return"
    name: str


@dataclass(frozen=True)
class HangupNode:
    kind: ClassVar[str] = "hangup"
    name: str
    say: Say = Say()


@dataclass(frozen=True)
class PlayNode:
    kind: ClassVar[str] = "play"
    name: str
    say: Say
    next: str


Node: TypeAlias = (
    HoursNode
    | MenuNode
    | CollectNode
    | BranchNode
    | SetNode
    | LanguageNode
    | LookupNode
    | CrmNode
    | EnqueueNode
    | CallbackNode
    | VoicemailNode
    | TransferNode
    | SubflowNode
    | HangupNode
    | PlayNode
    | ReturnNode
)


# --- Flows ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flow:
    name: str
    start: str
    nodes: Mapping[str, Node]

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", MappingProxyType(dict(self.nodes)))


class HoursStateLike(Protocol):
    """What `flows.schedule.HoursState` offers: `status.name` is OPEN, CLOSED or HOLIDAY."""

    @property
    def status(self) -> enum.Enum: ...

    @property
    def holiday(self) -> str | None: ...


class ScheduleLike(Protocol):
    """A number's hours as the `hours` node reads them (`flows.schedule.Schedule`)."""

    def state_at(self, instant: float) -> HoursStateLike: ...


@dataclass(frozen=True)
class FlowSet:
    """One published version of a workspace's flows and the schedules they read. A run keeps the set it
    started with, so publishing a new one never changes a call in progress."""

    flows: Mapping[str, Flow] = field(default_factory=dict)
    schedules: Mapping[str, ScheduleLike] = field(default_factory=dict)
    version: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "flows", MappingProxyType(dict(self.flows)))
        object.__setattr__(self, "schedules", MappingProxyType(dict(self.schedules)))
