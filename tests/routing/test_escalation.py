"""Workflow steps: escalation on timeouts, skip_if, known workers, and a TaskRouter workflow imported as is."""

from __future__ import annotations

import json

from builders import Center, build, names, of

from callboard.core import events as ev
from callboard.routing.model import ReservationStatus, TaskStatus

TIERS = {"tier1": "tier == 1", "tier2": "tier == 2", "overflow": "tier == 3"}


def tiers(**options: object) -> Center:
    """tier1 for 30 s, then tier2 for 30 s, then the default filter's overflow queue."""
    return build(
        TIERS,
        targets=[{"queue": "tier1", "timeout": 30}, {"queue": "tier2", "timeout": 30}],
        default="overflow",
        **options,  # type: ignore[arg-type]
    )


# Escalation


def test_a_task_escalates_through_the_targets_then_to_the_default_filter() -> None:
    c = tiers()
    task = c.create_task()
    assert c.queue_of(task) == "tier1"
    c.events()

    c.advance(29.9)
    assert c.queue_of(task) == "tier1" and c.event_names() == []
    c.advance(0.1)
    assert c.queue_of(task) == "tier2"
    events = c.events()
    assert names(events) == [
        ev.TASK_QUEUE_TIMEOUT,
        ev.TASK_QUEUE_MOVED,
        ev.TASK_QUEUE_ENTERED,
        ev.WORKFLOW_TARGET_MATCHED,
    ]
    assert events[0].data["queue_sid"] == c.queues["tier1"].sid
    assert events[1].data == {"queue_sid": c.queues["tier2"].sid, "from_queue_sid": c.queues["tier1"].sid}
    assert events[3].data["target_index"] == 1

    c.advance(29.9)
    assert c.queue_of(task) == "tier2"
    c.advance(0.1)  # timeouts are cumulative: the second target ends 60 s after the task entered
    assert c.queue_of(task) == "overflow"
    events = c.events()
    assert names(events)[:2] == [ev.TASK_QUEUE_TIMEOUT, ev.WORKFLOW_TIMEOUT]
    assert ev.TASK_QUEUE_MOVED in names(events)
    assert task.status is TaskStatus.PENDING

    third = c.add_worker("third", tier=3)
    assert c.offered_tasks(third) == [task.sid]


def test_each_tier_is_offered_the_task_only_while_it_is_there() -> None:
    c = tiers()
    one = c.add_worker("one", tier=1, activity="Break")
    two = c.add_worker("two", tier=2, activity="Break")
    task = c.create_task()
    c.advance(30)
    c.set_activity(one, "Available")
    assert c.offers(one) == []
    c.set_activity(two, "Available")
    assert c.offered_tasks(two) == [task.sid]


def test_a_clock_jump_runs_every_expired_step_at_once() -> None:
    c = tiers()
    task = c.create_task()
    c.advance(500)
    assert c.queue_of(task) == "overflow"
    assert of(c.events(), ev.TASK_QUEUE_TIMEOUT) != []


def test_timeouts_count_from_entering_the_workflow_not_the_step() -> None:
    # The first step ends while an offer rings; the task moves when the offer ends at 45 s, and the
    # second step still ends 60 s after the task entered the workflow, not 30 s after it entered tier2.
    c = tiers()
    one = c.add_worker("one", tier=1)
    task = c.create_task()
    c.advance(45)
    assert c.queue_of(task) == "tier1"
    c.ws.reject_reservation(c.offer(one).sid)
    assert c.queue_of(task) == "tier2"
    c.advance(14.9)
    assert c.queue_of(task) == "tier2"
    c.advance(0.1)
    assert c.queue_of(task) == "overflow"


def test_a_ringing_offer_delays_the_move_until_it_ends_unaccepted() -> None:
    c = tiers(reservation_timeout=20)
    one = c.add_worker("one", tier=1, activity="Break")
    task = c.create_task()
    c.advance(25)
    c.set_activity(one, "Available")
    res = c.offer(one)
    c.events()

    c.advance(10)  # the step ends at 30 s while the offer rings
    assert c.queue_of(task) == "tier1"
    assert ev.TASK_QUEUE_MOVED not in c.event_names()

    c.advance(10)  # the offer times out at 45 s
    assert res.status is ReservationStatus.TIMEOUT
    assert c.queue_of(task) == "tier2"
    events = c.events()
    assert names(events).index(ev.RESERVATION_TIMEOUT) < names(events).index(ev.TASK_QUEUE_MOVED)


