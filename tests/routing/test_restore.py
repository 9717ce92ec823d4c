"""Rebuilding an engine from its records: live tasks, offers and workers come back, and their timers still fire."""

from __future__ import annotations

from typing import Any

from builders import Center, build

from callboard.core import events as ev
from callboard.core.clock import VirtualClock
from callboard.routing.model import ReservationStatus, TaskStatus
from callboard.routing.records import Record, record_of, restore_workspace, workspace_record
from callboard.routing.workspace import Workspace


def records(ws: Workspace) -> dict[str, list[Record]]:
    """A record of every object the engine holds, by kind, as a store would keep them."""
    out: dict[str, list[Record]] = {}
    tables: list[dict[str, Any]] = [ws.activities, ws.channels, ws.workers, ws.queues, ws.workflows]
    tables += [ws.tasks, ws.reservations]
    for table in tables:
        for obj in table.values():
            kind, record = record_of(obj)
            out.setdefault(kind, []).append(record)
    return out


def by_sid(recs: dict[str, list[Record]]) -> dict[str, dict[str, Record]]:
    return {kind: {r["sid"]: r for r in rows} for kind, rows in recs.items()}


def restore(c: Center) -> Center:
    """The same center rebuilt from records, on its own clock set to the same time."""
    clock = VirtualClock(c.clock.now())
    ws = restore_workspace(clock, workspace_record(c.ws), records(c.ws))
    queues = {name: ws.queues[q.sid] for name, q in c.queues.items()}
    return Center(clock, ws, c.activities, queues, ws.workflows[c.workflow.sid], c.start)


def busy_center() -> tuple[Center, dict[str, str]]:
    """At 15 s: a pending task in its first step, a ringing chat, an assigned call, a call in wrap-up."""
    c = build(
        {"support": {"target_workers": "team == 'support'", "wrapup_seconds": 30}, "overflow": "team == 'backup'"},
        targets=[{"queue": "support", "timeout": 60}],
        default="overflow",
    )
    c.ws.update_queue(c.queues["support"].sid, post_work_activity_sid=c.activities["Break"])
    alice = c.add_worker("alice", team="support")
    bob = c.add_worker("bob", team="support")
    assigned = c.create_task(kind="assigned")
    c.assign(alice)
    wrapping = c.create_task(kind="wrapping")
    bob_res = c.assign(bob)
    c.advance(10)
    c.ws.wrapup_reservation(bob_res.sid)  # wrap-up ends at 40 s
    reserved = c.create_task(channel="chat", kind="reserved")  # rings alice until 130 s
    pending = c.create_task(priority=3, kind="pending")  # escalates at 70 s
    c.advance(5)
    c.events()
    sids = {"assigned": assigned.sid, "wrapping": wrapping.sid, "reserved": reserved.sid, "pending": pending.sid}
    return c, sids | {"alice": alice.sid, "bob": bob.sid}


def test_restored_records_are_the_records_taken() -> None:
    c, _ = busy_center()
    r = restore(c)
    assert by_sid(records(r.ws)) == by_sid(records(c.ws))
    assert workspace_record(r.ws) == workspace_record(c.ws)


def test_tasks_come_back_with_their_age_priority_status_and_queue() -> None:
    c, sids = busy_center()
    r = restore(c)
    for name, status in [
        ("assigned", TaskStatus.ASSIGNED),
        ("wrapping", TaskStatus.WRAPPING),
        ("reserved", TaskStatus.RESERVED),
        ("pending", TaskStatus.PENDING),
    ]:
        before, after = c.ws.tasks[sids[name]], r.ws.tasks[sids[name]]
        assert after.status is status
        assert (after.date_created, after.seq, after.priority) == (before.date_created, before.seq, before.priority)
        assert after.queue_sid == before.queue_sid
    assert r.ws.tasks[sids["pending"]].priority == 3
    assert [t.sid for t in r.ws.waiting_tasks(r.queues["support"].sid)] == [sids["pending"]]


def test_workers_come_back_with_their_activity_and_used_capacity() -> None:
    c, sids = busy_center()
    r = restore(c)
    alice, bob = r.ws.workers[sids["alice"]], r.ws.workers[sids["bob"]]
    assert r.activity_of(alice) == "Available" and r.activity_of(bob) == "Available"
    assert (alice.channels["voice"].used, alice.channels["chat"].used) == (1, 1)
    assert (bob.channels["voice"].used, bob.channels["chat"].used) == (1, 0)
    assert [res.task_sid for res in r.offers(alice)] == [sids["reserved"]]
    assert alice.last_idle == c.ws.workers[alice.sid].last_idle


