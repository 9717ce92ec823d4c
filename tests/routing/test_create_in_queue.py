"""A task put straight in a queue (or for one worker in it) when it is created: a call an agent places, a
consultation of a queue. The workflow's filters are not run, and nobody else is offered it, not even for a
moment within the same step."""

from __future__ import annotations

import pytest
from builders import build, names, of

from callboard.core import events as ev
from callboard.core.errors import NotFoundError, ValidationError
from callboard.routing.model import ReservationStatus, TaskStatus


def test_a_task_for_a_worker_is_offered_to_that_worker_only() -> None:
    # The workflow sends every task to "sales", where ann (longest idle) would get it; the task is for bob.
    c = build({"sales": "skill == 'sales'", "outbound": "1==1"}, targets=[{"queue": "sales"}], default=None)
    ann = c.add_worker("ann", skill="sales")
    c.clock.advance(5)
    bob = c.add_worker("bob", skill="sales")
    c.events()
    task = c.ws.create_task(
        c.workflow.sid, channel="voice", queue_sid=c.queues["outbound"].sid, worker_sid=bob.sid, attributes={"n": 1}
    )
    assert c.queue_of(task) == "outbound" and task.status is TaskStatus.RESERVED
    assert c.offers(ann) == [] and c.offered_tasks(bob) == [task.sid]
    events = c.events()
    assert [e.data["worker_sid"] for e in of(events, ev.RESERVATION_CREATED)] == [bob.sid]
    assert ev.WORKFLOW_ENTERED not in names(events) and ev.TASK_TRANSFER_INITIATED not in names(events)
    c.ws.accept_reservation(c.offer(bob).sid)
    assert task.status is TaskStatus.ASSIGNED


def test_a_task_for_a_busy_worker_waits_for_that_worker_and_nobody_else_gets_it() -> None:
    c = build({"support": "1==1"})
    ann = c.add_worker("ann")
    bob = c.add_worker("bob")
    support = c.queues["support"].sid
    first = c.ws.create_task(c.workflow.sid, channel="voice", queue_sid=support, worker_sid=bob.sid)
    c.assign(bob)
    second = c.ws.create_task(c.workflow.sid, channel="voice", queue_sid=support, worker_sid=bob.sid)
    assert first.status is TaskStatus.ASSIGNED and second.status is TaskStatus.PENDING
    assert c.offers(ann) == []
    c.ws.complete_reservation(c.reservations(bob, ReservationStatus.ACCEPTED)[0].sid)
    assert c.offered_tasks(bob) == [second.sid] and c.offers(ann) == []


def test_a_task_put_in_a_queue_needs_no_matching_filter() -> None:
    # No filter matches and there is no default filter: created by the workflow, the task is refused.
    c = build(
        {"sales": "1==1", "billing": "1==1"},
        configuration={"task_routing": {"filters": [{"expression": "x == 1", "targets": [{"queue": "sales"}]}]}},
    )
    with pytest.raises(ValidationError) as refused:
        c.create_task()
    assert refused.value.error_id == "task_not_routable"
    ann = c.add_worker("ann")
    task = c.ws.create_task(c.workflow.sid, channel="voice", queue_sid=c.queues["billing"].sid)
    assert c.queue_of(task) == "billing" and c.offered_tasks(ann) == [task.sid]


def test_bad_targets_are_refused_and_nothing_is_created() -> None:
    c = build()
    worker = c.add_worker("ann")
    c.events()
    with pytest.raises(ValidationError) as no_queue:
        c.ws.create_task(c.workflow.sid, channel="voice", worker_sid=worker.sid)
    assert no_queue.value.error_id == "transfer_target_missing"
    with pytest.raises(NotFoundError):
        c.ws.create_task(c.workflow.sid, channel="voice", queue_sid="WQmissing")
    with pytest.raises(NotFoundError):
        c.ws.create_task(c.workflow.sid, channel="voice", queue_sid=c.queues["support"].sid, worker_sid="WKmissing")
    assert c.ws.tasks == {} and c.events() == []