def test_an_offer_accepted_after_the_step_ended_keeps_the_task() -> None:
    c = tiers()
    one = c.add_worker("one", tier=1)
    task = c.create_task()
    c.advance(40)
    c.assign(one)
    c.advance(100)
    assert task.status is TaskStatus.ASSIGNED and c.queue_of(task) == "tier1"
    assert of(c.events(), ev.TASK_QUEUE_MOVED) == []


def test_an_offer_canceled_after_the_step_ended_moves_the_task() -> None:
    c = tiers()
    one = c.add_worker("one", tier=1)
    two = c.add_worker("two", tier=2)
    c.create_task()
    c.advance(40)
    c.set_activity(one, "Break")
    assert len(c.offers(two)) == 1


def test_without_a_default_filter_the_task_stays_in_the_last_queue() -> None:
    c = build(TIERS, targets=[{"queue": "tier1", "timeout": 30}], default=None)
    task = c.create_task()
    c.advance(30)
    assert ev.WORKFLOW_TIMEOUT in c.event_names()
    assert c.queue_of(task) == "tier1"
    one = c.add_worker("one", tier=1)
    assert c.offered_tasks(one) == [task.sid]


def test_without_a_default_filter_a_task_ringing_at_the_last_timeout_stays_offerable() -> None:
    c = build(TIERS, targets=[{"queue": "tier1", "timeout": 30}], default=None)
    one = c.add_worker("one", tier=1)
    task = c.create_task()
    c.advance(40)
    c.ws.reject_reservation(c.offer(one).sid)
    assert c.queue_of(task) == "tier1"
    other = c.add_worker("other", tier=1)
    assert c.offered_tasks(other) == [task.sid]


def test_a_target_priority_applies_when_the_task_reaches_it() -> None:
    c = build(
        TIERS,
        targets=[{"queue": "tier1", "timeout": 30}, {"queue": "tier1", "priority": 9}],
    )
    task = c.create_task(priority=1)
    newer = c.create_task(priority=5)
    c.advance(29)
    assert (task.priority, newer.priority) == (1, 5)
    c.advance(1)
    assert (task.priority, newer.priority) == (9, 9)
    assert of(c.events(), ev.TASK_QUEUE_MOVED) == []
    one = c.add_worker("one", tier=1)
    assert c.offered_tasks(one) == [task.sid]


def test_a_target_expression_narrows_the_queue() -> None:
    c = build(
        {"support": "1==1"},
        targets=[
            {"queue": "support", "expression": "worker.level >= 3", "timeout": 30},
            {"queue": "support"},
        ],
    )
    junior = c.add_worker("junior", level=1)
    task = c.create_task()
    assert c.offers(junior) == []
    senior = c.add_worker("senior", level=5)
    assert c.offered_tasks(senior) == [task.sid]
    c.ws.reject_reservation(c.offer(senior).sid)
    c.advance(30)
    assert c.offered_tasks(junior) == [task.sid]


# skip_if


def skipping() -> Center:
    return build(
        TIERS,
        targets=[
            {"queue": "tier1", "timeout": 30, "skip_if": "workers.available == 0"},
            {"queue": "tier2", "timeout": 30, "skip_if": "workers.available == 0"},
            {"queue": "overflow"},
        ],
    )


def test_skip_if_skips_a_step_whose_queue_has_nobody_available() -> None:
    c = skipping()
    c.add_worker("one", tier=1, activity="Break")
    two = c.add_worker("two", tier=2)
    task = c.create_task()
    assert c.queue_of(task) == "tier2"
    assert [e.data["queue_sid"] for e in of(c.events(), ev.WORKFLOW_SKIPPED)] == [c.queues["tier1"].sid]
    assert c.offered_tasks(two) == [task.sid]


def test_skip_if_does_not_skip_when_an_offer_was_made_on_entering() -> None:
    c = skipping()
    one = c.add_worker("one", tier=1)
    task = c.create_task()
    assert c.offered_tasks(one) == [task.sid]
    c.set_activity(one, "Break")  # the offer is canceled; nobody in tier1 is available any more
    assert c.queue_of(task) == "tier1"
    assert of(c.events(), ev.WORKFLOW_SKIPPED) == []
    c.advance(30)
    assert c.queue_of(task) == "overflow"  # tier2 is skipped when the task reaches it


