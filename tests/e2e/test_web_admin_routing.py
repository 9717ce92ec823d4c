"""The admin console's routing and people pages in Debian's Chromium (headless, Playwright) against a real
`callboard serve`: an admin creates, edits and deletes a queue (with its waiting options through their form,
the server's problems at their fields), a workflow (a bad configuration shown at its line), an activity and
disposition codes, an agent and a user bound to it, who then signs in to the agent desktop. Deleting what is
still in use shows the server's refusal. Each change is checked through the REST API. Screens go to
test-artifacts/screenshots/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from web import CENTER, PASSWORDS, VIEWPORT, Server, callboard_server, headless_chromium, require_browser, shoot

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    require_browser()
    with callboard_server(tmp_path_factory.mktemp("web-admin-routing"), CENTER) as running:
        yield running


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Any]:
    with headless_chromium() as chromium:
        yield chromium


def signed_in(browser: Any, server: Server, username: str, password: str, route: str = "") -> Any:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    page.goto(server.url + "/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("button[type=submit]").click()
    expect(page.get_by_test_id("user")).to_contain_text(username)
    if route:
        page.goto(f"{server.url}/#/{route}")
    return page


def as_admin(browser: Any, server: Server, area: str) -> Any:
    from playwright.sync_api import expect

    page = signed_in(browser, server, "admin", PASSWORDS["admin"], f"admin/{area}")
    expect(page.get_by_test_id(f"nav-{area}")).to_have_class("active")
    return page


def row(page: Any, table: str, name: str) -> Any:
    return page.locator(f'[data-testid={table}] [data-testid=row][data-name="{name}"]')


def items(server: Server, kind: str) -> list[dict[str, Any]]:
    answer = server.admin.get(server.api(f"/{kind}?page_size=1000"))
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def named(server: Server, kind: str, name: str) -> dict[str, Any] | None:
    return next((i for i in items(server, kind) if i["friendly_name"] == name), None)


def field_error(form: Any, field: str) -> Any:
    return form.locator(f'[data-testid="waiting-{field}"] [data-testid=field-error]')


def test_an_admin_creates_a_queue_sets_its_waiting_options_and_deletes_it(browser: Any, server: Server) -> None:
    from playwright.sync_api import expect

    page = as_admin(browser, server, "queues")
    page.get_by_test_id("add").click()
    form = page.get_by_test_id("queue-form")
    form.locator("input[name=friendly_name]").fill("Billing")
    form.locator("input[name=target_workers]").fill('skills HAS "billing" AND')
    form.locator("select[name=strategy]").select_option("round_robin")
    form.locator("input[name=wrapup_seconds]").fill("15")
    form.get_by_test_id("save").click()
    # the expression's problem at its field, nothing created
    expect(form.locator(".afield-bad")).to_contain_text("Agents (expression)")
    assert named(server, "task-queues", "Billing") is None
    form.locator("input[name=target_workers]").fill('skills HAS "billing"')
    form.get_by_test_id("save").click()
    expect(form).to_have_count(0)
    expect(row(page, "queues", "Billing")).to_contain_text("round_robin")
    queue = named(server, "task-queues", "Billing")
    assert queue is not None
    assert (queue["target_workers"], queue["strategy"], queue["wrapup_seconds"]) == (
        'skills HAS "billing"',
        "round_robin",
        15,
    )

    row(page, "queues", "Billing").get_by_test_id("edit").click()
    form = page.get_by_test_id("queue-form")
    expect(form.locator("input[name=wrapup_seconds]")).to_have_value("15")
    form.locator("input[name=target_workers]").fill('skills HAS "billing" AND languages HAS "es"')
    form.locator("select[name=post_work_activity_sid]").select_option(label="Available")
    form.get_by_test_id("save").click()
    expect(row(page, "queues", "Billing")).to_contain_text('languages HAS "es"')
    queue = named(server, "task-queues", "Billing")
    assert queue is not None and queue["target_workers"] == 'skills HAS "billing" AND languages HAS "es"'
    assert queue["post_work_activity_sid"] == server.sid("activities", "Available")

    # Waiting options: the defaults shown in the form, then changed; the server's problems at their fields.
    row(page, "queues", "Billing").get_by_test_id("waiting").click()
    waiting = page.get_by_test_id("waiting-form")
    expect(waiting.get_by_test_id("waiting-state")).to_have_text("Defaults")
    expect(waiting.locator("input[name=announce_position]")).to_be_checked()
    expect(waiting.locator("input[name=leave_when_empty]")).not_to_be_checked()
    expect(waiting.locator("input[name=announce_every]")).to_have_value("60")
    expect(waiting.locator("input[name=max_wait]")).to_have_value("")
    waiting.locator("select[name=music]").select_option("call-important")
    waiting.get_by_label("Announce the expected wait").uncheck()
    waiting.locator("input[name=announce_every]").fill("-5")
    waiting.get_by_test_id("add-announcement").click()
    waiting.locator("select[name=announcement-0-prompt]").select_option("all-busy")
    waiting.locator("input[name=announcement-0-every]").fill("45")
    waiting.get_by_label("Offer to call the caller back").check()
    waiting.locator("select[name=callback_key]").select_option("2")
    waiting.locator("input[name=callback_after]").fill("90")
    waiting.locator("select[name=callback_workflow]").select_option("inbound")
    waiting.locator("input[name=callback_retries]").fill("50")
    waiting.locator("input[name=callback_retry_every]").fill("600")
    waiting.get_by_label("Read the number back").uncheck()
    waiting.locator("input[name=max_wait]").fill("600")
    waiting.get_by_label("Let callers in when no agent is signed in").uncheck()
    waiting.get_by_label("Take waiting callers out").check()
    waiting.get_by_test_id("save-waiting").click()
    expect(waiting.get_by_test_id("error")).to_have_attribute("data-error-id", "waiting_invalid")
    expect(field_error(waiting, "announce_every")).to_contain_text("must not be negative")
    expect(field_error(waiting, "callback.retries")).to_contain_text("at most 10")
    expect(waiting.locator(".afield-bad")).to_have_count(2)
    expect(waiting.get_by_test_id("problems")).to_have_count(0)  # every problem is at its field
    assert server.admin.get(server.api(f"/task-queues/{queue['sid']}/waiting")).json()["configured"] is False
    waiting.evaluate("el => scrollTo(0, el.getBoundingClientRect().top + scrollY - 64)")
    shoot(page, "admin-queue-waiting-error")

    waiting.locator("input[name=announce_every]").fill("30")
    waiting.locator("input[name=callback_retries]").fill("3")
    waiting.get_by_test_id("save-waiting").click()
    expect(waiting.get_by_test_id("notice")).to_have_text("Saved.")
    expect(waiting.get_by_test_id("waiting-state")).to_have_text("Configured")
    expect(waiting.locator(".afield-bad")).to_have_count(0)
    waiting.evaluate("el => scrollTo(0, el.getBoundingClientRect().top + scrollY - 64)")
    shoot(page, "admin-queue-waiting")
    options = server.admin.get(server.api(f"/task-queues/{queue['sid']}/waiting")).json()
    assert options == {
        "queue_sid": queue["sid"],
        "queue": "Billing",
        "configured": True,
        "music": "call-important",
        "announce_position": True,
        "announce_wait": False,
        "announce_every": 30,
        "announcements": [{"prompt": "all-busy", "every": 45}],
        "callback": {
            "key": "2",
            "after": 90,
            "confirm": False,
            "workflow": "inbound",
            "retries": 3,
            "retry_every": 600,
        },
        "max_wait": 600,
        "join_when_empty": False,
        "leave_when_empty": True,
    }

    # Opened again, the form shows what is stored; an announcement removed and the callback turned off.
    waiting.get_by_role("button", name="Close").click()
    expect(waiting).to_have_count(0)
    row(page, "queues", "Billing").get_by_test_id("waiting").click()
    expect(waiting.locator("input[name=max_wait]")).to_have_value("600")
    expect(waiting.locator("select[name=callback_key]")).to_have_value("2")
    expect(waiting.locator("input[name=join_when_empty]")).not_to_be_checked()
    expect(waiting.get_by_test_id("announcement")).to_have_count(1)
    waiting.get_by_role("button", name="Remove: Announcement 1").click()
    waiting.get_by_label("Offer to call the caller back").uncheck()
    expect(waiting.locator("select[name=callback_key]")).to_have_count(0)
    waiting.locator("input[name=max_wait]").fill("")
    waiting.get_by_test_id("save-waiting").click()
    expect(waiting.get_by_test_id("notice")).to_have_text("Saved.")
    options = server.admin.get(server.api(f"/task-queues/{queue['sid']}/waiting")).json()
    assert (options["announcements"], options["callback"], options["max_wait"]) == ([], None, None)
    assert options["music"] == "call-important" and options["leave_when_empty"] is True

    waiting.get_by_test_id("waiting-defaults").click()
    expect(waiting.get_by_test_id("waiting-state")).to_have_text("Defaults")
    expect(waiting.locator("select[name=music]")).to_have_value("")
    assert server.admin.get(server.api(f"/task-queues/{queue['sid']}/waiting")).json()["configured"] is False

    row(page, "queues", "Billing").get_by_test_id("delete").click()
    page.get_by_test_id("confirm-yes").click()
    expect(row(page, "queues", "Billing")).to_have_count(0)
    assert named(server, "task-queues", "Billing") is None
    assert page.errors == []
    page.context.close()


def configuration(queue: str) -> str:
    routing = {
        "task_routing": {
            "filters": [
                {
                    "filter_friendly_name": "claims",
                    "expression": 'department == "claims"',
                    "targets": [{"queue": queue, "timeout": 60}],
                }
            ],
            "default_filter": {"queue": "Sales"},
        }
    }
    return json.dumps(routing, indent=2)


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_an_admin_writes_a_workflow_and_cannot_delete_the_queue_it_uses(browser: Any, server: Server) -> None:
    from playwright.sync_api import expect

    answer = server.admin.post(server.api("/task-queues"), json={"friendly_name": "Claims", "target_workers": "1==1"})
    assert answer.status_code == 201, answer.text
    page = as_admin(browser, server, "workflows")
    page.get_by_test_id("add").click()
    form = page.get_by_test_id("workflow-form")
    form.locator("input[name=friendly_name]").fill("claims-routing")
    form.locator("input[name=timeout]").fill("30")
    editor = form.get_by_test_id("workflow-json")

    # A JSON mistake is shown at its line before anything is sent.
    broken = configuration("Claims").replace('"timeout": 60', '"timeout": 60,')
    editor.fill(broken)
    problem = form.get_by_test_id("config-problem")
    expect(problem).to_have_attribute("data-line", str(line_of(broken, '"timeout": 60,') + 1))
    expect(form.get_by_test_id("save")).to_be_disabled()

    # The server's problem: at its path and line; a click puts the cursor there.
    bad = configuration("Nowhere")
    editor.fill(bad)
    expect(problem).to_have_count(0)
    form.get_by_test_id("save").click()
    expect(form.get_by_test_id("error")).to_have_attribute("data-error-id", "workflow_invalid")
    expect(problem).to_have_attribute("data-path", "task_routing.filters.0.targets.0.queue")
    expect(problem).to_have_attribute("data-line", str(line_of(bad, '"queue": "Nowhere"')))
    expect(problem).to_contain_text("unknown queue 'Nowhere'")
    expect(form.locator(".code-gutter .bad")).to_have_text(str(line_of(bad, '"queue": "Nowhere"')))
    form.get_by_test_id("problem-at").click()
    caret = editor.evaluate("el => el.value.slice(0, el.selectionStart).split('\\n').length")
    assert caret == line_of(bad, '"queue": "Nowhere"')
    shoot(page, "admin-workflow-error")
    assert named(server, "workflows", "claims-routing") is None

    # A bad expression: at the expression's line.
    bad_expression = configuration("Claims").replace('department == \\"claims\\"', "department ==")
    editor.fill(bad_expression)
    form.get_by_test_id("save").click()
    expect(problem).to_have_attribute("data-path", "task_routing.filters.0.expression")
    expect(problem).to_have_attribute("data-line", str(line_of(bad_expression, '"expression": "department =="')))

    editor.fill(configuration("Claims"))
    expect(problem).to_have_count(0)
    form.get_by_test_id("save").click()
    expect(form).to_have_count(0)
    expect(row(page, "workflows", "claims-routing")).to_contain_text("30 s")
    workflow = named(server, "workflows", "claims-routing")
    assert workflow is not None and workflow["task_reservation_timeout"] == 30
    assert workflow["configuration"]["task_routing"]["filters"][0]["targets"] == [{"queue": "Claims", "timeout": 60}]

    row(page, "workflows", "claims-routing").get_by_test_id("edit").click()
    form = page.get_by_test_id("workflow-form")
    expect(form.get_by_test_id("workflow-json")).to_have_value(json.dumps(workflow["configuration"], indent=2))
    form.locator("input[name=timeout]").fill("45")
    form.get_by_test_id("save").click()
    expect(row(page, "workflows", "claims-routing")).to_contain_text("45 s")
    assert (named(server, "workflows", "claims-routing") or {})["task_reservation_timeout"] == 45

    # The queue is in use: the server's refusal shows in the page, and the queue stays.
    page.get_by_test_id("nav-queues").click()
    row(page, "queues", "Claims").get_by_test_id("delete").click()
    page.get_by_test_id("confirm-yes").click()
    refusal = page.get_by_test_id("confirm").get_by_test_id("error")
    expect(refusal).to_have_attribute("data-error-id", "in_use")
    expect(refusal).to_contain_text("workflows route to this queue")
    shoot(page, "admin-queue-in-use")
    page.get_by_test_id("confirm").get_by_role("button", name="Cancel").click()
    assert named(server, "task-queues", "Claims") is not None

    page.get_by_test_id("nav-workflows").click()
    row(page, "workflows", "claims-routing").get_by_test_id("delete").click()
    page.get_by_test_id("confirm-yes").click()
    expect(row(page, "workflows", "claims-routing")).to_have_count(0)
    assert named(server, "workflows", "claims-routing") is None
    page.get_by_test_id("nav-queues").click()
    row(page, "queues", "Claims").get_by_test_id("delete").click()
    page.get_by_test_id("confirm-yes").click()
    expect(row(page, "queues", "Claims")).to_have_count(0)
    assert named(server, "task-queues", "Claims") is None
    assert page.errors == []
    page.context.close()


def test_an_admin_edits_reason_codes_and_dispositions(browser: Any, server: Server) -> None:
    from playwright.sync_api import expect

    page = as_admin(browser, server, "activities")
    form = page.get_by_test_id("activity-form")
    form.locator("input[name=friendly_name]").fill("Coaching")
    form.get_by_test_id("add").click()
    expect(row(page, "activities", "Coaching")).to_contain_text("Reason code")
    activity = named(server, "activities", "Coaching")
    assert activity is not None and activity["available"] is False

    row(page, "activities", "Coaching").get_by_test_id("edit").click()
    renamed = row(page, "activities", "Coaching").locator("input[name=friendly]")
    renamed.fill("Team meeting")
    renamed.press("Enter")
    expect(row(page, "activities", "Team meeting")).to_contain_text("Reason code")
    assert (named(server, "activities", "Team meeting") or {}).get("sid") == activity["sid"]
    shoot(page, "admin-activities")

    # The workspace's default activity cannot go: the refusal shows and the activity stays.
    row(page, "activities", "Offline").get_by_test_id("delete").click()
    page.get_by_test_id("confirm-yes").click()
    refusal = page.get_by_test_id("confirm").get_by_test_id("error")
    expect(refusal).to_have_attribute("data-error-id", "in_use")
    expect(refusal).to_contain_text("default or timeout activity")
    page.get_by_test_id("confirm").get_by_role("button", name="Cancel").click()
    assert named(server, "activities", "Offline") is not None

    row(page, "activities", "Team meeting").get_by_test_id("delete").click()
    page.get_by_test_id("confirm-yes").click()
    expect(row(page, "activities", "Team meeting")).to_have_count(0)
    assert named(server, "activities", "Team meeting") is None

    page.get_by_test_id("nav-dispositions").click()
    table = page.get_by_test_id("dispositions")
    for code, label, es, ru in (("sold", "Sold", "Vendido", "Продано"), ("no-sale", "No sale", "", "")):
        page.get_by_test_id("add").click()
        last = table.get_by_test_id("row").last
        last.get_by_label("Code").fill(code)
        last.get_by_label("Label").fill(label)
        last.get_by_label("Spanish").fill(es)
        last.get_by_label("Russian").fill(ru)
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("notice")).to_have_text("Saved.")
    shoot(page, "admin-dispositions")
    stored = server.admin.get(server.api("/dispositions")).json()["items"]
    assert [(d["code"], d.get("label"), d.get("labels") or {}) for d in stored] == [
        ("sold", "Sold", {"es": "Vendido", "ru": "Продано"}),
        ("no-sale", "No sale", {}),
    ]

    # Edited: a code twice is refused at its row; then the second one renamed and the first removed.
    table.get_by_test_id("row").last.get_by_label("Code").fill("sold")
    page.get_by_test_id("save").click()
    expect(table.locator(".afield-error")).to_have_count(1)
    table.get_by_test_id("row").last.get_by_label("Code").fill("callback")
    table.get_by_test_id("row").first.get_by_role("button", name="Remove").click()
    page.get_by_test_id("confirm-yes").click()
    expect(table.get_by_test_id("row")).to_have_count(1)
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("notice")).to_have_text("Saved.")
    stored = server.admin.get(server.api("/dispositions")).json()["items"]
    assert [(d["code"], d.get("label")) for d in stored] == [("callback", "No sale")]
    assert page.errors == []
    page.context.close()


def test_an_admin_adds_an_agent_and_its_user_who_signs_in(browser: Any, server: Server) -> None:
    from playwright.sync_api import expect

    page = as_admin(browser, server, "agents")
    page.get_by_test_id("add").click()
    form = page.get_by_test_id("worker-form")
    form.locator("input[name=friendly_name]").fill("dmitri")
    form.locator("input[name=skills]").fill("billing, support")
    form.locator("input[name=levels]").fill("billing:4, support")  # a level without its number
    form.locator("input[name=languages]").fill("ru, en")
    form.locator("input[name=site]").fill("riga")
    form.locator("select[name=phone]").select_option("sip")
    form.get_by_test_id("save").click()
    expect(form.locator(".afield-bad")).to_contain_text('not "support"')
    assert named(server, "workers", "dmitri") is None
    form.locator("input[name=levels]").fill("billing:4, support:2")
    form.locator("textarea[name=other]").fill('{"team": "night"}')
    form.get_by_test_id("save").click()
    expect(form).to_have_count(0)
    expect(row(page, "workers", "dmitri")).to_contain_text("billing 4")
    expect(row(page, "workers", "dmitri")).to_contain_text("ru, en")
    worker = named(server, "workers", "dmitri")
    assert worker is not None
    assert worker["attributes"] == {
        "team": "night",
        "skills": ["billing", "support"],
        "levels": {"billing": 4, "support": 2},
        "languages": ["ru", "en"],
        "site": "riga",
        "phone": "sip",
    }

    row(page, "workers", "dmitri").get_by_test_id("edit").click()
    form = page.get_by_test_id("worker-form")
    expect(form.locator("input[name=skills]")).to_have_value("billing, support")
    form.locator("input[name=languages]").fill("ru, en, es")
    form.locator("input[name=skills]").fill("billing")
    form.locator("input[name=levels]").fill("billing:5")
    form.get_by_test_id("save").click()
    expect(row(page, "workers", "dmitri")).to_contain_text("ru, en, es")
    attributes = (named(server, "workers", "dmitri") or {})["attributes"]
    assert (attributes["skills"], attributes["levels"], attributes["languages"]) == (
        ["billing"],
        {"billing": 5},
        ["ru", "en", "es"],
    )
    assert attributes["team"] == "night" and attributes["site"] == "riga"
    shoot(page, "admin-agent")

    page.get_by_test_id("nav-users").click()
    page.get_by_test_id("add").click()
    form = page.get_by_test_id("user-form")
    form.locator("input[name=username]").fill("dmitri")
    form.locator("input[name=password]").fill("dmitri-pw-1")
    form.locator("select[name=role]").select_option("agent")
    form.locator("select[name=worker_sid]").select_option(label="dmitri")
    form.get_by_test_id("save").click()
    expect(row(page, "users", "dmitri")).to_contain_text("dmitri")
    expect(row(page, "users", "dmitri")).to_contain_text("Agent")
    shoot(page, "admin-user")
    users = server.admin.get(f"{server.url}/api/v1/users?page_size=1000").json()["items"]
    user = next(u for u in users if u["username"] == "dmitri")
    assert (user["role"], user["worker_sid"]) == ("agent", worker["sid"])

    agent = signed_in(browser, server, "dmitri", "dmitri-pw-1")
    expect(agent).to_have_url(f"{server.url}/#/agent")
    expect(agent.get_by_test_id("my-state")).to_have_text("Offline")
    agent.get_by_test_id("go-ready").click()
    expect(agent.get_by_test_id("my-state")).to_have_text("Available")
    assert (named(server, "workers", "dmitri") or {})["activity_name"] == "Available"
    agent.get_by_test_id("go-not-ready").click()
    expect(agent.get_by_test_id("reasons")).to_contain_text("Lunch")
    assert agent.errors == []
    agent.context.close()

    # Disabled, the user cannot sign in; deleted, and its agent after it.
    row(page, "users", "dmitri").get_by_test_id("edit").click()
    form = page.get_by_test_id("user-form")
    form.locator("input[name=disabled]").check()
    form.get_by_test_id("save").click()
    expect(row(page, "users", "dmitri")).to_contain_text("Disabled")
    with httpx.Client(timeout=10) as other:
        refused = other.post(f"{server.url}/api/v1/auth/login", json={"username": "dmitri", "password": "dmitri-pw-1"})
    assert refused.status_code in (401, 403) and refused.json()["error"]["id"] == "account_disabled"
    row(page, "users", "dmitri").get_by_test_id("delete").click()
    page.get_by_test_id("confirm-yes").click()
    expect(row(page, "users", "dmitri")).to_have_count(0)
    users = server.admin.get(f"{server.url}/api/v1/users?page_size=1000").json()["items"]
    assert "dmitri" not in [u["username"] for u in users]

    page.get_by_test_id("nav-agents").click()
    row(page, "workers", "dmitri").get_by_test_id("delete").click()
    page.get_by_test_id("confirm-yes").click()
    expect(row(page, "workers", "dmitri")).to_have_count(0)
    assert named(server, "workers", "dmitri") is None
    assert page.errors == []
    page.context.close()
