"""The agent desktop's screen pop, wrap-up and missed offers in Debian's Chromium (headless, Playwright) against a
real `callboard serve`: an offer rings and pops the caller's number, CRM contact (VIP, personal manager,
language), IVR path and digits, queue, wait and earlier calls with their dispositions; accepted, ended and
wrapped up with a disposition and notes, the countdown extended, and back to Ready by the queue's post-work
activity; an offer left to time out says so and the agent is in the missed activity; a task canceled while
offered says the customer hung up. Screens go to test-artifacts/screenshots/."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from test_web_ui import open_page, sign_in
from web import Server, callboard_server, headless_chromium, require_browser, shoot

pytestmark = pytest.mark.e2e

CENTER = """
version: 1
workspaces:
  - name: acme
    default_activity: Offline
    timeout_activity: Missed
    wrapup_seconds: 0
    activities:
      - {name: Offline, available: false}
      - {name: Available, available: true}
      - {name: On a call, available: false}
      - {name: Break, available: false}
      - {name: Missed, available: false}
    channels: [{name: voice, capacity: 1}]
    queues:
      - name: Sales
        target_workers: 'skills HAS "sales"'
        assignment_activity: On a call
        wrapup_seconds: 60
        post_work_activity: Available
    workflows:
      - name: inbound
        task_reservation_timeout: 600
        configuration: {task_routing: {default_filter: {queue: Sales}}}
      - name: quick
        task_reservation_timeout: 2
        configuration: {task_routing: {default_filter: {queue: Sales}}}
    workers:
      - {name: alice, attributes: {skills: [sales], languages: [en, es]}}
      - {name: bob, attributes: {skills: [], languages: [es]}}
    contacts:
      - {name: "Ana García", numbers: ["+34 600 111 222"], vip: true, manager: bob, language: es,
         attributes: {account: A-1001}}
    dispositions:
      - {code: sale, label: Sale, labels: {es: Venta, ru: Продажа}}
      - {code: follow-up, label: Follow-up needed, labels: {es: Requiere seguimiento, ru: Нужен повторный звонок}}
      - {code: no-sale, label: No sale, labels: {es: Sin venta, ru: Без продажи}}
users:
  - {username: admin, role: admin, password: admin-pw}
  - {username: alice, role: agent, password: alice-pw, workspace: acme, worker: alice}
"""
CALLER = "+34600111222"
# What a flow puts on the task it queues: the caller (the voice node adds caller, called and call_sid), the
# enqueue node's attributes, and the run so far in the call record's `attributes.flow` shape.
ATTRIBUTES = {
    "caller": CALLER,
    "called": "+34910000100",
    "language": "es",
    "department": "sales",
    "vip": True,
    "known_worker": "bob",
    "contact": "Ana García",
    "flow": {
        "name": "main",
        "end": "enqueued",
        "path": [
            {"node": "hours", "exit": "open"},
            {"node": "crm", "exit": "found"},
            {"node": "menu", "exit": "1"},
            {"node": "sales-menu", "exit": "3"},
            {"node": "queue", "exit": "enqueued"},
        ],
    },
}
DAY = 86400


def earlier_calls(database: str) -> None:
    """Two earlier calls of Ana's, one with the disposition and notes its agent gave it."""
    from callboard.storage import Store

    async def seed() -> None:
        store = await Store.open(database)
        try:
            (workspace,) = await store.load_workspaces()
            ws, now = workspace["sid"], time.time()
            task = {"sid": "WTearlier", "workflow_sid": "WWx", "task_channel": "voice", "priority": 0,
                    "assignment_status": "completed", "date_created": now - 3 * DAY, "date_updated": now - 3 * DAY,
                    "attributes": {"caller": CALLER, "disposition": "follow-up",
                                   "notes": "Asked for a quote on 3 licences; call back Tuesday."}}  # fmt: skip
            await store.commit(ws, [("task", task)], [], [])
            for sid, ago, outcome, talk, task_sid in (
                ("CAearlier1", 3 * DAY, "completed", 312.0, "WTearlier"),
                ("CAearlier2", 9 * DAY, "abandoned", 0.0, None),
            ):
                await store.save_call({"sid": sid, "workspace_sid": ws, "direction": "inbound", "caller": CALLER,
                                       "called": "+34910000100", "started_at": now - ago, "ended_at": now - ago + 400,
                                       "outcome": outcome, "talk_seconds": talk, "task_sid": task_sid})  # fmt: skip
        finally:
            await store.close()

    asyncio.run(seed())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    require_browser()
    with callboard_server(tmp_path_factory.mktemp("web-agent"), CENTER, earlier_calls) as running:
        yield running


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Any]:
    with headless_chromium() as chromium:
        yield chromium


