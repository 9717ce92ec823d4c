"""`callboard flow test` runs a center file's flow offline, as a call to the number would run it: the number's
language, time zone and hours at `--at`, scripted digits on a virtual clock, CRM contacts, and the task the
enqueue node makes, routed by its workflow."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from callboard.app.cli import app
from callboard.app.flow_offline import OfflineCall, OfflineError, run_offline
from callboard.app.server import open_center
from callboard.config.center import load_center_text
from callboard.config.settings import Settings

CENTER = """\
version: 1
workspaces:
  - name: acme
    default_activity: Offline
    timeout_activity: Offline
    activities:
      - {name: Offline}
    channels:
      - {name: voice}
    queues:
      - name: sales
      - name: support
      - name: vip
    workflows:
      - name: inbound
        configuration:
          task_routing:
            filters:
              - {filter_friendly_name: vips, expression: 'vip == true', targets: [{queue: vip}]}
              - {filter_friendly_name: support, expression: 'department == "support"', targets: [{queue: support}]}
            default_filter: {queue: sales}
    workers:
      - name: alice
    prompts:
      - name: main-menu
        text: {en: "Sales: 1. Support: 2.", es: "Ventas: 1. Soporte: 2."}
      - name: promo
        text: {en: "Ask about our offers."}
    schedules:
      - name: madrid
        time_zone: Europe/Madrid
        weekly: {mon: ["09:00-18:00"], tue: ["09:00-18:00"], wed: ["09:00-18:00"], thu: ["09:00-18:00"],
                 fri: ["09:00-18:00"]}
        holidays: {country: ES}
    numbers:
      - {number: "+34 910 000 001", site: madrid, flow: main, language: es, schedule: madrid}
      - {number: "+1 303 555 0100", site: denver, flow: main, language: en, time_zone: America/Denver}
    flows:
      - name: main
        nodes:
          hours: {type: hours, open: crm}
          crm: {type: crm, found: vip_check, not_found: menu}
          vip_check:
            type: branch
            cases: [{when: 'contact.vip == true', next: vip_queue}]
            default: menu
          vip_queue:
            type: enqueue
            workflow: inbound
            attributes: {vip: true, customer: "{{ contact.name }}"}
            priority: 10
            personal_manager: true
          menu:
            type: menu
            say: [welcome, main-menu, promo]
            timeout: 40
            options:
              "1": {next: queue, set: {department: sales}}
              "2": {next: queue, set: {department: support}}
            no_input: late
          queue:
            type: enqueue
            workflow: inbound
            attributes: {department: "{{ department }}"}
            timed_out: bye
          late: {type: play, say: [{text: "It is {{ time }}."}], next: bye}
          bye: {type: hangup, say: [goodbye]}
      - name: account
        nodes:
          ask:
            type: collect
            say: [{text: "Your account number, then hash."}]
            variable: account
            next: lookup
            max_digits: 6
          lookup:
            type: lookup
            url: "https://crm.example.com/accounts/{{ account }}"
            into: {tier: tier}
            next: bye
            fallback: bye
          bye: {type: hangup, say: [goodbye]}
    contacts:
      - {name: "Ana García", numbers: ["+34 600 000 001"], vip: true, manager: alice, language: es}
