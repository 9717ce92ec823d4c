"""The offline caller and services: text rendering of messages, DTMF-like collection, scripted replies."""

from __future__ import annotations

import pytest

from callboard.flows.conversation import CallerGone, HttpRequest, HttpResult, Message, PromptRef, SayNumber, Speech
from callboard.flows.scripted import HANG_UP, ScriptedConversation, ScriptedServices, render_text

TEXTS = {("wait", "en"): "Your wait is about", ("wait", "es"): "Su espera es de unos"}


@pytest.mark.parametrize(
    ("parts", "language", "text"),
    [
        ((PromptRef("wait"), SayNumber(1, "minutes")), "en", "Your wait is about 1 minute"),
        ((PromptRef("wait"), SayNumber(5, "minutes")), "es", "Su espera es de unos 5 minutes"),
        ((PromptRef("wait"), SayNumber(30, "seconds")), "ru", "Your wait is about 30 seconds"),
        ((Speech("You are"), SayNumber(3, "position")), "en", "You are number 3"),
        ((PromptRef("unknown"), SayNumber(7)), "en", "[unknown] 7"),
    ],
)
def test_render_text(parts: tuple[PromptRef | Speech | SayNumber, ...], language: str, text: str) -> None:
    assert render_text(Message(parts, language), TEXTS) == text


async def test_asking_keeps_digits_up_to_the_terminator_or_the_maximum() -> None:
    caller = ScriptedConversation(["12#34", "98765", "*1", None, HANG_UP])
    ask = Message((PromptRef("wait"),), "en")
    assert await caller.ask(ask, max_digits=8, wait=5) == "12"
    assert await caller.ask(ask, max_digits=3, wait=5) == "987"
    assert await caller.ask(ask, max_digits=3, wait=5, terminator="") == "*1"
    assert await caller.ask(ask, max_digits=3, wait=5) == ""
    with pytest.raises(CallerGone):
        await caller.ask(ask, max_digits=1, wait=5)
    with pytest.raises(CallerGone):
        await caller.say(ask)  # gone is gone
    assert caller.transcript[-2:] == ["ask: [wait]", "caller: (hangs up)"]


async def test_scripted_services_reply_by_url_then_without_the_query() -> None:
    services = ScriptedServices(
        {
            "https://a.example/x?id=1": HttpResult(404),
            "https://a.example/x": {"ok": True},
            "https://slow.example/": TimeoutError,
        },
        contacts={"+1555": {"name": "Ann"}},
    )
    assert (await services.http(HttpRequest("GET", "https://a.example/x?id=1"))).status == 404
    assert (await services.http(HttpRequest("GET", "https://a.example/x?id=2"))).data == {"ok": True}
    with pytest.raises(TimeoutError):
        await services.http(HttpRequest("GET", "https://slow.example/"))
    with pytest.raises(OSError):
        await services.http(HttpRequest("GET", "https://nowhere.example/"))
    assert await services.find_contact("acme", "+1555") == {"name": "Ann"}
    assert await services.find_contact("acme", "+1666") is None