def create_task(server: Server, workflow: str, attributes: dict[str, Any]) -> str:
    body = {"workflow_sid": server.sid("workflows", workflow), "task_channel": "voice", "attributes": attributes}
    answer = server.admin.post(server.api("/tasks"), json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["sid"])


def seconds(text: str) -> int:
    minutes, secs = text.strip().split(":")
    return int(minutes) * 60 + int(secs)


def test_an_offer_pops_the_caller_and_wraps_up_with_a_disposition(browser: Any, server: Server) -> None:
    from playwright.sync_api import expect

    agent = open_page(browser, server)
    sign_in(agent, "alice")
    expect(agent.get_by_test_id("my-state")).to_have_text("Offline")  # the desktop has loaded
    agent.keyboard.press("Alt+r")
    expect(agent.get_by_test_id("my-state")).to_have_text("Available")

    task = create_task(server, "inbound", ATTRIBUTES)
    offer = agent.get_by_test_id("offer")
    expect(offer).to_have_attribute("data-ringing", "true")
    expect(agent.locator("body")).to_have_attribute("data-rings", re.compile(r"^[1-9]\d*$"))  # the tone was played
    pop = offer.get_by_test_id("screen-pop")
    expect(pop.get_by_test_id("pop-name")).to_have_text("Ana García")
    expect(pop.get_by_test_id("pop-number")).to_have_text(CALLER)
    expect(pop.get_by_test_id("pop-vip")).to_be_visible()
    expect(pop.get_by_test_id("pop-known")).to_be_visible()
    expect(pop.get_by_test_id("pop-queue")).to_contain_text("Sales")
    expect(pop.get_by_test_id("pop-language")).to_contain_text("Spanish (es)")
    expect(pop.get_by_test_id("pop-manager")).to_contain_text("bob")
    expect(pop.get_by_test_id("pop-digits")).to_contain_text("1 3")
    expect(pop.get_by_test_id("pop-path")).to_contain_text("sales-menu")
    expect(pop.get_by_test_id("pop-attributes")).to_contain_text("department")
    history = pop.get_by_test_id("history-item")
    expect(history).to_have_count(2)
    expect(history.first).to_contain_text("Follow-up needed")
    expect(history.first).to_contain_text("call back Tuesday")
    expect(history.nth(1)).to_contain_text("Abandoned")
    shoot(agent, "agent-screen-pop")

    agent.keyboard.press("Alt+a")
    expect(offer).to_have_attribute("data-status", "accepted")
    expect(offer).to_have_attribute("data-ringing", "false")
    expect(agent.get_by_test_id("my-state")).to_have_text("On a call")  # the queue's assignment activity

    agent.keyboard.press("Alt+w")
    wrapup = offer.get_by_test_id("wrapup")
    expect(wrapup).to_be_visible()
    countdown = wrapup.get_by_test_id("wrapup-countdown")
    expect(countdown).to_have_text(re.compile(r"^[01]:\d\d$"))
    before = seconds(countdown.inner_text())
    assert 40 <= before <= 60, before
    expect(wrapup.get_by_test_id("after-wrapup")).to_contain_text("Available")
    wrapup.get_by_test_id("disposition").select_option("sale")
    wrapup.get_by_test_id("notes").fill("Bought 3 licences; send the invoice to accounts.")
    wrapup.get_by_test_id("wrapup-extend").click()
    expect(countdown).to_have_text(re.compile(r"^1:[2-3]\d$"))  # 30 seconds more
    assert seconds(countdown.inner_text()) > before + 20
    shoot(agent, "agent-wrapup")

    agent.get_by_test_id("wrapup-done").click()
    expect(offer).to_have_count(0)
    expect(agent.get_by_test_id("my-state")).to_have_text("Available")  # the queue's post-work activity
    stored = server.admin.get(server.api(f"/tasks/{task}")).json()
    assert stored["assignment_status"] == "completed"
    assert stored["attributes"]["disposition"] == "sale"
    assert stored["attributes"]["notes"] == "Bought 3 licences; send the invoice to accounts."
    assert agent.errors == []
    agent.context.close()


