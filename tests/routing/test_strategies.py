"""Which task a worker gets (priority, age, FIFO/LIFO) and which worker a task gets (the queue's strategy)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from builders import Center, build, of

from callboard.core import events as ev
from callboard.routing.model import ReservationStatus, TaskStatus, Worker
from callboard.routing.strategies import longest_idle

# Task order


def test_higher_priority_goes_first_then_the_oldest() -> None:
    c = build()
    old_low = c.create_task(priority=1)
    c.advance(1)
    old_high = c.create_task(priority=5)
    c.advance(1)
    young_high = c.create_task(priority=5)
    alice = c.add_worker("alice", voice=1)
    assert c.offered_tasks(alice) == [old_high.sid]
    c.ws.complete_reservation(c.assign(alice).sid)
    assert c.offered_tasks(alice) == [young_high.sid]
    c.ws.complete_reservation(c.assign(alice).sid)
    assert c.offered_tasks(alice) == [old_low.sid]


def test_lifo_queue_offers_the_newest_task_first() -> None:
    c = build({"support": {"task_order": "lifo"}})
    c.create_task()
    c.advance(1)
    newest = c.create_task()
    urgent = c.create_task(priority=2)
    alice = c.add_worker("alice")
    assert c.offered_tasks(alice) == [urgent.sid]
    c.ws.complete_reservation(c.assign(alice).sid)
    assert c.offered_tasks(alice) == [newest.sid]


def test_lifo_holds_when_several_tasks_come_back_at_once() -> None:
    c = build({"support": {"task_order": "lifo"}})
    alice = c.add_worker("alice", chat=2)
    c.advance(1)
    bob = c.add_worker("bob", chat=1)
    c.create_task(channel="chat")
    c.advance(1)
    newest = c.create_task(channel="chat")
    assert len(c.offers(alice)) == 2  # alice has been idle longest, and has room for both
    c.set_activity(alice, "Break")  # both offers come back together
    assert c.offered_tasks(bob) == [newest.sid]


def test_fifo_holds_when_several_tasks_come_back_at_once() -> None:
    c = build()
    alice = c.add_worker("alice", chat=2)
    c.advance(1)
    bob = c.add_worker("bob", chat=1)
    oldest = c.create_task(channel="chat")
    c.advance(1)
    c.create_task(channel="chat")
    c.set_activity(alice, "Break")
    assert c.offered_tasks(bob) == [oldest.sid]


def test_an_available_worker_gets_the_best_task_across_all_its_queues() -> None:
    c = build({"sales": "1==1", "support": "1==1", "vip": "vip == true"})
    route = {"sales": "sales", "support": "support", "vip": "vip"}
    c.ws.update_workflow(
        c.workflow.sid,
        configuration={
            "task_routing": {
                "filters": [{"expression": f"type == '{t}'", "targets": [{"queue": q}]} for t, q in route.items()],
            }
        },
    )
    c.create_task(type="vip")  # the oldest, but alice is not in that queue
    c.advance(1)
    sales = c.create_task(type="sales")
    c.advance(1)
    support = c.create_task(type="support")
    alice = c.add_worker("alice")
    assert c.offered_tasks(alice) == [sales.sid]
    c.ws.complete_reservation(c.assign(alice).sid)
    urgent = c.create_task(type="support", priority=3)
    c.ws.update_worker(alice.sid, activity_sid=c.activities["Break"])
    c.set_activity(alice, "Available")
    assert c.offered_tasks(alice) == [urgent.sid]
    c.ws.complete_reservation(c.assign(alice).sid)
    assert c.offered_tasks(alice) == [support.sid]


# Worker selection


def strategy(name: str, **queue: Any) -> Center:
    return build({"support": {"strategy": name, **queue}})


def serve(c: Center, count: int, **attributes: Any) -> list[str]:
    """Create tasks one at a time; whoever is offered each accepts and completes it at once."""
    served = []
    for _ in range(count):
        task = c.create_task(**attributes)
        [res] = [c.ws.reservations[s] for s in task.reservations]
        served.append(c.ws.workers[res.worker_sid].friendly_name)
        c.ws.accept_reservation(res.sid)
        c.ws.complete_reservation(res.sid)
    return served


def staff(c: Center, *names: str, **attributes: Any) -> list[Worker]:
    """Workers added one second apart, so the first has been idle longest."""
    workers = []
    for name in names:
        workers.append(c.add_worker(name, **attributes))
        c.advance(1)
    return workers


def test_longest_idle_is_the_default() -> None:
    c = build()
    _, bob = staff(c, "alice", "bob")  # idle since 0 s and 1 s
    assert serve(c, 1) == ["alice"]  # alice is idle again from 2 s
    assert serve(c, 1) == ["bob"]
    c.advance(1)
    c.set_activity(bob, "Break")
    c.set_activity(bob, "Available")  # back from a break: idle since 3 s
    assert serve(c, 1) == ["alice"]


def test_round_robin_takes_turns_in_worker_order() -> None:
    c = strategy("round_robin")
    staff(c, "a", "b", "c")
    assert serve(c, 7) == ["a", "b", "c", "a", "b", "c", "a"]


def test_round_robin_skips_a_busy_worker() -> None:
    c = strategy("round_robin")
    _, b, _ = staff(c, "a", "b", "c")
    c.set_activity(b, "Break")
    assert serve(c, 4) == ["a", "c", "a", "c"]


def test_fewest_tasks_prefers_the_worker_with_fewest_accepted_tasks() -> None:
    c = strategy("fewest_tasks")
    a, b, cc = staff(c, "a", "b", "c")
    c.set_activity(b, "Break")
    c.set_activity(cc, "Break")
    assert serve(c, 2) == ["a", "a"]
    c.set_activity(b, "Available")
    assert serve(c, 1) == ["b"]
    c.set_activity(cc, "Available")  # idle for the shortest time, but has no task yet
    assert serve(c, 2) == ["c", "b"]
    assert (a.tasks_assigned, b.tasks_assigned, cc.tasks_assigned) == (2, 2, 1)


def test_least_talk_time_prefers_the_worker_who_talked_least() -> None:
    c = strategy("least_talk_time")
    a, b = staff(c, "a", "b")
    for worker, seconds in ((a, 50), (b, 20)):
        c.create_task()
        res = c.assign(worker)
        c.advance(seconds)
        c.ws.complete_reservation(res.sid)
    assert (a.talk_seconds, b.talk_seconds) == (50, 20)
    assert serve(c, 1) == ["b"]


def test_ring_all_offers_everyone_and_the_first_accept_rescinds_the_rest() -> None:
    c = strategy("ring_all")
    a, b, cc = staff(c, "a", "b", "c")
    busy = c.add_worker("busy", activity="Break")
    task = c.create_task()
    assert [len(c.offers(w)) for w in (a, b, cc, busy)] == [1, 1, 1, 0]
    assert task.status is TaskStatus.RESERVED
    c.events()

    c.ws.accept_reservation(c.offer(b).sid)

    events = c.events()
    rescinded = of(events, ev.RESERVATION_RESCINDED)
    assert sorted(e.data["worker_sid"] for e in rescinded) == sorted([a.sid, cc.sid])
    assert task.status is TaskStatus.ASSIGNED and task.worker_sid == b.sid
    assert [w.channels["voice"].used for w in (a, b, cc)] == [0, 1, 0]
    assert c.reservations(a) == [] and c.reservations(cc) == []


def test_ring_all_keeps_ringing_the_others_when_one_rejects() -> None:
    c = strategy("ring_all")
    a, b = staff(c, "a", "b")
    task = c.create_task()
    c.ws.reject_reservation(c.offer(a).sid)
    assert task.status is TaskStatus.RESERVED
    assert c.offered_tasks(b) == [task.sid]
    late = c.add_worker("late")
    assert c.offered_tasks(late) == [task.sid]  # a newly available worker rings too


def test_ring_all_rings_a_worker_who_joins_while_everyone_rings() -> None:
    c = strategy("ring_all")
    (a,) = staff(c, "a")
    task = c.create_task()
    assert c.offered_tasks(a) == [task.sid]
    b = c.add_worker("b")
    assert c.offered_tasks(b) == [task.sid]


def test_ring_all_rings_a_worker_who_becomes_available() -> None:
    c = strategy("ring_all")
    a, b = staff(c, "a", "b")
    c.set_activity(b, "Break")
    task = c.create_task()
    c.set_activity(b, "Available")
    assert c.offered_tasks(a) == [task.sid]
    assert c.offered_tasks(b) == [task.sid]


def test_linear_always_prefers_the_first_worker() -> None:
    c = strategy("linear")
    staff(c, "a", "b", "c")
    assert serve(c, 3) == ["a", "a", "a"]


def test_max_reserved_workers_offers_several_workers_at_once() -> None:
    c = strategy("longest_idle", max_reserved_workers=2)
    a, b, cc = staff(c, "a", "b", "c")
    task = c.create_task()
    assert [len(c.offers(w)) for w in (a, b, cc)] == [1, 1, 0]
    c.ws.accept_reservation(c.offer(a).sid)
    assert c.offers(b) == []
    assert task.worker_sid == a.sid


def test_random_is_reproducible_with_a_seed_and_spreads_the_work() -> None:
    def run(seed: int) -> list[str]:
        c = build({"support": {"strategy": "random"}}, seed=seed)
        staff(c, "a", "b", "c")
        return serve(c, 60)

    first = run(7)
    assert first == run(7)
    assert set(first) == {"a", "b", "c"}
    assert min(Counter(first).values()) >= 8
    assert run(8) != first


def test_weighted_random_favours_the_heavier_worker() -> None:
    c = build({"support": {"strategy": "weighted_random"}}, seed=3)
    staff(c, "light", weight=1)
    staff(c, "heavy", weight=9)
    counts = Counter(serve(c, 400))
    assert counts["heavy"] > 320  # expected 360 of 400
    assert counts["light"] > 10


def test_weighted_random_reads_the_weight_path_option() -> None:
    c = build({"support": {"strategy": "weighted_random", "strategy_options": {"weight_path": "routing.w"}}}, seed=5)
    staff(c, "light", routing={"w": 1})
    staff(c, "heavy", routing={"w": 20})
    assert Counter(serve(c, 200))["heavy"] > 170


def test_best_skill_match_prefers_the_highest_level_of_the_required_skill() -> None:
    c = strategy("best_skill_match")
    staff(c, "novice", levels={"billing": 2, "tech": 9})
    staff(c, "expert", levels={"billing": 8})
    staff(c, "expert2", levels={"billing": 8})
    staff(c, "none")
    assert serve(c, 1, skill="billing") == ["expert"]
    assert serve(c, 1, skill="billing") == ["expert2"]  # tie on level: longest idle
    assert serve(c, 1, skill="tech") == ["novice"]


def test_best_skill_match_with_a_level_path_option() -> None:
    c = strategy("best_skill_match", strategy_options={"level_path": "skills.{task.topic}.level"})
    staff(c, "low", skills={"wifi": {"level": 1}})
    staff(c, "high", skills={"wifi": {"level": 4}})
    assert serve(c, 1, topic="wifi") == ["high"]


def test_order_by_on_the_target_goes_before_the_strategy() -> None:
    c = build({"support": "1==1"}, targets=[{"queue": "support", "order_by": "worker.experience DESC"}])
    staff(c, "junior", experience=1)
    staff(c, "senior", experience=10)
    staff(c, "unknown")
    assert serve(c, 2) == ["senior", "senior"]


def test_order_by_ascending_with_several_keys() -> None:
    c = build({"support": "1==1"}, targets=[{"queue": "support", "order_by": "worker.site, worker.rank DESC"}])
    staff(c, "b1", site="b", rank=9)
    staff(c, "a1", site="a", rank=1)
    staff(c, "a2", site="a", rank=2)
    assert serve(c, 1) == ["a2"]


@pytest.mark.parametrize(
    "name",
    ["longest_idle", "round_robin", "fewest_tasks", "least_talk_time", "linear", "random", "best_skill_match"],
)
def test_every_strategy_respects_the_target_expression(name: str) -> None:
    c = build({"support": {"strategy": name}}, targets=[{"queue": "support", "expression": "worker.ok == true"}])
    staff(c, "no", ok=False)
    yes = staff(c, "yes", ok=True)[0]
    task = c.create_task()
    assert [r.task_sid for r in c.reservations(yes, ReservationStatus.PENDING)] == [task.sid]


@pytest.mark.parametrize("idles", [[3.0, 1.0, 2.0], [1.0, 1.0, 1.0], [2.0, 1.0, 1.0, 5.0], [0.5]])
def test_longest_idle_picks_what_the_sort_key_picks_ties_included(idles: list[float]) -> None:
    workers = [
        Worker(
            sid=f"WK{i}",
            last_idle=idle,
            seq=seq,
            friendly_name=f"w{i}",
            attributes={},
            activity_sid="WA",
            channels={},
            date_created=0.0,
            date_updated=0.0,
            date_status_changed=0.0,
        )
        for i, (seq, idle) in enumerate(zip([7, 3, 9, 5], idles, strict=False))
    ]
    expected = min(workers, key=lambda w: (w.last_idle, w.seq))
    for order in (workers, workers[::-1]):
        assert longest_idle(list(order)) is expected


def test_a_new_task_with_offers_to_spare_waits_listed_for_the_next_free_worker() -> None:
    c = strategy("longest_idle", max_reserved_workers=2)
    (a,) = staff(c, "a")
    task = c.create_task()
    assert [len(c.offers(a))] == [1]
    assert [t.sid for t in c.ws.waiting_tasks(c.queues["support"].sid)] == [task.sid]  # one more offer to make
    b = c.add_worker("b")
    assert len(c.offers(b)) == 1
    assert list(c.ws.waiting_tasks(c.queues["support"].sid)) == []


def test_a_new_task_taken_at_once_is_not_left_listed() -> None:
    c = build()
    staff(c, "a")
    task = c.create_task()
    assert task.status is TaskStatus.RESERVED
    assert list(c.ws.waiting_tasks(c.queues["support"].sid)) == []
