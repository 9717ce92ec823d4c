"""The admin console and the supervisor's actions in Debian's Chromium (headless, Playwright) against a real
`callboard serve`: an admin creates a schedule, writes a flow (its error shown at its line, then fixed,
published and drawn), adds a number, uploads and previews a prompt, exports the center and applies a changed
copy; a supervisor forces an agent's state, moves an agent to another queue (the wallboard follows), closes a
site and reopens it, and plays a recording; an agent is refused both consoles. Screens go to
test-artifacts/screenshots/ (scripts/screenshots copies them to docs/images/)."""

from __future__ import annotations

import asyncio
import io
import math
import struct
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web import (
    CENTER,
    PASSWORDS,
    VIEWPORT,
    Server,
    callboard_server,
    headless_chromium,
    require_browser,
    shoot,
)

pytestmark = pytest.mark.e2e
CALLER = "+34600111222"

FLOW_WITH_ERROR = """\
start: hours
nodes:
  hours: {type: hours, schedule: office, open: menu, closed: bye}
  menu:
    type: menu
    say: [{text: "Press 1 for sales, 2 for support."}]
    options:
      "1": {next: queue, set: {department: sales}}
      "2": {next: queue, set: {department: support}}
    no_input: bye
  queue:
    type: enqueue
    workflow: nowhere
    timed_out: bye
  bye: {type: hangup, say: [{text: "Goodbye."}]}
"""
ERROR_LINE = 13  # workflow: nowhere


def tone(seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A WAV of a 440 Hz tone (stereo for recordings: caller left, agent right)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = (int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(seconds * rate)))
        w.writeframes(b"".join(struct.pack("<hh", s, s) for s in frames))
    return out.getvalue()


def recorded_call(database: str) -> None:
    """One answered call of alice's in the Sales queue with its recording in the server's recordings folder."""
    from callboard.storage import Store

    folder = Path(database.split("///", 1)[1]).parent / "recordings"
    folder.mkdir(exist_ok=True)
    (folder / "CArecorded1.wav").write_bytes(tone(3.0))

    async def seed() -> None:
        store = await Store.open(database)
        try:
            (workspace,) = await store.load_workspaces()
            ws, now = workspace["sid"], time.time()
            live = await store.load_live(ws)
            queue = next(q["sid"] for kind, items in live.items() if "queue" in kind for q in items
                         if q["friendly_name"] == "Sales")  # fmt: skip
            worker = next(w["sid"] for w in live["worker"] if w["friendly_name"] == "alice")
            await store.save_call({"sid": "CArecorded1", "workspace_sid": ws, "direction": "inbound", "caller": CALLER,
                                   "called": "+34910000100", "started_at": now - 3600, "answered_at": now - 3599,
                                   "agent_answered_at": now - 3580, "ended_at": now - 3400, "outcome": "completed",
                                   "talk_seconds": 180.0, "queue_sid": queue, "worker_sid": worker,
                                   "recording_path": str(folder / "CArecorded1.wav")})  # fmt: skip
        finally:
            await store.close()

    asyncio.run(seed())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    require_browser()
    with callboard_server(tmp_path_factory.mktemp("web-admin"), CENTER, recorded_call) as running:
        yield running


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Any]:
    with headless_chromium() as chromium:
        yield chromium


