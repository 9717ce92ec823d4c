"""A task's life: offer, accept, reject, reservation timeout, wrap-up, cancel and TTL, transfer, updates."""

from __future__ import annotations

import pytest
from builders import build, names, of

from callboard.core import events as ev
from callboard.routing.model import ReservationStatus, TaskStatus
from callboard.routing.workspace import TTL_EXCEEDED


def test_a_new_task_is_offered_to_an_available_worker_and_accepted() -> None:
    c = build()
    alice = c.add_worker("alice")
    c.events()

    task = c.create_task(type="support")

    assert names(c.events()) == [
        ev.TASK_CREATED,
        ev.WORKFLOW_ENTERED,
        ev.TASK_QUEUE_ENTERED,
        ev.WORKFLOW_TARGET_MATCHED,
        ev.RESERVATION_CREATED,
    ]
    assert task.status is TaskStatus.RESERVED
    res = c.offer(alice)
    c.ws.accept_reservation(res.sid)
    assert task.status is TaskStatus.ASSIGNED
    assert task.worker_sid == alice.sid
    assert res.status is ReservationStatus.ACCEPTED
    assert ev.RESERVATION_ACCEPTED in c.event_names()


def test_a_task_waits_while_nobody_is_available() -> None:
    c = build()
    bob = c.add_worker("bob", activity="Offline")
    task = c.create_task()
    assert task.status is TaskStatus.PENDING
    c.set_activity(bob, "Available")
    assert c.offered_tasks(bob) == [task.sid]


# Reservation timeout


def test_reservation_timeout_moves_the_worker_to_the_timeout_activity_and_offers_the_next_worker() -> None:
    c = build(reservation_timeout=30)
    alice = c.add_worker("alice")
    bob = c.add_worker("bob")
    c.advance(5)
    task = c.create_task()
    first = c.offer(alice)
    created, seq = task.date_created, task.seq
    c.events()

    c.advance(29.9)
    assert first.status is ReservationStatus.PENDING
    c.advance(0.1)

    assert first.status is ReservationStatus.TIMEOUT
    assert c.ws.timeout_activity_sid == c.activities["Missed"]
    assert c.activity_of(alice) == "Missed"
    assert (task.date_created, task.seq) == (created, seq)
    second = c.offer(bob)
    events = c.events()
    assert [e.data["worker_sid"] for e in of(events, ev.RESERVATION_TIMEOUT)] == [alice.sid]
    [offer] = of(events, ev.RESERVATION_CREATED)
    assert offer.resource_sid == second.sid
    assert offer.data["task_date_created"] == created
    assert offer.data["task_age"] == pytest.approx(30.0)


def test_a_timed_out_task_keeps_its_place_ahead_of_younger_tasks() -> None:
    c = build(reservation_timeout=30)
    alice = c.add_worker("alice")
    old = c.create_task()
    c.advance(10)
    young = c.create_task()
    c.advance(20)  # alice misses the old task
    bob = c.add_worker("bob")
    assert c.offered_tasks(bob) == [old.sid]
    assert young.status is TaskStatus.PENDING
    assert c.offers(alice) == []


# Reject


def test_a_rejected_task_goes_to_the_next_worker_and_never_back_to_the_rejecting_one() -> None:
    c = build()
    alice = c.add_worker("alice")
    bob = c.add_worker("bob")
    task = c.create_task()
    c.ws.reject_reservation(c.offer(alice).sid)

    assert ev.RESERVATION_REJECTED in c.event_names()
    assert c.activity_of(alice) == "Available"
    assert c.offered_tasks(alice) == []
    assert c.offered_tasks(bob) == [task.sid]

    c.ws.reject_reservation(c.offer(bob).sid)
    c.advance(60)
    c.set_activity(alice, "Break")
    c.set_activity(alice, "Available")
    assert task.status is TaskStatus.PENDING
    assert c.offers(alice) == [] and c.offers(bob) == []
    carol = c.add_worker("carol")
    assert c.offered_tasks(carol) == [task.sid]


def test_a_rejecting_worker_still_gets_other_tasks() -> None:
    c = build()
    alice = c.add_worker("alice")
    first = c.create_task()
    second = c.create_task()
    c.ws.reject_reservation(c.offer(alice).sid)
    assert c.offered_tasks(alice) == [second.sid]
    assert first.status is TaskStatus.PENDING


