"""The wallboard's charts and agent figures in Debian's Chromium against a real `callboard serve`: tasks made,
answered, completed and abandoned through the API must show as bars per half hour, service-level points, and
alice's handled count, AHT and current task; in English and Spanish, light and dark."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from web import PASSWORDS, VIEWPORT, Server, callboard_server, headless_chromium, require_browser, shoot

pytestmark = pytest.mark.e2e
HALF_HOUR = 1800


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    require_browser()
    with callboard_server(tmp_path_factory.mktemp("wallboard")) as running:
        yield running


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Any]:
    with headless_chromium() as chromium:
        yield chromium


def open_wallboard(browser: Any, server: Server, locale: str = "en-US") -> Any:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={**VIEWPORT, "height": 1100}, locale=locale, timezone_id="UTC")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    page.goto(server.url + "/")
    page.locator("input[name=username]").fill("sofia")
    page.locator("input[name=password]").fill(PASSWORDS["sofia"])
    page.locator("button[type=submit]").click()
    expect(page).to_have_url(f"{server.url}/#/wallboard")
    expect(page.get_by_test_id("chart-calls")).to_be_visible()
    return page


def offered(server: Server, task: str) -> str:
    items = server.admin.get(server.api(f"/tasks/{task}/reservations")).json()["items"]
    assert len(items) == 1, items
    return str(items[0]["sid"])


def act(server: Server, reservation: str, action: str) -> None:
    answer = server.admin.post(server.api(f"/reservations/{reservation}/{action}"))
    assert answer.status_code == 200, answer.text


def half_hours_today() -> int:
    now = time.time()
    midnight = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    return math.ceil((now - midnight) / HALF_HOUR)


def handle_times(server: Server) -> list[float]:
    """From the event log itself: each completed reservation's time from acceptance to completion."""
    query = "/events?event_type=reservation.accepted,reservation.completed&page_size=1000"
    accepted: dict[str, float] = {}
    handled = []
    for event in server.admin.get(server.api(query)).json()["items"]:
        if event["event_type"] == "reservation.accepted":
            accepted[event["resource_sid"]] = event["timestamp"]
        else:
            handled.append(event["timestamp"] - accepted[event["resource_sid"]])
    return handled


def values(page: Any, testid: str, series: str | None = None) -> list[int]:
    selector = f"[data-testid={testid}]" + (f'[data-series="{series}"]' if series else "")
    return [int(v) for v in page.locator(selector).evaluate_all("(all) => all.map((e) => e.dataset.value)")]


def test_charts_and_agent_figures_follow_the_days_tasks(browser: Any, server: Server) -> None:
    from playwright.sync_api import expect

    # alice (Sales) handles two calls: one with wrap-up, one without; a Support call nobody takes is abandoned;
    # she is on a fourth call when the wallboard opens.
    server.set_activity("alice", "Available")
    first = offered(server, server.create_task(caller="+34600000001"))
    act(server, first, "accept")
    time.sleep(1.2)
    act(server, first, "wrapup")
    time.sleep(1.0)
    act(server, first, "complete")
    second = offered(server, server.create_task(caller="+34600000002"))
    act(server, second, "accept")
    time.sleep(1.0)
    act(server, second, "complete")
    lost = server.create_task(caller="+34600000003", department="support")
    assert server.admin.delete(server.api(f"/tasks/{lost}")).status_code in (200, 204)
    before = half_hours_today()
    act(server, offered(server, server.create_task(caller="+34600000004")), "accept")

    page = open_wallboard(browser, server)
    bars = page.locator("[data-testid=chart-bar]")
    expect(page.get_by_test_id("chart-total").filter(has_text="Created")).to_contain_text("4")
    shown = bars.count() // 3
    assert shown in {before, half_hours_today()}, shown
    created, answered, abandoned = (values(page, "chart-bar", s) for s in ("created", "answered", "abandoned"))
    assert len(created) == len(answered) == len(abandoned) == shown
    assert (sum(created), sum(answered), sum(abandoned)) == (4, 3, 1)
    assert all(v == 0 for v in created[:-2] + answered[:-2] + abandoned[:-2])  # all of it in the last hour
    for series, total in (("Created", 4), ("Answered", 3), ("Abandoned", 1)):
        expect(page.get_by_test_id("chart-total").filter(has_text=series)).to_contain_text(str(total))

    # every answer came within the 20 s threshold and the abandoned caller left before it: 100 % wherever measured
    points = values(page, "chart-point")
    assert points == [100] * sum(1 for a in answered if a)
    calls, level = page.get_by_test_id("chart-calls"), page.get_by_test_id("chart-level")
    for chart in (calls, level):
        assert chart.get_attribute("role") == "img"
        assert chart.get_attribute("aria-label") == chart.locator("title").first.text_content()
    assert calls.get_attribute("aria-label") == "Calls per half hour today: 4 created, 3 answered, 1 abandoned."
    expect(page.get_by_test_id("chart-x-label").first).to_have_text("12:00 AM")  # midnight UTC, in the page's zone

    alice = page.locator('[data-testid=agent-row][data-agent="alice"]')
    expect(alice.get_by_test_id("agent-handled")).to_have_text("2")
    handled = handle_times(server)
    assert len(handled) == 2 and min(handled) >= 1.0
    aht = sum(handled) / len(handled)
    expect(alice.get_by_test_id("agent-aht")).to_have_attribute("data-value", str(math.floor(aht + 0.5)))
    expect(alice.get_by_test_id("agent-aht")).to_have_text(f"0:{math.floor(aht):02d}")
    current = alice.get_by_test_id("agent-task")
    expect(current).to_have_count(1)
    expect(current).to_have_attribute("data-status", "accepted")
    expect(current).to_contain_text("Sales")
    expect(current).to_contain_text("+34600000004")
    bob = page.locator('[data-testid=agent-row][data-agent="bob"]')
    expect(bob.get_by_test_id("agent-handled")).to_have_text("0")
    expect(bob.get_by_test_id("agent-aht")).to_have_text("—")
    expect(bob.get_by_test_id("agent-task")).to_have_count(0)

    shoot(page, "wallboard-charts")
    page.get_by_test_id("theme-toggle").click()
    shoot(page, "wallboard-charts-dark")

    # her call ends: the current task goes and the handled count follows, from the stream
    reservation = server.admin.get(server.api("/reservations?reservation_status=accepted")).json()["items"][0]
    act(server, reservation["sid"], "complete")
    expect(alice.get_by_test_id("agent-handled")).to_have_text("3")
    expect(current).to_have_count(0)
    assert page.errors == []
    page.context.close()


def test_the_charts_speak_spanish(browser: Any, server: Server) -> None:
    page = open_wallboard(browser, server, locale="es-ES")
    label = page.get_by_test_id("chart-calls").get_attribute("aria-label")
    assert label is not None and label.startswith("Llamadas por media hora hoy:")
    assert page.get_by_test_id("chart-level").locator("title").first.text_content() != ""
    assert page.locator("th", has_text="Tarea actual").count() == 1
    assert page.get_by_test_id("chart-x-label").first.text_content() == "00:00"
    assert page.errors == []
    page.context.close()
