"""The error contract: unknown sids, bad expressions and configurations, and operations the state forbids."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from builders import Center, build

from callboard.core.errors import ConflictError, InvalidStateError, NotFoundError, ValidationError
from callboard.routing.model import TaskStatus

MISSING = {
    "worker": "WK00000000000000000000000000000000",
    "task": "WT00000000000000000000000000000000",
    "queue": "WQ00000000000000000000000000000000",
    "workflow": "WW00000000000000000000000000000000",
    "reservation": "WR00000000000000000000000000000000",
    "activity": "WA00000000000000000000000000000000",
}


@pytest.mark.parametrize(
    ("error_id", "call"),
    [
        ("worker_not_found", lambda c: c.ws.update_worker(MISSING["worker"], activity_sid=c.activities["Break"])),
        ("worker_not_found", lambda c: c.ws.transfer_task(c.create_task().sid, worker_sid=MISSING["worker"])),
        ("task_not_found", lambda c: c.ws.cancel_task(MISSING["task"])),
        ("task_not_found", lambda c: c.ws.update_task(MISSING["task"], priority=1)),
        ("task_queue_not_found", lambda c: c.ws.transfer_task(c.create_task().sid, queue_sid=MISSING["queue"])),
        ("task_queue_not_found", lambda c: c.ws.update_queue(MISSING["queue"], task_order="lifo")),
        ("workflow_not_found", lambda c: c.ws.create_task(MISSING["workflow"], channel="voice")),
        ("reservation_not_found", lambda c: c.ws.accept_reservation(MISSING["reservation"])),
        ("reservation_not_found", lambda c: c.ws.complete_reservation(MISSING["reservation"])),
        ("activity_not_found", lambda c: c.ws.update_worker(c.add_worker("a").sid, activity_sid=MISSING["activity"])),
        ("task_channel_not_found", lambda c: c.ws.set_worker_channel(c.add_worker("a").sid, "sms", capacity=1)),
    ],
)
def test_unknown_sids_raise_not_found_with_a_stable_error_id(error_id: str, call: Callable[[Center], Any]) -> None:
    c = build()
    with pytest.raises(NotFoundError) as caught:
        call(c)
    assert caught.value.error_id == error_id


def test_a_reject_naming_an_unknown_activity_changes_nothing() -> None:
    c = build()
    alice = c.add_worker("alice")
    task = c.create_task()
    res = c.offer(alice)
    with pytest.raises(NotFoundError):
        c.ws.reject_reservation(res.sid, activity_sid=MISSING["activity"])
    assert task.status is TaskStatus.RESERVED and c.offer(alice) is res


@pytest.mark.parametrize("expression", ["skills HAS", "level >>= 3", "(a == 1", "a == 'open"])
def test_a_bad_queue_expression_is_a_validation_error(expression: str) -> None:
    c = build()
    with pytest.raises(ValidationError):
        c.ws.add_queue("broken", target_workers=expression)
    assert c.ws.queue_by_name("broken") is None


@pytest.mark.parametrize(
    "target",
    [
        {"queue": "support", "expression": "worker.level >"},
        {"queue": "support", "skip_if": "workers.available =="},
        {"queue": "nowhere"},
        {"queue": "support", "timeout": -1},
        {"queue": "support", "order_by": "worker.level SIDEWAYS"},
        {"queue": "support", "colour": "blue"},
    ],
)
def test_a_bad_workflow_target_is_a_validation_error(target: dict[str, Any]) -> None:
    c = build()
    configuration = {"task_routing": {"filters": [{"expression": "1==1", "targets": [target]}]}}
    with pytest.raises(ValidationError) as caught:
        c.ws.add_workflow("broken", configuration)
    assert caught.value.error_id == "workflow_invalid"
    assert caught.value.details["path"][:3] == ["task_routing", "filters", 0]


def test_a_bad_filter_expression_or_json_is_a_validation_error() -> None:
    c = build()
    with pytest.raises(ValidationError):
        c.ws.add_workflow("bad filter", {"task_routing": {"filters": [{"expression": "type ==", "targets": []}]}})
    with pytest.raises(ValidationError):
        c.ws.add_workflow("bad json", '{"task_routing": ')
    with pytest.raises(ValidationError):
        c.ws.update_workflow(c.workflow.sid, configuration={"task_routing": {"filters": "all"}})


def test_a_task_no_filter_matches_without_a_default_is_refused() -> None:
    c = build({"support": "1==1"}, targets=[{"queue": "support"}], default=None)
    c.ws.update_workflow(
        c.workflow.sid,
        configuration={"task_routing": {"filters": [{"expression": "type == 'x'", "targets": [{"queue": "support"}]}]}},
    )
    with pytest.raises(ValidationError) as caught:
        c.create_task(type="y")
    assert caught.value.error_id == "task_not_routable"
    assert c.ws.tasks == {}


def assigned(c: Center) -> tuple[str, str]:
    alice = c.add_worker("alice")
    task = c.create_task()
    return task.sid, c.assign(alice).sid


@pytest.mark.parametrize(
    ("status", "call"),
    [
        ("accepted", lambda c, task, res: c.ws.accept_reservation(res)),
        ("accepted", lambda c, task, res: c.ws.reject_reservation(res)),
        ("assigned", lambda c, task, res: c.ws.cancel_task(task)),
        ("assigned", lambda c, task, res: c.ws.update_task(task, assignment_status="canceled")),
        ("accepted", lambda c, task, res: c.ws.extend_wrapup(res, 10)),
    ],
)
def test_invalid_transitions_raise_invalid_state_naming_the_current_state(
    status: str, call: Callable[[Center, str, str], Any]
) -> None:
    c = build()
    task, res = assigned(c)
    with pytest.raises(InvalidStateError) as caught:
        call(c, task, res)
    assert caught.value.details["status"] == status
    assert status in caught.value.message
    assert c.ws.tasks[task].status is TaskStatus.ASSIGNED


@pytest.mark.parametrize(
    "call",
    [
        lambda c, res: c.ws.wrapup_reservation(res),
        lambda c, res: c.ws.complete_reservation(res),
    ],
)
def test_a_pending_offer_cannot_be_wrapped_up_or_completed(call: Callable[[Center, str], Any]) -> None:
    c = build()
    alice = c.add_worker("alice")
    task = c.create_task()
    res = c.offer(alice)
    with pytest.raises(InvalidStateError) as caught:
        call(c, res.sid)
    assert caught.value.details["status"] == "pending"
    assert task.status is TaskStatus.RESERVED and alice.channels["voice"].used == 1


def test_completing_a_pending_task_through_update_task_is_an_invalid_state() -> None:
    c = build()
    task = c.create_task()
    with pytest.raises(InvalidStateError) as caught:
        c.ws.update_task(task.sid, assignment_status="completed")
    assert caught.value.details["status"] == "pending"


def test_finished_tasks_and_reservations_are_gone() -> None:
    c = build()
    task_sid, res_sid = assigned(c)
    c.ws.complete_reservation(res_sid)
    with pytest.raises(NotFoundError):
        c.ws.complete_reservation(res_sid)
    with pytest.raises(NotFoundError):
        c.ws.cancel_task(task_sid)


def test_resource_conflicts() -> None:
    c = build()
    c.add_worker("alice")
    with pytest.raises(ConflictError) as caught:
        c.add_worker("alice")
    assert caught.value.error_id == "worker_exists"
    c.create_task()
    with pytest.raises(ConflictError) as caught:
        c.ws.delete_queue(c.queues["support"].sid)
    assert caught.value.error_id == "in_use"
    with pytest.raises(ValidationError):
        c.create_task(channel="fax")
    with pytest.raises(ValidationError):
        c.create_task(timeout=0)