def test_reject_with_an_activity_moves_the_worker() -> None:
    c = build()
    alice = c.add_worker("alice")
    bob = c.add_worker("bob")
    task = c.create_task()
    c.ws.reject_reservation(c.offer(alice).sid, activity_sid=c.activities["Break"])
    assert c.activity_of(alice) == "Break"
    assert c.offered_tasks(bob) == [task.sid]


# Wrap-up


def test_wrapup_completes_after_the_queues_wrapup_seconds_and_applies_the_post_work_activity() -> None:
    c = build({"support": {"wrapup_seconds": 30}})
    c.ws.update_queue(c.queues["support"].sid, post_work_activity_sid=c.activities["Break"])
    alice = c.add_worker("alice")
    task = c.create_task()
    res = c.assign(alice)
    c.advance(100)
    c.ws.wrapup_reservation(res.sid)
    assert task.status is TaskStatus.WRAPPING
    assert res.status is ReservationStatus.WRAPPING
    assert ev.TASK_WRAPUP in c.event_names()

    c.advance(29)
    assert res.status is ReservationStatus.WRAPPING
    assert alice.channels["voice"].used == 1
    c.advance(1)

    assert res.status is ReservationStatus.COMPLETED
    assert task.status is TaskStatus.COMPLETED
    assert task.sid not in c.ws.tasks
    assert alice.channels["voice"].used == 0
    assert c.activity_of(alice) == "Break"
    assert alice.talk_seconds == pytest.approx(100)
    events = c.events()
    assert names(events)[:2] == [ev.RESERVATION_COMPLETED, ev.TASK_COMPLETED]


def test_a_wrapping_worker_takes_no_new_call_until_wrapup_ends() -> None:
    c = build({"support": {"wrapup_seconds": 30}})
    alice = c.add_worker("alice")
    c.create_task()
    c.ws.wrapup_reservation(c.assign(alice).sid)
    waiting = c.create_task()
    c.advance(20)
    assert c.offers(alice) == []
    c.advance(10)
    assert c.offered_tasks(alice) == [waiting.sid]


def test_extend_wrapup_pushes_the_automatic_completion_back() -> None:
    c = build({"support": {"wrapup_seconds": 30}})
    alice = c.add_worker("alice")
    c.create_task()
    res = c.ws.wrapup_reservation(c.assign(alice).sid)
    c.advance(20)
    c.ws.extend_wrapup(res.sid, 20)
    c.advance(10)  # the original deadline passes
    assert res.status is ReservationStatus.WRAPPING
    c.advance(19)
    assert res.status is ReservationStatus.WRAPPING
    c.advance(1)
    assert res.status is ReservationStatus.COMPLETED


def test_extend_wrapup_adds_up_and_leaves_an_unlimited_wrapup_unlimited() -> None:
    c = build({"support": {"wrapup_seconds": 30}})
    alice = c.add_worker("alice")
    c.create_task()
    res = c.ws.wrapup_reservation(c.assign(alice).sid)
    deadline = res.wrapup_deadline
    assert deadline is not None
    c.ws.extend_wrapup(res.sid, 10)
    c.ws.extend_wrapup(res.sid, 5)
    assert res.wrapup_deadline == deadline + 15

    unlimited = build({"support": {}})
    bob = unlimited.add_worker("bob")
    unlimited.create_task()
    other = unlimited.ws.wrapup_reservation(unlimited.assign(bob).sid)
    unlimited.ws.extend_wrapup(other.sid, 30)
    assert other.wrapup_deadline is None
    unlimited.advance(3600)
    assert other.status is ReservationStatus.WRAPPING


def test_explicit_completion_from_wrapping_and_from_accepted() -> None:
    c = build({"support": {"wrapup_seconds": 30}})
    alice = c.add_worker("alice", chat=2)
    one = c.create_task(channel="chat")
    two = c.create_task(channel="chat")
    first, second = c.offers(alice)
    c.ws.accept_reservation(first.sid)
    c.ws.accept_reservation(second.sid)
    c.ws.wrapup_reservation(first.sid)
    c.ws.complete_reservation(first.sid)
    c.ws.complete_reservation(second.sid, reason="resolved")
    assert one.status is TaskStatus.COMPLETED and two.status is TaskStatus.COMPLETED
    assert two.reason == "resolved"
    assert alice.channels["chat"].used == 0
    c.events()
    c.advance(60)  # the stale wrap-up deadline fires nothing
    assert c.event_names() == []