def test_skip_if_counts_available_members_even_when_they_are_busy() -> None:
    c = skipping()
    one = c.add_worker("one", tier=1)
    c.create_task()
    c.assign(one)
    task = c.create_task()
    assert c.queue_of(task) == "tier1"  # one is available, just busy
    assert of(c.events(), ev.WORKFLOW_SKIPPED) == []


def test_skip_if_counts_an_offer_made_in_the_same_dispatch_as_entering_the_step() -> None:
    # The clock jumps past the end of tier1 (30 s) and the end of two's wrap-up (35 s): the task enters
    # tier2 and two, freed, takes it. The step was entered with an offer, so it does not skip later when
    # two rejects and goes on a break.
    c = skipping()
    c.ws.update_queue(c.queues["tier2"].sid, wrapup_seconds=35)
    one = c.add_worker("one", tier=1)
    two = c.add_worker("two", tier=2)
    c.create_task()
    c.assign(one)  # one stays available but has no room
    c.ws.transfer_task(c.create_task().sid, queue_sid=c.queues["tier2"].sid)
    c.ws.wrapup_reservation(c.assign(two).sid)
    task = c.create_task()
    assert c.queue_of(task) == "tier1"

    c.advance(40)
    assert c.queue_of(task) == "tier2"
    assert c.offered_tasks(two) == [task.sid]
    c.ws.reject_reservation(c.offer(two).sid, activity_sid=c.activities["Break"])

    assert c.queue_of(task) == "tier2"
    assert of(c.events(), ev.WORKFLOW_SKIPPED) == []


# Known workers


def known(**target: object) -> Center:
    return build(
        {"support": "1==1"},
        targets=[{"queue": "support", "timeout": 30, **target}, {"queue": "support"}],
    )


def test_known_worker_sid_from_a_task_attribute() -> None:
    c = known(known_worker_sid="task.manager")
    alice = c.add_worker("alice")
    c.advance(1)
    bob = c.add_worker("bob")
    task = c.create_task(manager=bob.sid)
    assert c.offers(alice) == []
    assert c.offered_tasks(bob) == [task.sid]


def test_known_worker_friendly_name_from_a_task_attribute() -> None:
    c = known(known_worker_friendly_name="task.agent")
    alice = c.add_worker("alice")
    c.advance(1)
    bob = c.add_worker("bob")
    task = c.create_task(agent="bob")
    assert c.offers(alice) == []
    assert c.offered_tasks(bob) == [task.sid]


def test_a_known_worker_task_waits_for_that_worker_then_escalates() -> None:
    c = known(known_worker_sid="task.manager")
    alice = c.add_worker("alice")
    bob = c.add_worker("bob", activity="Break")
    task = c.create_task(manager=bob.sid)
    c.advance(29)
    assert c.offers(alice) == []
    c.advance(1)
    assert c.offered_tasks(alice) == [task.sid]


def test_a_known_worker_gets_the_task_when_becoming_available() -> None:
    c = known(known_worker_sid="task.manager")
    bob = c.add_worker("bob", activity="Break")
    task = c.create_task(manager=bob.sid)
    c.set_activity(bob, "Available")
    assert c.offered_tasks(bob) == [task.sid]


def test_an_unknown_known_worker_leaves_the_task_waiting_until_the_step_ends() -> None:
    c = known(known_worker_friendly_name="task.agent")
    alice = c.add_worker("alice")
    task = c.create_task(agent="nobody")
    assert c.offers(alice) == []
    c.advance(30)
    assert c.offered_tasks(alice) == [task.sid]


def test_a_task_waiting_for_a_deleted_worker_can_still_be_canceled() -> None:
    c = known(known_worker_sid="task.manager")
    bob = c.add_worker("bob", activity="Break")
    task = c.create_task(manager=bob.sid)
    c.ws.delete_worker(bob.sid)
    c.ws.cancel_task(task.sid)
    assert task.status is TaskStatus.CANCELED


# A TaskRouter workflow, as Twilio documents it


def twilio_center() -> tuple[Center, dict[str, str]]:
    c = build({"Just Support": "team == 'support'", "Just Sales": "team == 'sales'", "Everyone": "1==1"})
    sids = {name: q.sid for name, q in c.queues.items()}
    configuration = {
        "task_routing": {
            "filters": [
                {
                    "filter_friendly_name": "Support Calls",
                    "expression": 'type == "Support"',
                    "targets": [
                        {
                            "queue": sids["Just Support"],
                            "expression": "task.language IN worker.languages",
                            "priority": 5,
                            "timeout": 15,
                        },
                        {"timeout": 15},
                        {"queue": sids["Everyone"], "priority": 10},
                    ],
                },
                {
                    "filter_friendly_name": "Sales Calls",
                    "expression": 'type == "Sales"',
                    "targets": [{"queue": sids["Just Sales"], "timeout": 15}],
                },
            ],
            "default_filter": {"queue": sids["Everyone"]},
        }
    }
    c.workflow = c.ws.add_workflow("Twilio", json.dumps(configuration))
    c.events()
    return c, sids