def test_restored_timers_fire_wrapup_step_and_reservation_timeout() -> None:
    c, sids = busy_center()
    r = restore(c)
    bob, alice = r.ws.workers[sids["bob"]], r.ws.workers[sids["alice"]]
    r.events()

    r.advance_to(39.9)
    assert r.ws.tasks[sids["wrapping"]].status is TaskStatus.WRAPPING
    r.advance_to(40)  # wrap-up ends; bob goes to the post-work activity
    assert sids["wrapping"] not in r.ws.tasks
    assert r.activity_of(bob) == "Break"
    assert bob.channels["voice"].used == 0

    r.advance_to(69.9)
    assert r.queue_of(r.ws.tasks[sids["pending"]]) == "support"
    r.advance_to(70)  # the first step ends 60 s after the task entered the workflow
    assert r.queue_of(r.ws.tasks[sids["pending"]]) == "overflow"
    assert ev.WORKFLOW_TIMEOUT in r.event_names()

    [offer] = r.offers(alice)
    r.advance_to(129.9)
    assert offer.status is ReservationStatus.PENDING
    r.advance_to(130)
    assert offer.status is ReservationStatus.TIMEOUT
    assert r.activity_of(alice) == "Missed"
    assert r.ws.tasks[sids["reserved"]].status is TaskStatus.PENDING


def test_a_restored_engine_behaves_like_the_original() -> None:
    c, sids = busy_center()
    r = restore(c)
    for center in (c, r):
        center.add_worker("backup", team="backup", chat=1)
        center.ws.complete_reservation(center.reservations(center.ws.workers[sids["alice"]])[0].sid)
        for when in (20, 45, 70, 100, 130, 200):
            center.advance_to(when)

    def trace(center: Center) -> list[tuple[str, str]]:
        return [(e.name, e.resource_sid) for e in center.events() if e.resource_type != "worker"]

    def state(center: Center) -> tuple[object, ...]:
        tasks = {t.sid: (t.status, t.queue_sid, t.priority) for t in center.ws.tasks.values()}
        workers = {
            w.friendly_name: (center.activity_of(w), {n: ch.used for n, ch in w.channels.items()})
            for w in center.ws.workers.values()
        }
        return tasks, workers

    assert [name for name, _ in trace(c)] == [name for name, _ in trace(r)]
    assert state(c) == state(r)


def test_a_task_whose_step_ended_while_ringing_moves_when_the_restored_offer_ends() -> None:
    c = build(
        {"support": "team == 'support'", "overflow": "team == 'backup'"},
        targets=[{"queue": "support", "timeout": 30}],
        default="overflow",
    )
    alice = c.add_worker("alice", team="support")
    task = c.create_task()
    c.advance(40)  # the step ended at 30 s while alice's offer rings
    r = restore(c)
    r.ws.reject_reservation(r.offer(r.ws.workers[alice.sid]).sid)
    assert r.queue_of(r.ws.tasks[task.sid]) == "overflow"


def test_restored_ttl_and_rejections_hold() -> None:
    c = build()
    alice = c.add_worker("alice")
    task = c.create_task(timeout=300)
    c.ws.reject_reservation(c.offer(alice).sid)
    c.advance(100)
    r = restore(c)
    assert r.ws.tasks[task.sid].excluded_workers == {alice.sid}
    assert r.offers(r.ws.workers[alice.sid]) == []
    r.advance_to(299)
    assert r.ws.tasks[task.sid].status is TaskStatus.PENDING
    r.advance_to(300)
    assert task.sid not in r.ws.tasks


def test_a_restored_transferred_task_keeps_its_own_ttl() -> None:
    c = build({"support": "team == 'support'", "sales": "team == 'sales'"})
    helper = c.add_worker("helper", team="support")
    task = c.create_task(timeout=120)
    c.assign(helper)
    c.advance(100)
    new = c.ws.transfer_task(task.sid, queue_sid=c.queues["sales"].sid)
    c.advance(50)  # 150 s after the original was created, 50 s after the transfer
    assert new.status is TaskStatus.PENDING
    r = restore(c)
    r.advance(1)
    assert r.ws.tasks[new.sid].status is TaskStatus.PENDING
    r.advance_to(219)
    assert r.ws.tasks[new.sid].status is TaskStatus.PENDING
    r.advance_to(220)  # 120 s after the transfer
    assert new.sid not in r.ws.tasks


def test_a_restored_known_worker_task_waits_for_that_worker() -> None:
    c = build({"support": "1==1"}, targets=[{"queue": "support", "known_worker_sid": "task.manager"}])
    bob = c.add_worker("bob", activity="Break")
    task = c.create_task(manager=bob.sid)
    r = restore(c)
    alice = r.add_worker("alice")
    assert r.offers(alice) == []
    r.set_activity(r.ws.workers[bob.sid], "Available")
    assert r.offered_tasks(r.ws.workers[bob.sid]) == [task.sid]


def test_a_restored_task_on_a_timed_step_keeps_its_ttl() -> None:
    c = build(
        {"tier1": "tier == 1", "tier2": "tier == 2"},
        targets=[{"queue": "tier1", "timeout": 30}, {"queue": "tier2", "timeout": 30}],
    )
    task = c.create_task(timeout=45)
    c.advance(10)
    r = restore(c)
    r.advance_to(30)
    assert r.queue_of(r.ws.tasks[task.sid]) == "tier2"
    r.advance_to(44.9)
    assert r.ws.tasks[task.sid].status is TaskStatus.PENDING
    r.advance_to(45)
    assert task.sid not in r.ws.tasks