def test_no_wrapup_seconds_means_the_worker_wraps_up_until_told() -> None:
    c = build()
    alice = c.add_worker("alice")
    task = c.create_task()
    res = c.ws.wrapup_reservation(c.assign(alice).sid)
    c.advance(3600)
    assert res.status is ReservationStatus.WRAPPING
    c.ws.update_task(task.sid, assignment_status="completed")
    assert task.status is TaskStatus.COMPLETED


# Cancel and TTL


def test_task_ttl_cancels_a_waiting_task() -> None:
    c = build()
    task = c.create_task(timeout=60)
    c.advance(59.5)
    assert task.status is TaskStatus.PENDING
    c.advance(0.5)
    assert task.status is TaskStatus.CANCELED
    assert task.reason == TTL_EXCEEDED == "Task TTL Exceeded"
    [canceled] = of(c.events(), ev.TASK_CANCELED)
    assert canceled.data["reason"] == TTL_EXCEEDED
    assert task.sid not in c.ws.tasks


def test_task_ttl_cancels_a_ringing_task_and_its_offer() -> None:
    c = build(reservation_timeout=120)
    alice = c.add_worker("alice")
    task = c.create_task(timeout=60)
    res = c.offer(alice)
    c.advance(60)
    assert task.status is TaskStatus.CANCELED
    assert res.status is ReservationStatus.CANCELED
    assert alice.channels["voice"].used == 0
    assert c.activity_of(alice) == "Available"


def test_task_ttl_does_not_touch_an_assigned_task() -> None:
    c = build()
    alice = c.add_worker("alice")
    task = c.create_task(timeout=60)
    c.advance(10)
    c.assign(alice)
    c.advance(600)
    assert task.status is TaskStatus.ASSIGNED


def test_cancel_a_pending_task() -> None:
    c = build()
    task = c.create_task()
    c.ws.cancel_task(task.sid, "caller hung up")
    assert task.status is TaskStatus.CANCELED and task.reason == "caller hung up"
    alice = c.add_worker("alice")
    assert c.offers(alice) == []


def test_cancel_a_reserved_task_cancels_the_pending_offer() -> None:
    c = build()
    alice = c.add_worker("alice")
    task = c.create_task()
    other = c.create_task()
    res = c.offer(alice)
    c.events()
    c.ws.cancel_task(task.sid)
    assert res.status is ReservationStatus.CANCELED
    assert names(c.events())[:2] == [ev.RESERVATION_CANCELED, ev.TASK_CANCELED]
    assert c.offered_tasks(alice) == [other.sid]


def test_cancel_through_update_task() -> None:
    c = build()
    task = c.create_task()
    c.ws.update_task(task.sid, assignment_status="canceled", reason="abandoned")
    assert task.status is TaskStatus.CANCELED and task.reason == "abandoned"


# Transfer


def test_transfer_a_pending_task_to_another_queue() -> None:
    c = build({"support": "team == 'support'", "sales": "team == 'sales'"})
    task = c.create_task()
    c.events()
    c.ws.transfer_task(task.sid, queue_sid=c.queues["sales"].sid)
    assert c.queue_of(task) == "sales"
    events = c.events()
    assert ev.TASK_TRANSFER_INITIATED in names(events)
    [moved] = of(events, ev.TASK_QUEUE_MOVED)
    assert moved.data["from_queue_sid"] == c.queues["support"].sid
    seller = c.add_worker("seller", team="sales")
    assert c.offered_tasks(seller) == [task.sid]


def test_transfer_a_ringing_task_cancels_the_offer() -> None:
    c = build({"support": "team == 'support'", "sales": "team == 'sales'"})
    helper = c.add_worker("helper", team="support")
    seller = c.add_worker("seller", team="sales")
    task = c.create_task()
    res = c.offer(helper)
    c.ws.transfer_task(task.sid, queue_sid=c.queues["sales"].sid)
    assert res.status is ReservationStatus.CANCELED
    assert helper.channels["voice"].used == 0
    assert c.offered_tasks(seller) == [task.sid]


def test_transfer_to_a_specific_worker() -> None:
    c = build()
    alice = c.add_worker("alice")
    c.advance(1)
    bob = c.add_worker("bob", activity="Break")
    task = c.create_task()
    c.ws.transfer_task(task.sid, worker_sid=bob.sid)
    assert c.offers(alice) == []
    assert task.status is TaskStatus.PENDING
    c.set_activity(bob, "Available")
    assert c.offered_tasks(bob) == [task.sid]