def signed_in(browser: Any, server: Server, username: str, route: str = "", **options: Any) -> Any:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=VIEWPORT, locale=options.pop("locale", "en-US"), **options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    page.goto(server.url + "/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORDS[username])
    page.locator("button[type=submit]").click()
    expect(page.get_by_test_id("user")).to_contain_text(username)
    if route:
        page.goto(f"{server.url}/#/{route}")
    return page


def media_duration(page: Any, testid: str) -> float:
    """The duration of the page's audio element once it has loaded its metadata (polled: the page's CSP
    forbids the eval that wait_for_function would use)."""
    deadline = time.monotonic() + 10
    element = f"document.querySelector('[data-testid={testid}]')"
    script = f"(() => {{ const a = {element}; return a && a.readyState >= 1 ? a.duration : null; }})()"
    while (duration := page.evaluate(script)) is None:
        assert time.monotonic() < deadline, f"{testid} loaded no audio"
        time.sleep(0.1)
    return float(duration)


def row(page: Any, table: str, name: str) -> Any:
    return page.locator(f'[data-testid={table}] [data-testid=row][data-name="{name}"]')


def test_an_admin_sets_up_hours_a_flow_and_a_number(browser: Any, server: Server) -> None:
    from playwright.sync_api import expect

    page = signed_in(browser, server, "admin", "admin/schedules")
    expect(page.get_by_test_id("nav-schedules")).to_have_class("active")
    page.get_by_test_id("add").click()
    form = page.get_by_test_id("schedule-form")
    form.locator("input[name=name]").fill("office")
    form.locator("input[name=time_zone]").fill("Mars/Olympus")
    form.get_by_test_id("add-shift-mon").click()
    form.get_by_test_id("add-shift-mon").click()  # split hours: 09:00-14:00 and 16:00-19:00
    for day in ("tue", "wed", "thu", "fri"):
        form.get_by_test_id(f"add-shift-{day}").click()
    form.locator("input[name=country]").fill("ES")
    form.locator("input[name=subdivision]").fill("MD")
    form.get_by_test_id("add-override").click()
    form.locator(".row-inline input[type=date]").last.fill("2026-12-31")
    form.get_by_test_id("save").click()
    # the API's problem shows at its field
    expect(form.get_by_test_id("error")).to_have_attribute("data-error-id", "schedule_invalid")
    expect(form.locator(".afield-bad")).to_contain_text("Mars/Olympus")
    page.evaluate("scrollTo(0, 0)")
    shoot(page, "admin-schedule")
    form.locator("input[name=time_zone]").fill("Europe/Madrid")
    form.get_by_test_id("save").click()
    expect(form).to_have_count(0)
    expect(row(page, "schedules", "office")).to_contain_text("09:00-14:00, 16:00-19:00")
    checker = page.get_by_test_id("state-at")
    checker.locator("input[type=datetime-local]").fill("2026-06-01T10:00")  # a Monday morning
    checker.get_by_test_id("check-state").click()
    expect(checker.get_by_test_id("state-answer")).to_contain_text("Open")
    checker.locator("input[type=datetime-local]").fill("2026-06-01T15:00")  # between the shifts
    checker.get_by_test_id("check-state").click()
    expect(checker.get_by_test_id("state-answer")).to_contain_text("Closed")

    # A flow: the error at its line, a click on it puts the cursor there; fixed, published and drawn.
    page.get_by_test_id("nav-flows").click()
    page.get_by_test_id("add").click()
    page.get_by_test_id("flow-name").fill("main")
    editor = page.get_by_test_id("flow-yaml")
    editor.fill(FLOW_WITH_ERROR)
    problem = page.locator(f"[data-testid=problem][data-line='{ERROR_LINE}']")
    expect(problem).to_contain_text(f"{ERROR_LINE}:15")
    expect(page.get_by_test_id("problems")).to_contain_text("nowhere")
    expect(page.get_by_test_id("check-status")).to_contain_text("Problems: 1")
    expect(page.locator(".code-gutter .bad")).to_have_text(str(ERROR_LINE))
    problem.click()
    # The editor moves the caret in an effect, after the next render: wait for it (5 s), then check it.
    caret_line = "el => el.value.slice(0, el.selectionStart).split('\\n').length"
    on_line = f"n => ({caret_line})(document.querySelector('[data-testid=flow-yaml]')) === n"
    page.wait_for_function(on_line, arg=ERROR_LINE, timeout=5_000)  # raises if it never gets there
    assert editor.evaluate(caret_line) == ERROR_LINE
    expect(page.get_by_test_id("diagram-node")).to_have_count(4)  # drawn from what could be read
    shoot(page, "admin-flow-error")
    editor.fill(FLOW_WITH_ERROR.replace("nowhere", "inbound"))
    expect(page.get_by_test_id("check-status")).to_have_text("No problems")
    page.get_by_test_id("publish").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Published main as version 1")
    expect(page.locator('[data-testid=flow][data-name="main"]')).to_contain_text("v1")
    nodes = page.get_by_test_id("diagram-node")
    expect(nodes).to_have_count(4)
    assert sorted(nodes.evaluate_all("els => els.map(e => e.dataset.node)")) == ["bye", "hours", "menu", "queue"]
    expect(page.locator('[data-testid=diagram-edge][data-from="menu"][data-to="queue"]')).to_have_text(
        "options.1, options.2"
    )
    shoot(page, "admin-flow")
    flow = server.admin.get(server.api("/flows/main")).json()
    assert flow["version"] == 1 and flow["definition"]["nodes"]["queue"]["workflow"] == "inbound"

    page.get_by_test_id("nav-numbers").click()
    page.get_by_test_id("add").click()
    form = page.get_by_test_id("number-form")
    form.locator("input[name=number]").fill("+34 910 000 100")
    form.locator("select[name=flow]").select_option("main")
    form.locator("select[name=schedule]").select_option("office")
    form.locator("input[name=site]").fill("madrid")
    form.locator("select[name=language]").select_option("es")
    form.get_by_test_id("save").click()
    expect(row(page, "numbers", "+34910000100")).to_contain_text("main")
    expect(row(page, "numbers", "+34910000100")).to_contain_text("In service")
    shoot(page, "admin-numbers")
    # deleting asks first
    row(page, "numbers", "+34910000100").get_by_test_id("delete").click()
    expect(page.get_by_test_id("confirm")).to_contain_text("+34910000100")
    page.get_by_test_id("confirm").get_by_role("button", name="Cancel").click()
    expect(row(page, "numbers", "+34910000100")).to_have_count(1)
    assert page.errors == []
    page.context.close()


def test_an_admin_uploads_a_prompt_and_previews_it(browser: Any, server: Server, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page = signed_in(browser, server, "admin", "admin/prompts")
    (tmp_path / "welcome.wav").write_bytes(tone(1.0))
    upload = page.get_by_test_id("prompt-upload")
    upload.locator("input[name=name]").fill("welcome-office")
    upload.locator("select[name=language]").select_option("es")
    upload.locator("input[type=file]").set_input_files(str(tmp_path / "welcome.wav"))
    upload.get_by_test_id("upload").click()
    expect(row(page, "prompts", "welcome-office/es")).to_contain_text("Stored")
    audio = page.get_by_test_id("prompt-audio")
    src = audio.get_attribute("src")
    assert src and "/prompts/welcome-office/es/audio" in src
    answer = page.request.get(server.url + src, headers={"Range": "bytes=0-"})
    assert answer.status in (200, 206) and answer.headers["content-type"].startswith("audio/")
    assert media_duration(page, "prompt-audio") > 0.5

    speak = page.get_by_test_id("prompt-tts")
    speak.locator("input[name=name]").fill("goodbye-office")
    speak.locator("textarea[name=text]").fill("Thank you for calling. Goodbye.")
    speak.get_by_test_id("speak").click()
    expect(row(page, "prompts", "goodbye-office/en")).to_contain_text("Thank you for calling")
    expect(page.get_by_test_id("prompt-player")).to_contain_text("goodbye-office")
    page.get_by_test_id("show-system").check()
    expect(page.locator("[data-testid=prompts] [data-testid=row]").filter(has_text="System").first).to_be_visible()
    shoot(page, "admin-prompts")
    assert page.errors == []
    page.context.close()


def test_an_admin_exports_the_center_and_applies_a_changed_copy(browser: Any, server: Server, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page = signed_in(browser, server, "admin", "admin/center")
    with page.expect_download() as download:
        page.get_by_test_id("export").click()
    exported = tmp_path / "center.yaml"
    download.value.save_as(str(exported))
    text = exported.read_text()
    assert "name: acme" in text and "name: Support" in text
    changed = tmp_path / "changed.yaml"
    changed.write_text(text.replace("{name: Training, available: false}", "{name: Coaching, available: false}")
                       if "{name: Training" in text else text.replace("name: Training", "name: Coaching"))  # fmt: skip
    assert changed.read_text() != text

    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("version: 1", "version: 99", 1))
    page.get_by_test_id("center-file").set_input_files(str(broken))
    page.get_by_test_id("review").click()
    expect(page.get_by_test_id("center-problems")).to_contain_text("1:")

    page.get_by_test_id("center-file").set_input_files(str(changed))
    page.get_by_test_id("review").click()
    plan = page.get_by_test_id("plan")
    expect(plan).to_contain_text("Coaching")
    expect(plan.locator("[data-action=create]")).to_contain_text("Coaching")
    shoot(page, "admin-center-plan")
    page.get_by_test_id("apply").click()
    page.get_by_test_id("confirm-yes").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Applied")
    names = [a["friendly_name"] for a in server.admin.get(server.api("/activities")).json()["items"]]
    assert "Coaching" in names and "Training" not in names
    page.get_by_test_id("nav-activities").click()
    expect(row(page, "activities", "Coaching")).to_contain_text("Reason code")
    assert page.errors == []
    page.context.close()


def test_a_supervisor_forces_a_state_moves_an_agent_and_closes_a_site(browser: Any, server: Server) -> None:
    from playwright.sync_api import expect

    if server.admin.get(server.api("/numbers")).json()["items"] == []:  # when run alone
        server.admin.put(server.api("/schedules/office"), json={"time_zone": "Europe/Madrid", "weekly": {}})
        flow = {"nodes": {"bye": {"type": "hangup"}}}
        assert server.admin.put(server.api("/flows/main"), json=flow).status_code in (200, 201)
        body = {"site": "madrid", "flow": "main", "schedule": "office"}
        assert server.admin.put(server.api("/numbers/%2B34910000100"), json=body).status_code in (200, 201)
    page = signed_in(browser, server, "sofia")
    expect(page).to_have_url(f"{server.url}/#/wallboard")
    wall_state = page.locator('[data-testid=agent-row][data-agent="alice"] [data-testid=agent-state]')
    sales = page.locator('[data-testid=queue-row][data-queue="Sales"] td').last
    expect(sales).to_contain_text("/ 2")  # alice and carmen
    page.get_by_test_id("link-agents").click()
    expect(page).to_have_url(f"{server.url}/#/supervisor/agents")
    alice = row(page, "sup-agents", "alice")
    alice.get_by_test_id("force-state").select_option(label="Break")
    expect(alice.get_by_test_id("agent-state")).to_have_text("Break")

    bob = row(page, "sup-agents", "bob")
    bob.get_by_test_id("edit-skills").click()
    form = page.get_by_test_id("skills-form")
    expect(form.get_by_test_id("member-queues")).to_have_text("Support")
    form.locator("input[name=skills]").fill("sales")
    form.locator("input[name=levels]").fill("sales:3")
    form.get_by_test_id("save-skills").click()
    expect(form.get_by_test_id("member-queues")).to_have_text("Sales")
    shoot(page, "supervisor-agents")
    worker = server.admin.get(server.api(f"/workers/{server.sid('workers', 'bob')}")).json()
    assert worker["attributes"]["skills"] == ["sales"] and worker["attributes"]["levels"] == {"sales": 3}
    assert worker["attributes"]["languages"] == ["en"]  # the other attributes stay

    page.get_by_role("link", name="Wallboard").first.click()
    expect(wall_state).to_have_text("Break")
    expect(sales).to_contain_text("/ 3")

    page.get_by_test_id("link-emergency").click()
    close = page.get_by_test_id("close-form")
    close.locator("select[name=scope]").select_option("site")
    close.locator("select[name=target]").select_option("madrid")
    close.locator("input[name=message]").fill("We are closed today because of a power cut.")
    close.get_by_test_id("close-now").click()
    page.get_by_test_id("confirm-yes").click()
    closed = row(page, "closures", "madrid")
    expect(closed).to_contain_text("power cut")
    assert [c["target"] for c in server.admin.get(server.api("/emergency")).json()["items"]] == ["madrid"]
    shoot(page, "supervisor-emergency")
    closed.get_by_test_id("reopen").click()
    page.get_by_test_id("confirm-yes").click()
    expect(page.get_by_test_id("closures")).to_contain_text("Everything is open.")
    assert server.admin.get(server.api("/emergency")).json()["items"] == []
    assert page.errors == []
    page.context.close()


def test_a_supervisor_finds_a_recording_and_plays_it(browser: Any, server: Server) -> None:
    from playwright.sync_api import expect

    page = signed_in(browser, server, "sofia", "supervisor/recordings")
    search = page.get_by_test_id("recording-search")
    search.locator("select[name=worker]").select_option(label="alice")
    search.locator("select[name=queue]").select_option(label="Sales")
    search.locator("input[name=number]").fill("600 111 222")
    search.get_by_test_id("search").click()
    found = row(page, "recordings", "CArecorded1")
    expect(found).to_contain_text(CALLER)
    expect(found).to_contain_text("3:00")
    found.get_by_test_id("play").click()
    audio = page.get_by_test_id("recording-audio")
    src = audio.get_attribute("src")
    assert src and src.endswith("/calls/CArecorded1/recording")
    assert media_duration(page, "recording-audio") == pytest.approx(3.0, abs=0.1)
    ranged = page.request.get(server.url + src, headers={"Range": "bytes=0-99"})
    assert ranged.status == 206 and len(ranged.body()) == 100
    shoot(page, "supervisor-recordings")

    search.locator("select[name=queue]").select_option(label="Support")
    search.get_by_test_id("search").click()
    expect(page.get_by_test_id("recordings")).to_contain_text("No recorded calls match.")
    assert page.errors == []
    page.context.close()


def test_an_agent_gets_no_admin_or_supervisor_pages(browser: Any, server: Server) -> None:
    from playwright.sync_api import expect

    page = signed_in(browser, server, "alice", "admin/users")
    expect(page.get_by_test_id("error")).to_have_attribute("data-error-id", "permission_denied")
    expect(page.get_by_test_id("error")).to_contain_text("HTTP 403")
    expect(page.get_by_test_id("admin-console")).to_have_count(0)
    page.goto(f"{server.url}/#/supervisor/recordings")
    page.reload()
    expect(page.get_by_test_id("error")).to_have_attribute("data-error-id", "permission_denied")
    expect(page.get_by_test_id("supervisor")).to_have_count(0)
    assert page.errors == []
    page.context.close()


def test_the_flow_editor_in_russian_and_dark(browser: Any, server: Server) -> None:
    from playwright.sync_api import expect

    page = signed_in(browser, server, "admin", "admin/flows", locale="ru-RU", color_scheme="dark")
    page.locator('[data-testid=flow][data-name="main"]').click()
    expect(page.get_by_test_id("flow-version")).to_have_text("v1")
    expect(page.get_by_test_id("diagram-node")).to_have_count(4)
    expect(page.get_by_test_id("publish")).to_have_text("Опубликовать")
    shoot(page, "admin-flow-dark")
    assert page.errors == []
    page.context.close()
