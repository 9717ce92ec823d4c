"""`dump_center` writes YAML that loads back to an equal center."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from callboard.config.center import load_center, load_center_text
from callboard.config.dump import dump_center
from callboard.config.model import Activity, Center, Channel, Queue, User, Worker, Workflow, Workspace

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo-center.yaml"

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"


def test_demo_round_trips() -> None:
    center = load_center(DEMO)
    text = dump_center(center)
    assert load_center_text(text, "export.yaml") == center
    assert dump_center(load_center_text(text, "export.yaml")) == text


def test_keys_follow_the_documented_order() -> None:
    data = yaml.safe_load(dump_center(load_center(DEMO)))
    assert list(data) == ["version", "workspaces", "users"]
    space = data["workspaces"][0]
    assert list(space)[:5] == [
        "name",
        "default_activity",
        "timeout_activity",
        "service_level_threshold",
        "wrapup_seconds",
    ]
    assert list(space["queues"][0])[:3] == ["name", "target_workers", "strategy"]
    assert "{name: Offline, available: false}" in dump_center(load_center(DEMO))


def test_hashes_activities_and_shared_data_round_trip() -> None:
    options = {"level_path": "levels.sales"}
    space = Workspace(
        name="w",
        default_activity="Off",
        timeout_activity="Off",
        activities=(Activity("Off"), Activity("On", available=True)),
        channels=(Channel("voice"),),
        queues=(
            Queue("a", strategy="best_skill_match", strategy_options=options, wrapup_seconds=5),
            Queue("b", strategy="best_skill_match", strategy_options=options, post_work_activity="On"),
        ),
        workflows=(Workflow("f", {"task_routing": {"default_filter": {"queue": "a"}}}),),
        workers=(Worker("x", activity="On", attributes={"name": "ünïcode", "n": 1.5}, channels={"voice": 0}),),
    )
    center = Center(
        workspaces=(space,),
        users=(
            User("root", "admin", password_hash=HASH),
            User("x", "agent", password="pw", workspace="w", worker="x"),
        ),
    )
    text = dump_center(center)
    assert "&id" not in text
    assert load_center_text(text, "export.yaml") == center


def test_a_changed_center_is_not_equal() -> None:
    center = load_center(DEMO)
    space = center.workspaces[0]
    changed = dataclasses.replace(center, workspaces=(dataclasses.replace(space, wrapup_seconds=5),))
    assert load_center_text(dump_center(changed), "x.yaml") != center