def test_transfer_an_assigned_task_makes_a_new_task_of_the_same_age() -> None:
    c = build({"support": "team == 'support'", "sales": "team == 'sales'"})
    helper = c.add_worker("helper", team="support")
    task = c.create_task(priority=3, reason="billing")
    c.advance(40)
    res = c.assign(helper)
    c.advance(60)
    c.events()

    new = c.ws.transfer_task(task.sid, queue_sid=c.queues["sales"].sid)

    assert new.sid != task.sid
    assert (new.date_created, new.seq, new.priority) == (task.date_created, task.seq, 3)
    assert new.attributes["reason"] == "billing"
    assert new.attributes["transferred_from"] == {"task_sid": task.sid, "worker_sid": helper.sid}
    assert new.transferred_from == task.sid
    assert c.queue_of(new) == "sales" and new.status is TaskStatus.PENDING
    assert res.status is ReservationStatus.WRAPPING
    assert task.status is TaskStatus.WRAPPING
    seller = c.add_worker("seller", team="sales")
    [offer] = c.offers(seller)
    assert offer.task_sid == new.sid
    [created] = of(c.events(), ev.RESERVATION_CREATED)
    assert created.data["task_age"] == pytest.approx(100)


def test_a_transferred_task_goes_ahead_of_younger_tasks() -> None:
    c = build({"support": "team == 'support'", "sales": "team == 'sales'"})
    helper = c.add_worker("helper", team="support")
    old = c.create_task()
    c.assign(helper)
    c.advance(30)
    young = c.create_task()
    c.ws.transfer_task(young.sid, queue_sid=c.queues["sales"].sid)
    c.advance(30)
    new = c.ws.transfer_task(old.sid, queue_sid=c.queues["sales"].sid)
    seller = c.add_worker("seller", team="sales")
    assert c.offered_tasks(seller) == [new.sid]


# A worker going away mid-offer


def test_a_worker_going_unavailable_mid_offer_loses_it_to_the_next_worker() -> None:
    c = build()
    alice = c.add_worker("alice")
    bob = c.add_worker("bob")
    task = c.create_task()
    res = c.offer(alice)
    c.events()
    c.set_activity(alice, "Break")
    assert res.status is ReservationStatus.CANCELED
    assert alice.channels["voice"].used == 0
    assert c.offered_tasks(bob) == [task.sid]
    assert names(c.events())[:2] == [ev.WORKER_ACTIVITY_UPDATE, ev.RESERVATION_CANCELED]


def test_going_unavailable_keeps_accepted_work() -> None:
    c = build()
    alice = c.add_worker("alice")
    task = c.create_task()
    c.assign(alice)
    c.set_activity(alice, "Break")
    assert task.status is TaskStatus.ASSIGNED
    assert alice.channels["voice"].used == 1


# Updates


def test_new_attributes_reroute_a_pending_task() -> None:
    c = build(
        {"support": "team == 'support'", "sales": "team == 'sales'"},
        configuration={
            "task_routing": {
                "filters": [
                    {"filter_friendly_name": "sales", "expression": "type == 'sales'", "targets": [{"queue": "sales"}]},
                ],
                "default_filter": {"queue": "support"},
            }
        },
    )
    helper = c.add_worker("helper", team="support", activity="Break")
    task = c.create_task(type="sales")
    assert c.queue_of(task) == "sales"
    c.set_activity(helper, "Available")
    assert c.offers(helper) == []

    c.ws.update_task(task.sid, attributes={"type": "billing"})

    assert c.queue_of(task) == "support"
    assert c.offered_tasks(helper) == [task.sid]


def test_a_priority_update_reorders_the_queue() -> None:
    c = build()
    first = c.create_task()
    second = c.create_task()
    third = c.create_task()
    c.ws.update_task(third.sid, priority=5)
    alice = c.add_worker("alice")
    assert c.offered_tasks(alice) == [third.sid]
    c.ws.update_task(first.sid, priority=-1)
    c.ws.reject_reservation(c.offer(alice).sid)
    bob = c.add_worker("bob")
    assert c.offered_tasks(alice) == [second.sid]
    assert c.offered_tasks(bob) == [third.sid]
    assert first.status is TaskStatus.PENDING
