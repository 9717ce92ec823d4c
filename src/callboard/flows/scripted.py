"""A scripted caller and a scripted outside world, for running flows offline (tests, `callboard flow test`).

`ScriptedConversation` plays a caller from a list of inputs and writes a transcript in plain text;
`ScriptedServices` answers HTTP lookups and CRM searches from tables. Neither does any I/O.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any, Final

from callboard.core.clock import VirtualClock
from callboard.flows.conversation import (
    CallbackRequest,
    CallerGone,
    EnqueueRequest,
    HttpRequest,
    HttpResult,
    Message,
    PromptRef,
    QueueOutcome,
    SayNumber,
    Speech,
    VoicemailRequest,
)

__all__ = ["HANG_UP", "HangUp", "ScriptedConversation", "ScriptedServices", "render_text"]

PromptTexts = Mapping[tuple[str, str], str]  # (prompt name, language) -> what it says


class HangUp:
    """In a script of inputs: the caller hangs up instead of answering."""

    def __repr__(self) -> str:
        return "HANG_UP"


HANG_UP: Final = HangUp()

_UNITS = {"minutes": ("minute", "minutes"), "seconds": ("second", "seconds")}


def render_text(message: Message, texts: PromptTexts | None = None) -> str:
    """A message as plain text: a prompt by its text in the message's language (else English, else
    `[name]`), speech as is, a number as digits with its unit in English ("1 minute", "number 3")."""
    texts = texts or {}
    words: list[str] = []
    for part in message.parts:
        if isinstance(part, PromptRef):
            name = part.name
            words.append(texts.get((name, message.language)) or texts.get((name, "en")) or f"[{name}]")
        elif isinstance(part, Speech):
            words.append(part.text)
        elif isinstance(part, SayNumber):
            words.append(_number_text(part))
    return " ".join(words)


def _number_text(number: SayNumber) -> str:
    if number.unit == "position":
        return f"number {number.value}"
    if number.unit in _UNITS:
        singular, plural = _UNITS[number.unit]
        return f"{number.value} {singular if abs(number.value) == 1 else plural}"
    return f"{number.value} {number.unit}" if number.unit else str(number.value)


class ScriptedConversation:
    """A caller played from a script: each `ask` takes the next input, what they type (the conversation keeps
    the digits up to the terminator or `max_digits`, like DTMF collection), "" or None for silence (the clock,
    if given, moves on by the wait), or `HANG_UP`. When the inputs run out the caller hangs up. Queue outcomes
    are taken in order (`completed` once they run out)."""

    def __init__(
        self,
        inputs: Iterable[str | HangUp | None] = (),
        *,
        texts: PromptTexts | None = None,
        outcomes: Iterable[QueueOutcome] = (),
        transfer_connects: bool = True,
        voicemail_sid: str | None = "VM1",
        callback_sid: str | None = "CB1",
        clock: VirtualClock | None = None,
    ) -> None:
        self.inputs: deque[str | HangUp | None] = deque(inputs)
        self.texts = texts or {}
        self.outcomes = deque(outcomes)
        self.transfer_connects = transfer_connects
        self.voicemail_sid, self.callback_sid = voicemail_sid, callback_sid
        self.clock = clock
        self.transcript: list[str] = []
        self.said: list[Message] = []  # everything said or asked, in order
        self.enqueued: list[EnqueueRequest] = []
        self.voicemails: list[VoicemailRequest] = []
        self.callbacks: list[CallbackRequest] = []
        self.transfers: list[str] = []
        self.hung_up = False  # the flow hung up
        self.gone = False  # the caller hung up

    def _check(self) -> None:
        if self.gone or self.hung_up:
            raise CallerGone

    def _leave(self) -> CallerGone:
        self.gone = True
        self.transcript.append("caller: (hangs up)")
        return CallerGone()

    async def say(self, message: Message) -> None:
        self._check()
        self.said.append(message)
        self.transcript.append(f"say: {render_text(message, self.texts)}")

    async def ask(self, message: Message, *, max_digits: int, wait: float, terminator: str = "#") -> str:
        self._check()
        self.said.append(message)
        self.transcript.append(f"ask: {render_text(message, self.texts)}")
        entry = self.inputs.popleft() if self.inputs else HANG_UP
        if isinstance(entry, HangUp):
            raise self._leave()
        if not entry:
            self.transcript.append("caller: (no input)")
            if self.clock is not None:
                self.clock.advance(wait)
            return ""
        self.transcript.append(f"caller: {entry}")
        collected = ""
        for char in entry:
            if terminator and char == terminator:
                break
            collected += char
            if len(collected) >= max_digits:
                break
        return collected

    async def enqueue(self, request: EnqueueRequest) -> QueueOutcome:
        self._check()
        self.enqueued.append(request)
        outcome = self.outcomes.popleft() if self.outcomes else QueueOutcome.COMPLETED
        worker = f", first to {request.known_worker}" if request.known_worker else ""
        self.transcript.append(f"enqueue: {request.workflow} {dict(request.attributes)}{worker} -> {outcome.value}")
        if outcome is QueueOutcome.HUNG_UP:
            self.gone = True
        return outcome

    async def voicemail(self, request: VoicemailRequest) -> str | None:
        self._check()
        self.voicemails.append(request)
        self.transcript.append(f"voicemail: {request.workflow} -> {self.voicemail_sid or 'nothing recorded'}")
        return self.voicemail_sid

    async def callback(self, request: CallbackRequest) -> str | None:
        self._check()
        self.callbacks.append(request)
        self.transcript.append(f"callback: {request.number} {request.workflow} -> {self.callback_sid or 'refused'}")
        return self.callback_sid

    async def transfer(self, target: str) -> bool:
        self._check()
        self.transfers.append(target)
        self.transcript.append(f"transfer: {target} -> {'connected' if self.transfer_connects else 'failed'}")
        return self.transfer_connects

    async def hangup(self) -> None:
        if self.gone or self.hung_up:
            return
        self.hung_up = True
        self.transcript.append("hangup")

    def text(self) -> str:
        return "\n".join(self.transcript)


HttpScript = HttpResult | BaseException | type[BaseException] | Any


class ScriptedServices:
    """HTTP replies by URL (the exact URL first, then without its query string) and CRM contacts by number.

    A reply is an `HttpResult`, an exception (instance or class) to raise, or plain data, which becomes a 200
    reply with that JSON. A URL with no reply is unreachable (`OSError`).
    """

    def __init__(
        self,
        responses: Mapping[str, HttpScript] | None = None,
        contacts: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.responses = dict(responses or {})
        self.contacts = dict(contacts or {})
        self.requests: list[HttpRequest] = []
        self.searches: list[tuple[str, str]] = []  # (workspace, number)

    async def http(self, request: HttpRequest) -> HttpResult:
        self.requests.append(request)
        for url in (request.url, request.url.split("?", 1)[0]):
            if url in self.responses:
                reply = self.responses[url]
                break
        else:
            raise OSError(f"no scripted reply for {request.url}")
        if isinstance(reply, BaseException) or (isinstance(reply, type) and issubclass(reply, BaseException)):
            raise reply
        return reply if isinstance(reply, HttpResult) else HttpResult(200, reply)

    async def find_contact(self, workspace: str, number: str) -> Mapping[str, Any] | None:
        self.searches.append((workspace, number))
        return self.contacts.get(number)