def test_a_twilio_workflow_json_routes_by_filter() -> None:
    c, sids = twilio_center()
    sales = c.create_task(type="Sales")
    other = c.create_task(type="Billing")
    assert sales.queue_sid == sids["Just Sales"]
    assert other.queue_sid == sids["Everyone"]
    [entered] = of(c.events(), ev.WORKFLOW_ENTERED)[:1]
    assert entered.data["filter"] == "Sales Calls"


def test_a_twilio_workflow_json_escalates_as_documented() -> None:
    c, sids = twilio_center()
    english = c.add_worker("english", team="support", languages=["en"])
    c.add_worker("spanish", team="support", languages=["es"], activity="Break")
    task = c.create_task(type="Support", language="es")
    assert (task.queue_sid, task.priority) == (sids["Just Support"], 5)
    assert c.offers(english) == []  # only Spanish speakers for the first 15 s

    c.advance(15)  # the second target inherits the queue and drops the expression
    assert task.queue_sid == sids["Just Support"]
    assert of(c.events(), ev.TASK_QUEUE_MOVED) == []
    assert c.offered_tasks(english) == [task.sid]
    c.ws.reject_reservation(c.offer(english).sid, activity_sid=c.activities["Break"])

    c.advance(15)
    assert (task.queue_sid, task.priority) == (sids["Everyone"], 10)
    seller = c.add_worker("seller", team="sales")
    assert c.offered_tasks(seller) == [task.sid]


def test_a_twilio_workflow_json_sends_the_task_to_the_matching_worker_first() -> None:
    c, _ = twilio_center()
    english = c.add_worker("english", team="support", languages=["en"])
    spanish = c.add_worker("spanish", team="support", languages=["es", "en"])
    task = c.create_task(type="Support", language="es")
    assert c.offers(english) == []
    assert c.offered_tasks(spanish) == [task.sid]


# TTL across steps (the TTL deadline is pushed only once a step deadline no longer comes first)


def test_a_ttl_before_the_first_step_ends_cancels_the_task() -> None:
    c = tiers()
    task = c.create_task(timeout=20)
    c.advance(19.9)
    assert task.status is TaskStatus.PENDING
    c.advance(0.1)
    assert task.status is TaskStatus.CANCELED and task.reason == "Task TTL Exceeded"


def test_a_ttl_between_steps_cancels_the_escalated_task() -> None:
    c = tiers()
    task = c.create_task(timeout=45)
    c.advance(30)
    assert c.queue_of(task) == "tier2" and task.status is TaskStatus.PENDING
    c.advance(14.9)
    assert task.status is TaskStatus.PENDING
    c.advance(0.1)
    assert task.status is TaskStatus.CANCELED and task.reason == "Task TTL Exceeded"


def test_a_ttl_after_the_last_step_cancels_the_task_in_the_default_queue() -> None:
    c = tiers()
    task = c.create_task(timeout=100)
    c.advance(60)
    assert c.queue_of(task) == "overflow"
    c.advance(39.9)
    assert task.status is TaskStatus.PENDING
    c.advance(0.1)
    assert task.status is TaskStatus.CANCELED and task.reason == "Task TTL Exceeded"


def test_a_ttl_cancels_a_task_whose_step_ended_while_an_offer_rang() -> None:
    c = tiers(reservation_timeout=120)
    one = c.add_worker("one", tier=1)
    task = c.create_task(timeout=45)
    res = c.offer(one)
    c.advance(30)
    assert task.status is TaskStatus.RESERVED
    c.advance(15)
    assert task.status is TaskStatus.CANCELED and task.reason == "Task TTL Exceeded"
    assert res.status is ReservationStatus.CANCELED


def test_a_clock_jump_past_every_step_and_the_ttl_cancels_the_task() -> None:
    c = tiers()
    task = c.create_task(timeout=100)
    c.advance(500)
    assert task.status is TaskStatus.CANCELED and task.reason == "Task TTL Exceeded"
