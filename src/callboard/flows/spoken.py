"""What a `Message` says, as text, found the way a voice call finds its audio.

A prompt is the workspace's own in the message's language (its recording, else its text through
text-to-speech), else the system prompt in that language; there is no other fallback, so a prompt with
nothing in the caller's language is silent on a call, and is reported here. Numbers are the words `say.py`
composes from the system prompts ("veintiún minutos"). For `callboard flow test` and chat transcripts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from callboard.flows import say
from callboard.flows.conversation import Message, PromptRef, SayNumber, Speech
from callboard.flows.system_prompts import SYSTEM_PROMPTS

__all__ = ["PromptBook", "Spoken"]


@dataclass(frozen=True)
class Spoken:
    """A message as text, and what in it a call could not say (`silent`)."""

    text: str
    silent: tuple[str, ...] = ()


@dataclass(frozen=True)
class PromptBook:
    """A workspace's prompts: text by (name, language), and the (name, language) pairs that have a recording."""

    texts: Mapping[tuple[str, str], str] = field(default_factory=dict)
    recorded: frozenset[tuple[str, str]] = frozenset()

    def spoken(self, message: Message) -> Spoken:
        words: list[str] = []
        silent: list[str] = []
        language = message.language
        for part in message.parts:
            if isinstance(part, PromptRef):
                text = self.prompt(part.name, language)
                if text is None:
                    silent.append(f"prompt {part.name!r} has nothing in {language!r}")
                words.append(text if text is not None else f"[{part.name}: silent]")
            elif isinstance(part, Speech):
                words.append(part.text)
            elif isinstance(part, SayNumber):
                try:
                    words.append(say.words(part.value, language, part.unit))
                except ValueError as exc:
                    silent.append(str(exc))
                    words.append(f"[{part.value}: silent]")
        return Spoken(" ".join(words), tuple(silent))

    def prompt(self, name: str, language: str) -> str | None:
        """The prompt's text in `language` (a recording without a text as `[name: recording]`), or None."""
        text = self.texts.get((name, language))
        if text is not None:
            return text
        if (name, language) in self.recorded:
            return f"[{name}: recording]"
        return SYSTEM_PROMPTS.get(language, {}).get(name)
