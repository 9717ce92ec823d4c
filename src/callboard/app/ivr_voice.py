"""A flow spoken on a phone call: messages rendered as audio, digits from DTMF, queues with a waiting room.

`CallerVoice` turns a flow `Message` into audio: a prompt of the workspace's library (its recorded audio in
that language, else its text through text-to-speech), a shipped system prompt, free text through
text-to-speech, or a number composed from the shipped number words with the language's grammar. What cannot be
said is logged and skipped (a call never fails for want of a prompt). `VoiceConversation` is the flow's
`Conversation` on one `InboundCall`; `QueueWaiting` is the waiting room of one queued call.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import math
import struct
import wave
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from callboard.app.center import Center
from callboard.app.ivr import IvrSnapshot
from callboard.app.waiting import QueueWaiting
from callboard.core.errors import CallboardError
from callboard.flows import say
from callboard.flows.conversation import (
    CallbackRequest,
    CallerGone,
    EnqueueRequest,
    Message,
    PromptRef,
    QueueOutcome,
    SayNumber,
    Speech,
    VoicemailRequest,
)
from callboard.flows.numbers import Number
from callboard.flows.tts import TextToSpeech
from callboard.flows.workspace_ivr import queue_attributes
from callboard.voice.calls.errors import LegEndedError
from callboard.voice.calls.inbound import InboundCall, QueueRequest, Waited
from callboard.voice.calls.leg import LegState
from callboard.voice.calls.message_take import write_wav
from callboard.voice.media.playback import Prompt, PromptFormatError

__all__ = ["SYSTEM_PROMPTS_DIR", "CallerVoice", "VoiceConversation", "join"]

log = logging.getLogger(__name__)

SYSTEM_PROMPTS_DIR = Path(__file__).resolve().parent.parent / "voice" / "prompts"
OUTCOMES = {
    Waited.COMPLETED: QueueOutcome.COMPLETED,
    Waited.HUNG_UP: QueueOutcome.HUNG_UP,
    Waited.TIMEOUT: QueueOutcome.TIMEOUT,
    Waited.NO_AGENTS: QueueOutcome.NO_AGENTS,
    Waited.CALLBACK: QueueOutcome.CALLBACK,
    Waited.FAILED: QueueOutcome.FAILED,
}


def join(name: str, prompts: list[Prompt]) -> Prompt | None:
    """One prompt made of several, played back to back (so that a digit can interrupt the whole message)."""
    if not prompts:
        return None
    if len(prompts) == 1:
        return prompts[0]
    return Prompt.join(name, prompts)


def _tone(seconds: float = 0.4, hz: int = 1000) -> Prompt:
    samples = int(8000 * seconds)
    pcm = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / 8000))) for i in range(samples))
    return Prompt.from_pcm("beep", pcm)


BEEP = _tone()


class CallerVoice:
    """Renders flow messages as audio for a node, and builds the conversations of its calls."""

    def __init__(
        self,
        center: Center,
        tts: TextToSpeech | None,
        recordings_dir: Path | None,
        *,
        hold_music: Prompt | None = None,
        callbacks: bool = False,
    ) -> None:
        self.center = center
        self.tts = tts
        self.recordings_dir = recordings_dir
        self.hold_music = hold_music
        self.callbacks = callbacks  # a trunk is there to call customers back through
        self._cache: dict[tuple[str, str, str], Prompt | None] = {}

    async def create_task(
        self, workspace_sid: str, workflow: str, attributes: dict[str, Any], channel: str
    ) -> str | None:
        """A task (a voicemail, a callback) for `workflow`, by name; None when it cannot be made."""
        engine = self.center.workspace(workspace_sid)
        found = next((w for w in engine.workflows.values() if w.friendly_name == workflow), None)
        if found is None:
            log.error("workspace %s has no workflow %r: no %s task", workspace_sid, workflow, channel)
            return None
        try:
            task = await self.center.run(
                workspace_sid, lambda w: w.create_task(found.sid, attributes=attributes, channel=channel)
            )
        except CallboardError as exc:
            log.error("no %s task in workspace %s: %s", channel, workspace_sid, exc)
            return None
        return task.sid

    def forget(self, workspace_sid: str) -> None:
        """The workspace's prompt library changed."""
        for key in [k for k in self._cache if k[0] == workspace_sid]:
            del self._cache[key]

    def conversation(self, call: InboundCall, snapshot: IvrSnapshot, number: Number) -> VoiceConversation:
        return VoiceConversation(self, call, snapshot, number)

    async def say(self, call: InboundCall, snapshot: IvrSnapshot, message: Message) -> None:
        prompt = await self.render(snapshot.workspace_sid, message)
        if prompt is not None and call.leg.state is LegState.ANSWERED:
            await call.leg.play(prompt)

    async def render(self, workspace_sid: str, message: Message) -> Prompt | None:
        parts: list[Prompt] = []
        for part in message.parts:
            if isinstance(part, PromptRef):
                found = await self.prompt(workspace_sid, part.name, message.language)
                parts += [found] if found is not None else []
            elif isinstance(part, Speech):
                found = await self.speech(part.text, message.language)
                parts += [found] if found is not None else []
            elif isinstance(part, SayNumber):
                for name in say.compose(part.value, message.language, part.unit):
                    found = self.system(name, message.language)
                    parts += [found] if found is not None else []
        return join("message", parts)

    async def prompt(self, workspace_sid: str, name: str, language: str) -> Prompt | None:
        key = (workspace_sid, name, language)
        if key not in self._cache:
            self._cache[key] = await self._load(workspace_sid, name, language)
        return self._cache[key]

    async def _load(self, workspace_sid: str, name: str, language: str) -> Prompt | None:
        stored = await self.center.store.get_prompt(workspace_sid, name, language)
        if stored is not None and stored.get("audio"):
            try:
                return Prompt.from_pcm(name, _pcm_of(stored["audio"]))
            except (PromptFormatError, ValueError) as exc:
                log.warning("prompt %s/%s: stored audio unusable: %s", name, language, exc)
        if stored is not None and stored.get("text"):
            spoken = await self.speech(stored["text"], language, stored.get("voice"))
            if spoken is not None:
                return spoken
        found = self.system(name, language)
        if found is None:
            log.warning("prompt %r has no audio in %s", name, language)
        return found

    def system(self, name: str, language: str) -> Prompt | None:
        for path in (SYSTEM_PROMPTS_DIR / language / f"{name}.wav", SYSTEM_PROMPTS_DIR / f"{name}.wav"):
            if path.is_file():
                return Prompt.from_wav(path, name)
        return None

    async def speech(self, text: str, language: str, voice: str | None = None) -> Prompt | None:
        if self.tts is None or not self.tts.available():
            log.warning("no text-to-speech here: %r is not said", text[:40])
            return None
        try:
            path = await self.tts.render(text, language, voice)
        except CallboardError as exc:
            log.warning("text-to-speech failed for %r: %s", text[:40], exc)
            return None
        return Prompt.from_wav(path, "speech")


