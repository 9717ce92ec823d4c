"""Center file validation: every kind of mistake is reported at its exact `file:line:col`."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from callboard.config.center import CenterInvalid, check_file, check_text, load_center, load_center_text

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo-center.yaml"

MINIMAL = """\
version: 1
workspaces:
  - name: demo
    default_activity: Offline
    timeout_activity: Offline
    activities:
      - {name: Offline}
      - {name: Available, available: true}
    channels:
      - {name: voice}
      - {name: chat, capacity: 3}
    queues:
      - name: sales
        target_workers: 'skills HAS "sales"'
    workflows:
      - name: inbound
        configuration:
          task_routing:
            filters:
              - expression: 'vip == true'
                targets:
                  - {queue: sales, timeout: 30}
    workers:
      - name: alice
        attributes: {skills: [sales]}
        channels: {chat: 2}
users:
  - {username: admin, role: admin, password: admin}
"""


def errors(text: str) -> list[str]:
    return [str(e) for e in check_text(textwrap.dedent(text), "c.yaml")]


def edited(old: str, new: str) -> str:
    assert old in MINIMAL
    return MINIMAL.replace(old, new, 1)


def test_minimal_file_loads() -> None:
    center = load_center_text(MINIMAL, "c.yaml")
    (space,) = center.workspaces
    assert [a.name for a in space.activities] == ["Offline", "Available"]
    assert space.queues[0].strategy == "longest_idle"
    assert space.workflows[0].task_reservation_timeout == 120
    assert space.workers[0].channels == {"voice": 1, "chat": 2}
    assert space.workers[0].activity is None
    assert center.users[0].password == "admin"


def test_demo_file_checks_clean() -> None:
    assert check_file(DEMO) == []
    center = load_center(DEMO)
    (space,) = center.workspaces
    assert len(space.workers) == 12
    assert {w.attributes["site"] for w in space.workers} == {"madrid", "denver"}
    assert {q.name for q in space.queues} == {"sales", "support", "billing", "vip"}
    assert len(center.users) == 14


def test_unknown_key_is_reported_at_the_key() -> None:
    text = edited("        target_workers:", "        strategyy: linear\n        target_workers:")
    assert errors(text) == [
        "c.yaml:14:9: unknown key 'strategyy' in queue; expected one of: name, target_workers, strategy,"
        " strategy_options, order, max_reserved_workers, reservation_activity, assignment_activity,"
        " wrapup_seconds, post_work_activity, service_level_threshold, waiting"
    ]


def test_wrong_types() -> None:
    text = edited("{name: chat, capacity: 3}", "{name: chat, capacity: three}")
    text = text.replace("{name: Available, available: true}", "{name: Available, available: 1}")
    text = text.replace("  - name: demo\n", "  - name: demo\n    wrapup_seconds: [1]\n")
    assert errors(text) == [
        "c.yaml:4:21: expected a whole number for 'wrapup_seconds', got a list",
        "c.yaml:9:38: expected true or false for 'available', got 1",
        "c.yaml:12:32: expected a whole number for 'capacity', got 'three'",
    ]


def test_missing_required_keys_point_at_the_mapping() -> None:
    text = edited("    timeout_activity: Offline\n", "")
    text = text.replace("{username: admin, role: admin, password: admin}", "{username: admin, role: admin}")
    assert errors(text) == [
        "c.yaml:3:5: missing required key 'timeout_activity' in workspace",
        "c.yaml:27:5: missing 'password' or 'password_hash' in user",
    ]


def test_not_a_mapping() -> None:
    assert errors("- 1\n") == ["c.yaml:1:1: expected a mapping for the center file, got a list"]
    assert errors("") == ["c.yaml:1:1: expected a mapping for the center file, got null"]
    assert errors("version: 2\nworkspaces: {}\n") == [
        "c.yaml:1:10: unsupported version 2; this Callboard reads version 1",
        "c.yaml:2:13: expected a list for 'workspaces', got a mapping",
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "      - {name: Available, available: true}",
            "      - {name: Offline}",
            "c.yaml:8:16: duplicate activity name 'Offline' (first defined at line 7)",
        ),
        (
            "    workflows:",
            "      - name: sales\n    workflows:",
            "c.yaml:15:15: duplicate queue name 'sales' (first defined at line 13)",
        ),
        (
            "    workers:",
            "      - {name: inbound, configuration: {task_routing: {}}}\n    workers:",
            "c.yaml:23:16: duplicate workflow name 'inbound' (first defined at line 16)",
        ),
        (
            "users:",
            "      - name: alice\nusers:",
            "c.yaml:27:15: duplicate worker name 'alice' (first defined at line 24)",
        ),
        (
            "users:\n",
            "users:\n  - {username: admin, role: admin, password: x}\n",
            "c.yaml:29:16: duplicate username 'admin' (first defined at line 28)",
        ),
    ],
)
def test_duplicate_names(old: str, new: str, expected: str) -> None:
    assert errors(edited(old, new)) == [expected]


def test_duplicate_channel_and_the_reference_it_breaks() -> None:
    assert errors(edited("{name: chat, capacity: 3}", "{name: voice}")) == [
        "c.yaml:11:16: duplicate channel name 'voice' (first defined at line 10)",
        "c.yaml:26:20: unknown channel 'chat'; expected one of: voice",
    ]


def test_duplicate_workspace() -> None:
    text = MINIMAL.replace(
        "users:\n", "  - {name: demo, default_activity: A, timeout_activity: A, activities: [{name: A}]}\nusers:\n"
    )
    assert errors(text) == ["c.yaml:27:12: duplicate workspace name 'demo' (first defined at line 3)"]


def test_unknown_references() -> None:
    text = edited("default_activity: Offline", "default_activity: Ofline")
    text = text.replace("target_workers: 'skills HAS \"sales\"'", "post_work_activity: Lunch")
    text = text.replace("channels: {chat: 2}", "channels: {chat: 2, fax: 1}")
    text = text.replace(
        "{username: admin, role: admin, password: admin}",
        "{username: bob, role: agent, password: x, workspace: demo, worker: bob}\n"
        "  - {username: eve, role: supervisor, password: x, workspace: other}",
    )
    assert errors(text) == [
        "c.yaml:4:23: unknown activity 'Ofline'; expected one of: Offline, Available",
        "c.yaml:14:29: unknown activity 'Lunch'; expected one of: Offline, Available",
        "c.yaml:26:29: unknown channel 'fax'; expected one of: voice, chat",
        "c.yaml:28:72: unknown worker 'bob' in workspace 'demo'",
        "c.yaml:29:63: unknown workspace 'other'; expected one of: demo",
    ]


def test_bad_choices_and_ranges() -> None:
    text = edited(
        "        target_workers: 'skills HAS \"sales\"'\n",
        "        strategy: fastest\n        order: random\n        max_reserved_workers: 51\n"
        "        wrapup_seconds: -5\n",
    )
    text = text.replace("role: admin", "role: root")
    text = text.replace("      - name: inbound\n", "      - name: inbound\n        task_reservation_timeout: 0\n")
    assert errors(text) == [
        "c.yaml:14:19: 'strategy' must be one of: longest_idle, round_robin, fewest_tasks, least_talk_time,"
        " ring_all, linear, random, weighted_random, best_skill_match; got 'fastest'",
        "c.yaml:15:16: 'order' must be one of: fifo, lifo; got 'random'",
        "c.yaml:16:31: 'max_reserved_workers' must be at most 50, got 51",
        "c.yaml:17:25: 'wrapup_seconds' must not be negative, got -5",
        "c.yaml:20:35: 'task_reservation_timeout' must be at least 1, got 0",
        "c.yaml:32:29: 'role' must be one of: admin, supervisor, agent; got 'root'",
    ]


@pytest.mark.parametrize(
    ("scalar", "column"),
    [
        ("'skills HAS @ \"sales\"'", 37),  # single quoted: one past the quote
        ('"skills HAS \\"x\\" AND @"', 47),  # double quoted, after escapes
        ("skills HAS @", 36),  # plain
    ],
)
def test_expression_errors_point_inside_the_scalar(scalar: str, column: int) -> None:
    text = edited("'skills HAS \"sales\"'", scalar)
    (error,) = errors(text)
    assert error.startswith(f"c.yaml:14:{column}: bad expression: expected ")
    assert error.endswith("found '@'")


def test_workflow_expression_error_points_inside_the_filter_expression() -> None:
    (error,) = errors(edited("expression: 'vip == true'", "expression: 'vip == @'"))
    assert error.startswith("c.yaml:20:37: bad expression: expected ")


def test_workflow_target_expression_in_a_folded_scalar() -> None:
    text = edited(
        "                  - {queue: sales, timeout: 30}\n",
        "                  - queue: sales\n                    expression: >-\n"
        "                      worker.site == task.site\n                      AND @\n",
    )
    (error,) = errors(text)
    assert error.startswith("c.yaml:25:27: bad expression: expected ")


def test_workflow_unknown_queue_and_negative_timeout() -> None:
    (error,) = errors(edited("{queue: sales, timeout: 30}", "{queue: sales, timeout: -1}"))
    assert error == "c.yaml:22:45: expected a number >= 0"
    (error,) = errors(edited("{queue: sales, timeout: 30}", "{queue: saless, timeout: 30}"))
    assert error == "c.yaml:22:29: unknown queue 'saless'; expected one of: sales"


def test_workflow_queue_sid_is_accepted() -> None:
    text = edited("{queue: sales, timeout: 30}", "{queue: WQ0123456789abcdef0123456789abcdef}")
    assert errors(text) == []


def test_user_rules() -> None:
    text = edited(
        "  - {username: admin, role: admin, password: admin}\n",
        "  - {username: a, role: agent, password: x}\n"
        "  - {username: s, role: supervisor, password: x, password_hash: y}\n"
        "  - {username: h, role: admin, password_hash: '$argon2id$v=19$x', worker: alice}\n"
        "  - {username: b, role: agent, password: x, workspace: demo, worker: alice}\n"
        "  - {username: c, role: agent, password: x, workspace: demo, worker: alice}\n",
    )
    assert errors(text) == [
        "c.yaml:28:5: missing required key 'worker' in user (an agent is one of the workspace's workers)",
        "c.yaml:28:5: missing required key 'workspace' in user (every agent belongs to one)",
        "c.yaml:29:5: missing required key 'workspace' in user (every supervisor belongs to one)",
        "c.yaml:29:50: give either 'password' or 'password_hash', not both",
        "c.yaml:29:65: 'password_hash' must be an argon2 hash ($argon2id$...)",
        "c.yaml:30:75: a user with a 'worker' must also name its 'workspace'",
        "c.yaml:32:70: worker 'alice' already belongs to user 'b'",
    ]


def test_free_form_data_must_be_json_compatible() -> None:
    text = edited("attributes: {skills: [sales]}", "attributes: {skills: [sales], since: 2020-01-01, 7: x}")
    assert errors(text) == [
        "c.yaml:25:46: expected a string, number, boolean, list or mapping, got a date",
        "c.yaml:25:58: expected a string key, got 7",
    ]


def test_yaml_errors_come_through_check() -> None:
    assert errors("version: 1\nversion: 1\n") == [
        "c.yaml:2:1: duplicate key 'version' (first used at line 1, column 1)"
    ]
    assert errors("version: [1\n") == [
        "c.yaml:2:1: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence at line 1, column 10)"
    ]


def test_checking_goes_on_after_a_duplicate_key() -> None:
    text = edited("        target_workers:", "        name: again\n        target_workers:")
    text = text.replace("default_activity: Offline", "default_activity: Nope")
    assert errors(text) == [
        "c.yaml:4:23: unknown activity 'Nope'; expected one of: Offline, Available",
        "c.yaml:14:9: duplicate key 'name' (first used at line 13, column 9)",
    ]


def test_load_raises_with_every_error() -> None:
    text = edited("default_activity: Offline", "default_activity: Nope").replace("role: admin", "role: x")
    with pytest.raises(CenterInvalid) as info:
        load_center_text(text, "c.yaml")
    assert info.value.error_id == "config_invalid"
    assert info.value.message == "c.yaml: 2 errors"
    assert info.value.details["errors"] == [str(e) for e in info.value.errors]
    assert len(info.value.errors) == 2


def test_check_file_reports_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(b"version: 1\nname: caf\xe9\n")
    assert [str(e) for e in check_file(path)] == [f"{path}:2:10: the file is not UTF-8 text"]