def test_a_missed_offer_says_why_and_the_agent_is_in_the_missed_state(browser: Any, server: Server) -> None:
    from playwright.sync_api import expect

    agent = open_page(browser, server)
    sign_in(agent, "alice")
    server.set_activity("alice", "Available")
    expect(agent.get_by_test_id("my-state")).to_have_text("Available")

    timed_out = create_task(server, "quick", {"caller": "+12025550143", "department": "sales"})
    expect(agent.get_by_test_id("offer")).to_have_count(1)
    missed = agent.get_by_test_id("missed")
    expect(missed).to_have_attribute("data-kind", "timeout", timeout=10_000)
    expect(missed).to_contain_text("you did not answer in time")
    expect(missed).to_contain_text("+12025550143")
    expect(agent.get_by_test_id("my-state")).to_have_text("Missed")  # the workspace's timeout activity
    expect(agent.get_by_test_id("missed-state")).to_contain_text("Missed")
    expect(agent.get_by_test_id("offer")).to_have_count(0)
    shoot(agent, "agent-missed")
    server.admin.delete(server.api(f"/tasks/{timed_out}"))

    agent.keyboard.press("Alt+r")
    expect(agent.get_by_test_id("my-state")).to_have_text("Available")
    hung_up = create_task(server, "inbound", {"caller": "+34910555666", "department": "sales"})
    expect(agent.get_by_test_id("offer")).to_have_count(1)
    assert server.admin.delete(server.api(f"/tasks/{hung_up}?reason=caller%20hung%20up")).status_code == 204
    expect(missed.first).to_have_attribute("data-kind", "canceled")
    expect(missed.first).to_contain_text("The customer hung up before you answered.")
    expect(missed.first).to_contain_text("caller hung up")
    expect(agent.get_by_test_id("my-state")).to_have_text("Available")  # a hang-up is not the agent's miss
    assert agent.errors == []
    agent.context.close()


def test_the_wrapup_in_spanish_and_dark(browser: Any, server: Server) -> None:
    from playwright.sync_api import expect

    agent = open_page(browser, server, locale="es-ES", color_scheme="dark")
    sign_in(agent, "alice")
    server.set_activity("alice", "Available")
    task = create_task(server, "inbound", ATTRIBUTES)
    offer = agent.get_by_test_id("offer")
    expect(offer.get_by_test_id("pop-language")).to_contain_text("español (es)")
    offer.get_by_test_id("accept").click()
    offer.get_by_test_id("wrap").click()
    wrapup = offer.get_by_test_id("wrapup")
    expect(wrapup).to_contain_text("Cierre")
    expect(wrapup.get_by_test_id("disposition")).to_contain_text("Requiere seguimiento")
    expect(offer.get_by_test_id("history-item").first).to_contain_text("Requiere seguimiento")
    wrapup.get_by_test_id("wrapup-done").scroll_into_view_if_needed()
    shoot(agent, "agent-wrapup-dark")
    agent.keyboard.press("Alt+c")
    expect(offer).to_have_count(0)
    assert server.admin.get(server.api(f"/tasks/{task}")).json()["assignment_status"] == "completed"
    assert agent.errors == []
    agent.context.close()