"""

MONDAY = "2026-12-21 10:00"  # an ordinary Monday; 2026-12-25 is Christmas Day, a public holiday in Spain


def run(tmp_path: Path, *args: str) -> Any:
    center = tmp_path / "center.yaml"
    if not center.exists():
        center.write_text(CENTER)
    return CliRunner().invoke(app, ["flow", "test", "--center", str(center), *args])


def run_json(tmp_path: Path, *args: str) -> dict[str, Any]:
    result = run(tmp_path, *args, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def path_of(data: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(step["node"], step["exit"]) for step in data["steps"]]


def test_open_menu_choice_enqueues_in_the_numbers_language(tmp_path: Path) -> None:
    data = run_json(tmp_path, "main", "--at", MONDAY, "--caller", "+34 600 999 999", "--digits", "1")
    assert data["hours"] == {"schedule": "madrid", "status": "open", "holiday": None, "until": "2026-12-21T18:00+01:00"}
    assert path_of(data) == [("hours", "open"), ("crm", "not_found"), ("menu", "1"), ("queue", "completed")]
    menu = data["steps"][2]
    # The system prompt and the workspace's prompt in Spanish; `promo` has no Spanish text: silent on a call.
    assert menu["events"] == [
        {"ask": "Hola, gracias por su llamada. Ventas: 1. Soporte: 2. [promo: silent]"},
        {"caller": "1"},
    ]
    assert any("'promo' has nothing in 'es'" in warning for warning in data["warnings"])
    assert data["variables"]["department"] == "sales"
    assert data["end"]["how"] == "enqueued"
    queue = data["end"]["enqueue"]
    assert (queue["workflow"], queue["queue"], queue["filter"], queue["priority"]) == ("inbound", "sales", None, 0)
    attributes = dict(queue["attributes"])
    # The task carries the path up to the queue, for the agent's screen pop.
    flow = attributes.pop("flow")
    assert flow["name"] == "main" and flow["hours"] == "open"
    assert [(s["node"], s["exit"]) for s in flow["path"]] == [("hours", "open"), ("crm", "not_found"), ("menu", "1")]
    assert attributes == {"department": "sales", "language": "es", "number": "+34910000001", "site": "madrid"}
    assert queue["known_worker"] is None


def test_at_is_read_in_the_numbers_time_zone_unless_it_says_otherwise(tmp_path: Path) -> None:
    before_nine = run_json(tmp_path, "main", "--at", "2026-12-21 08:30")
    assert before_nine["hours"]["status"] == "closed"
    assert before_nine["at"] == "2026-12-21T08:30+01:00"
    utc = run_json(tmp_path, "main", "--at", "2026-12-21 08:30+00:00", "--digits", "1")
    assert utc["hours"]["status"] == "open"  # 09:30 in Madrid
    zoned = run_json(tmp_path, "main", "--at", "2026-12-21 01:30 America/Denver", "--digits", "1")
    assert zoned["at"] == "2026-12-21T09:30+01:00"
    assert zoned["hours"]["status"] == "open"


def test_closed_says_the_numbers_closed_message_and_hangs_up(tmp_path: Path) -> None:
    data = run_json(tmp_path, "main", "--at", "2026-12-22 19:30", "--digits", "1")
    assert data["hours"]["status"] == "closed"
    assert data["hours"]["until"] == "2026-12-23T09:00+01:00"
    assert path_of(data) == [("hours", "closed")]
    (said,) = data["steps"][0]["events"]
    assert said["say"].startswith("En este momento estamos cerrados")
    assert data["end"] == {"how": "hangup"}


def test_christmas_in_spain_is_a_holiday(tmp_path: Path) -> None:
    result = run(tmp_path, "main", "--at", "2026-12-25 10:00", "--digits", "1")
    assert result.exit_code == 0, result.output
    assert "2026-12-25 10:00 Fri, Europe/Madrid (+01:00): holiday (" in result.stdout
    assert "exit holiday -> (end)" in result.stdout
    assert "Hoy estamos cerrados por festivo" in result.stdout
    assert "menu" not in result.stdout
    data = run_json(tmp_path, "main", "--at", "2026-12-25 10:00")
    assert data["variables"]["hours"] == "holiday" and data["variables"]["holiday"]
    # The same morning on the Denver number: Christmas is not in its (absent) schedule; it is always open.
    denver = run_json(tmp_path, "--number", "+13035550100", "--at", "2026-12-25 10:00", "--digits", "2")
    assert denver["hours"]["status"] == "open" and denver["at"] == "2026-12-25T10:00-07:00"
    assert denver["steps"][2]["events"][0] == {
        "ask": "Hello, and thank you for calling. Sales: 1. Support: 2. Ask about our offers."
    }
    assert denver["end"]["enqueue"]["queue"] == "support"
    assert denver["end"]["enqueue"]["filter"] == "support"


def test_an_invalid_digit_is_refused_then_the_retry_is_taken(tmp_path: Path) -> None:
    result = run(tmp_path, "main", "--at", MONDAY, "--digits", "9,2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    start = lines.index("  3. menu (menu)")
    assert [line.strip() for line in lines[start + 1 : start + 7]] == [
        'asks: "Hola, gracias por su llamada. Ventas: 1. Soporte: 2. [promo: silent]"',
        "caller: 9",
        'says: "Lo sentimos, esa opción no es válida."',
        'asks: "Hola, gracias por su llamada. Ventas: 1. Soporte: 2. [promo: silent]"',
        "caller: 2",
        "exit 2 -> queue",
    ]
    assert '  department = "support"' in lines
    assert "  enqueue: workflow inbound -> queue support (filter support), outcome completed" in lines


def test_no_input_times_out_on_the_virtual_clock(tmp_path: Path) -> None:
    started = time.monotonic()
    data = run_json(tmp_path, "main", "--at", MONDAY, "--digits", ",,")
    assert time.monotonic() - started < 10  # three 40 s timeouts did not pass for real
    assert path_of(data)[2:] == [("menu", "no_input"), ("late", "next"), ("bye", "hangup")]
    assert [event for event in data["steps"][2]["events"] if "caller" in event] == [{"caller": ""}] * 3
    assert data["steps"][3]["events"] == [{"say": "It is 10:02."}]  # 120 s later
    assert data["end"] == {"how": "hangup"}


def test_the_caller_hangs_up_when_the_digits_run_out(tmp_path: Path) -> None:
    result = run(tmp_path, "main", "--at", MONDAY)
    assert result.exit_code == 0, result.output
    assert "caller: (hangs up)" in result.stdout
    assert "End: caller_gone" in result.stdout


def test_a_vip_contact_goes_to_the_vip_queue_offered_first_to_their_manager(tmp_path: Path) -> None:
    # A national caller number is read in the region of the number called.
    data = run_json(tmp_path, "main", "--at", MONDAY, "--caller", "600 000 001")
    assert data["caller"] == "+34600000001"
    assert data["contact"]["name"] == "Ana García"
    assert path_of(data) == [
        ("hours", "open"),
        ("crm", "found"),
        ("vip_check", "contact.vip == true"),
        ("vip_queue", "completed"),
    ]
    queue = data["end"]["enqueue"]
    assert queue["queue"] == "vip" and queue["filter"] == "vips"
    assert queue["priority"] == 10
    assert queue["known_worker"] == "alice"
    assert queue["attributes"].pop("flow")["path"][-1] == {"node": "vip_check", "exit": "contact.vip == true"}
    assert queue["attributes"] == {
        "vip": True,
        "customer": "Ana García",
        "language": "es",
        "number": "+34910000001",
        "site": "madrid",
        "known_worker": "alice",
    }
    result = run(tmp_path, "main", "--at", MONDAY, "--caller", "+34600000001")
    assert "Caller +34600000001: contact Ana García (VIP, manager alice)" in result.stdout
    assert "priority 10, offered first to alice (personal manager)" in result.stdout


def test_a_contact_given_on_the_command_line(tmp_path: Path) -> None:
    contact = '{"name": "Bo", "vip": true}'
    data = run_json(tmp_path, "main", "--at", MONDAY, "--caller", "+34600000077", "--contact", contact)
    assert data["end"]["enqueue"]["queue"] == "vip"
    assert data["end"]["enqueue"]["known_worker"] is None  # no manager
    assert data["end"]["enqueue"]["attributes"]["customer"] == "Bo"


def test_language_and_queue_outcome_options(tmp_path: Path) -> None:
    args = ("main", "--at", MONDAY, "--digits", "1", "--language", "en", "--queue-outcome", "timed_out")
    data = run_json(tmp_path, *args)
    assert data["steps"][2]["events"][0] == {
        "ask": "Hello, and thank you for calling. Sales: 1. Support: 2. Ask about our offers."
    }
    assert path_of(data)[-2:] == [("queue", "timed_out"), ("bye", "hangup")]
    assert data["end"]["enqueue"]["outcome"] == "timeout"
    assert data["end"]["enqueue"]["attributes"]["language"] == "en"
    # Every prompt has English; the one note is that another number runs the same flow.
    assert data["warnings"] == ["ran as a call to +34910000001; +13035550100 also run this flow (choose with --number)"]


def test_lookups_use_canned_replies_and_never_the_network(tmp_path: Path) -> None:
    offline = run_json(tmp_path, "account", "--at", MONDAY, "--digits", "1234#")
    assert path_of(offline) == [("ask", "next"), ("lookup", "fallback"), ("bye", "hangup")]
    assert offline["variables"]["account"] == "1234"
    assert any("no --lookup reply" in warning for warning in offline["warnings"])
    reply = 'https://crm.example.com/accounts/1234={"tier": "gold"}'
    canned = run_json(tmp_path, "account", "--at", MONDAY, "--digits", "1234#", "--lookup", reply)
    assert path_of(canned)[1] == ("lookup", "next")
    assert canned["variables"]["tier"] == "gold"


def test_errors_are_one_line_and_an_exit_code(tmp_path: Path) -> None:
    unknown = run(tmp_path, "nope", "--at", MONDAY)
    assert unknown.exit_code == 1
    assert unknown.stderr == "error: no flow is named 'nope' in workspace acme (flows: account, main)\n"
    bad_at = run(tmp_path, "main", "--at", "2026-12-21 25:00")
    assert bad_at.exit_code == 2
    assert bad_at.stderr.count("\n") == 1 and "--at" in bad_at.stderr
    assert "Traceback" not in bad_at.output
    no_number = run(tmp_path, "--number", "+34 910 000 999")
    assert no_number.exit_code == 1
    assert "has no number '+34 910 000 999' (numbers: +34910000001, +13035550100)" in no_number.stderr
    bad_digits = run(tmp_path, "main", "--digits", "1,x")
    assert bad_digits.exit_code == 2 and "--digits" in bad_digits.stderr


def test_a_broken_center_file_is_reported_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "center.yaml").write_text(CENTER.replace("open: crm}", "open: nowhere}"))
    result = run(tmp_path, "main")
    assert result.exit_code == 1
    line = next(i for i, text in enumerate(CENTER.splitlines(), 1) if "open: crm}" in text)
    assert f"{tmp_path / 'center.yaml'}:{line}:38: unknown node 'nowhere'" in result.stderr
    assert "Traceback" not in result.output


def test_from_the_store_with_the_emergency_switch(tmp_path: Path) -> None:
    center = tmp_path / "center.yaml"
    center.write_text(CENTER)
    url = f"sqlite+aiosqlite:///{tmp_path / 'callboard.db'}"
    applied = CliRunner().invoke(app, ["apply", str(center), "--database", url])
    assert applied.exit_code == 0, applied.output
    args = ["flow", "test", "--database", url, "--number", "+34910000001", "--at", MONDAY, "--caller", "600000001"]
    args.append("--json")
    stored = CliRunner().invoke(app, args)
    assert stored.exit_code == 0, stored.output
    assert json.loads(stored.stdout)["end"]["enqueue"]["known_worker"] == "alice"

    async def close_madrid() -> None:
        async with open_center(Settings(database_url=url), timers=False) as running:
            (sid,) = running.workspaces()
            await running.store.set_closure(sid, "site", "madrid", prompt=None, text="Closed by a flood.")

    asyncio.run(close_madrid())
    closed = json.loads(CliRunner().invoke(app, args).stdout)
    assert closed["closed"] == "Closed by a flood."
    assert closed["steps"] == [] and closed["end"] == {"how": "emergency_closure"}


async def test_run_offline_is_what_the_command_prints() -> None:
    (space,) = load_center_text(CENTER).workspaces
    call = OfflineCall(number="+34910000001", caller="+34600000001", at=1_797_843_600.0)  # 2026-12-21 10:00 Madrid
    data = await run_offline(space, call, workspace_id="WS1")
    assert data["at"] == "2026-12-21T10:00+01:00"
    assert data["end"]["enqueue"]["queue"] == "vip"
    with pytest.raises(OfflineError) as refused:
        await run_offline(space, OfflineCall(flow="main", at="Monday"))
    assert refused.value.code == 2