def _pcm_of(wav: bytes) -> bytes:
    with wave.open(io.BytesIO(wav)) as reader:  # stored prompts are converted to 8 kHz mono 16-bit when stored
        if reader.getframerate() != 8000 or reader.getnchannels() != 1 or reader.getsampwidth() != 2:
            raise ValueError("not 8 kHz mono 16-bit")
        frames: bytes = reader.readframes(reader.getnframes())
        return frames


class VoiceConversation:
    """The `Conversation` of a flow on a phone call."""

    def __init__(self, voice: CallerVoice, call: InboundCall, snapshot: IvrSnapshot, number: Number) -> None:
        self.voice = voice
        self.call = call
        self.snapshot = snapshot
        self.number = number

    def _leg_up(self) -> None:
        if self.call.leg.state is not LegState.ANSWERED:
            raise CallerGone

    async def say(self, message: Message) -> None:
        self._leg_up()
        prompt = await self.voice.render(self.snapshot.workspace_sid, message)
        if prompt is not None:
            try:
                await self.call.leg.play(prompt)
            except LegEndedError as exc:
                raise CallerGone from exc
        self._leg_up()

    async def ask(self, message: Message, *, max_digits: int, wait: float, terminator: str = "#") -> str:
        self._leg_up()
        prompt = await self.voice.render(self.snapshot.workspace_sid, message)
        try:
            return await self.call.leg.gather(max_digits, wait, terminator=terminator, interrupt_prompt=prompt)
        except LegEndedError as exc:
            raise CallerGone from exc

    async def enqueue(self, request: EnqueueRequest) -> QueueOutcome:
        self._leg_up()
        waiting = QueueWaiting(self, request.language)
        waited = await self.call.enqueue(
            QueueRequest(
                queue_attributes(request, self.number),
                workflow=request.workflow,
                priority=request.priority,
                timeout=request.timeout,
                known_worker=request.known_worker,
                waiting=waiting,
            )
        )
        return OUTCOMES[waited]

    async def voicemail(self, request: VoicemailRequest) -> str | None:
        self._leg_up()
        leg = self.call.leg
        try:
            if request.beep:
                await leg.play(BEEP)
            pcm = await self.call.take_message(request.max_seconds)
        except LegEndedError:
            pcm = b""  # what was said before the hang-up is still the message
        if len(pcm) < 8000:  # under half a second: nothing was said
            return None
        folder = self.voice.recordings_dir or Path("recordings")
        path = folder / f"voicemail-{self.call.sid}.wav"
        await asyncio.to_thread(write_wav, path, pcm)
        attributes = {
            **request.attributes,
            "type": "voicemail",
            "voicemail": {"recording_path": str(path), "seconds": round(len(pcm) / 16000, 2)},
            "caller": self.call.caller,
            "called": self.call.called,
            "number": self.number.e164,
            "call_sid": self.call.sid,
            "language": request.language,
        }
        task = await self.voice.create_task(self.snapshot.workspace_sid, request.workflow, attributes, "voicemail")
        if task is not None:
            self.call.record.attributes["voicemail_task_sid"] = task
        return task

    async def callback(self, request: CallbackRequest) -> str | None:
        attributes = {
            **request.attributes,
            "type": "callback",
            "callback_number": request.number,
            "caller": self.call.caller,
            "called": self.call.called,
            "number": self.number.e164,
            "callback_of": self.call.sid,
            "language": request.language,
        }
        return await self.voice.create_task(self.snapshot.workspace_sid, request.workflow, attributes, "voice")

    async def transfer(self, target: str) -> bool:
        self._leg_up()
        return await self.call.transfer(target)

    async def hangup(self) -> None:
        with contextlib.suppress(LegEndedError):
            await self.call.leg.hangup()

    def waiting_options(self, queue_name: str | None) -> Mapping[str, Any]:
        return self.snapshot.waiting.get(queue_name or "", {})
