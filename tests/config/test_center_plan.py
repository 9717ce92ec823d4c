"""`plan` lists the changes between two centers in an order that is valid to apply."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from callboard.config.center import load_center
from callboard.config.model import Activity, Center, Queue, User, Worker, Workspace
from callboard.config.plan import Change, format_plan, plan

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo-center.yaml"
HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"


def small(**changes: object) -> Workspace:
    space = Workspace(
        name="demo",
        default_activity="Offline",
        timeout_activity="Offline",
        activities=(Activity("Offline"), Activity("Available", available=True)),
        queues=(Queue("sales"),),
        workers=(Worker("alice", activity="Offline"),),
    )
    return dataclasses.replace(space, **changes)  # type: ignore[arg-type]


def test_same_center_plans_nothing() -> None:
    center = load_center(DEMO)
    assert plan(center, center) == []
    assert format_plan([]) == ""


def test_creating_everything_goes_from_referenced_to_referring() -> None:
    changes = plan(Center(), load_center(DEMO))
    kinds = [c.kind for c in changes]
    assert all(c.action == "create" for c in changes)
    order = ["workspace", "activity", "channel", "prompt", "schedule", "queue", "workflow", "flow", "number", "worker",
             "contact", "user"]  # fmt: skip
    assert kinds == sorted(kinds, key=order.index)
    assert changes[0] == Change("create", "workspace", "demo", "demo")
    assert kinds.count("worker") == 12 and kinds.count("user") == 14


def test_deleting_everything_goes_the_other_way() -> None:
    changes = plan(load_center(DEMO), Center())
    kinds = [c.kind for c in changes]
    assert all(c.action == "delete" for c in changes)
    order = ["user", "contact", "worker", "number", "flow", "workflow", "queue", "schedule", "prompt", "channel",
             "activity", "workspace"]  # fmt: skip
    assert kinds == sorted(kinds, key=order.index)
    assert changes[-1] == Change("delete", "workspace", "demo", "demo")


def test_updates_and_their_format() -> None:
    current = Center(workspaces=(small(),))
    desired = Center(
        workspaces=(
            small(
                activities=(Activity("Offline"), Activity("Available", available=True), Activity("Break")),
                default_activity="Break",
                queues=(Queue("sales", wrapup_seconds=30), Queue("vip")),
                workers=(Worker("alice", activity="Available", attributes={"skills": ["sales"]}),),
            ),
        )
    )
    assert format_plan(plan(current, desired)) == "\n".join(
        [
            "+ activity demo/Break",
            "~ workspace demo: default_activity Offline -> Break",
            "~ queue demo/sales: wrapup_seconds null -> 30",
            "+ queue demo/vip",
            '~ worker demo/alice: activity Offline -> Available, attributes {} -> {"skills": ["sales"]}',
        ]
    )


def test_removing_things_deletes_referrers_first() -> None:
    current = Center(workspaces=(small(queues=(Queue("sales", post_work_activity="Available"),)),))
    desired = Center(workspaces=(small(activities=(Activity("Offline"),), queues=(Queue("sales"),), workers=()),))
    assert format_plan(plan(current, desired)) == "\n".join(
        [
            "~ queue demo/sales: post_work_activity Available -> null",
            "- worker demo/alice",
            "- activity demo/Available",
        ]
    )


def test_worker_without_activity_keeps_its_current_one() -> None:
    current = Center(workspaces=(small(),))
    desired = Center(workspaces=(small(workers=(Worker("alice"),)),))
    assert plan(current, desired) == []


def test_users() -> None:
    current = Center(
        workspaces=(small(),),
        users=(
            User("admin", "admin", password_hash=HASH),
            User("alice", "agent", password="a", workspace="demo", worker="alice"),
            User("old", "admin", password="x"),
        ),
    )
    desired = Center(
        workspaces=(small(),),
        users=(
            User("admin", "admin", password="secret"),
            User("alice", "supervisor", password="b", workspace="demo"),
            User("new", "admin", password="x"),
        ),
    )
    assert format_plan(plan(current, desired)) == "\n".join(
        [
            "~ user alice: role agent -> supervisor, worker alice -> null, password changed",
            "+ user new",
            "- user old",
        ]
    )
    wrong = plan(current, desired, password_matches=lambda username, password: username != "admin")
    assert wrong[0] == Change("update", "user", None, "admin", {"password": (None, None)})
    rehashed = dataclasses.replace(desired, users=(User("admin", "admin", password_hash=HASH + "x"),))
    assert plan(current, rehashed)[0].fields == {"password": (None, None)}


def test_new_workspace_with_its_contents() -> None:
    changes = plan(Center(), Center(workspaces=(small(),)))
    assert format_plan(changes) == "\n".join(
        [
            "+ workspace demo",
            "+ activity demo/Offline",
            "+ activity demo/Available",
            "+ queue demo/sales",
            "+ worker demo/alice",
        ]
    )
