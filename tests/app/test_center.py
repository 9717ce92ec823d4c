"""The running center: changes reach the store and the bus, and a restart loses nothing."""

from __future__ import annotations

import asyncio
from typing import Any

from callboard.app.center import Center
from callboard.core.clock import VirtualClock
from callboard.routing.model import ReservationStatus, TaskStatus
from callboard.routing.workspace import Workspace
from conftest import Database

CONFIG = {
    "task_routing": {
        "filters": [{"expression": 'department == "sales"', "targets": [{"queue": "sales", "timeout": 30}]}],
        "default_filter": {"queue": "sales"},
    }
}


def build(ws: Workspace) -> None:
    ws.add_activity("Offline", False)
    available = ws.add_activity("Available", True)
    ws.add_channel("voice", capacity=1)
    ws.add_queue("sales", target_workers='skills HAS "sales"', wrapup_seconds=30)
    ws.add_workflow("inbound", CONFIG, task_reservation_timeout=20)
    ws.add_worker("ann", attributes={"skills": ["sales"]}, activity_sid=available.sid)
    ws.add_worker("bob", attributes={"skills": ["sales"]}, activity_sid=available.sid)


async def test_a_restart_brings_back_tasks_offers_and_workers(database: Database) -> None:
    clock = VirtualClock()
    store = await database.open()
    await store.migrate()
    center = await Center.start(store, clock, timers=False)
    ws = await center.create_workspace("acme")
    await center.run(ws.sid, build)
    workflow = next(iter(ws.workflows))
    first = await center.run(
        ws.sid, lambda w: w.create_task(workflow, attributes={"department": "sales"}, channel="voice")
    )
    clock.advance(5)
    second = await center.run(
        ws.sid, lambda w: w.create_task(workflow, attributes={"department": "sales"}, priority=3, channel="voice")
    )
    clock.advance(5)
    third = await center.run(
        ws.sid, lambda w: w.create_task(workflow, attributes={"department": "sales"}, channel="voice")
    )
    accepted = next(r for r in ws.reservations.values() if r.task_sid == first.sid)
    await center.run(ws.sid, lambda w: w.accept_reservation(accepted.sid))
    pending = next(r for r in ws.reservations.values() if r.task_sid == second.sid)
    before = {t.sid: (t.status, t.priority, t.date_created, t.seq) for t in ws.tasks.values()}
    await center.stop()
    await store.close()

    clock.advance(3)
    store = await database.open()
    center = await Center.start(store, clock, timers=False)
    again = center.workspace("acme")
    after = {t.sid: (t.status, t.priority, t.date_created, t.seq) for t in again.tasks.values()}
    assert after == before
    assert again.tasks[third.sid].status is TaskStatus.PENDING
    assert again.reservations[pending.sid].status is ReservationStatus.PENDING
    ann_or_bob = again.workers[accepted.worker_sid]
    assert ann_or_bob.channels["voice"].used == 1
    # the ringing offer still times out on schedule after the restart, and the waiting task moves up
    clock.advance(20)
    await center.tick()
    assert again.tasks[second.sid].status is TaskStatus.PENDING
    assert again.workers[pending.worker_sid].activity_sid == again.timeout_activity_sid
    events = await store.events(again.sid, event_types=["reservation.timeout"])
    assert [e.resource_sid for _, e in events] == [pending.sid]
    await center.stop()
    await store.close()


async def test_run_persists_even_when_the_operation_fails_halfway(database: Database) -> None:
    store = await database.open()
    await store.migrate()
    center = await Center.start(store, VirtualClock(), timers=False)
    try:
        ws = await center.create_workspace("acme")
        await center.run(ws.sid, build)
        sub = center.bus.subscribe()

        def create_then_fail(w: Workspace) -> None:
            w.add_activity("Lunch", False)
            w.activity("WAnope")

        try:
            await center.run(ws.sid, create_then_fail)
        except Exception as exc:
            assert getattr(exc, "error_id", None) == "activity_not_found"
        stored, _ = await store.list(ws.sid, "activity", filters={"friendly_name": "Lunch"})
        assert len(stored) == 1
        event = sub.get_nowait()
        assert event is not None and event.name == "activity.created"
    finally:
        await center.stop()
        await store.close()


async def test_deleting_a_workspace_removes_its_users_and_names_stay_unique(database: Database) -> None:
    store = await database.open()
    await store.migrate()
    center = await Center.start(store, VirtualClock(), timers=False)
    try:
        acme = await center.create_workspace("acme")
        other = await center.create_workspace("other")
        await store.create_user("agent1", "x", "agent", workspace_sid=acme.sid)
        await store.create_user("root", "x", "admin")
        try:
            await center.update_workspace(other.sid, friendly_name="acme")
        except Exception as exc:
            assert getattr(exc, "error_id", None) == "workspace_exists"
        else:
            raise AssertionError("renaming onto an existing name must fail")
        assert other.friendly_name == "other"
        await center.delete_workspace(acme.sid)
        assert [u["username"] for u in await store.list_users()] == ["root"]
        assert [w["friendly_name"] for w in await store.load_workspaces()] == ["other"]
    finally:
        await center.stop()
        await store.close()


async def test_operations_that_queue_up_during_a_commit_go_to_the_store_together_and_in_order(
    database: Database,
) -> None:
    store = await database.open()
    await store.migrate()
    center = await Center.start(store, VirtualClock(), timers=False)
    commits: list[int] = []
    real_commit = store.commit

    async def counted(workspace_sid: str, upserts: Any, deletes: Any, events: Any) -> None:
        commits.append(len(events))
        await real_commit(workspace_sid, upserts, deletes, events)

    try:
        ws = await center.create_workspace("acme")
        await center.run(ws.sid, build)
        workflow = next(iter(ws.workflows))
        store.commit = counted  # type: ignore[method-assign]
        sub = center.bus.subscribe()

        def create(w: Workspace) -> str:
            return w.create_task(workflow, attributes={"department": "sales"}, channel="voice").sid

        sids = await asyncio.gather(*(center.run(ws.sid, create) for _ in range(40)))
        assert len(commits) < 40  # grouped: the runs that queued behind a commit shared the next one
        stored, _ = await store.list(ws.sid, "task", limit=100)
        assert {t["sid"] for t in stored} == set(sids)
        logged = [e for _, e in await store.events(ws.sid, event_types=["task.created"])]
        assert [e.resource_sid for e in logged] == sids  # in the order the engine made them
        published = [e.resource_sid for e in iter(sub.get_nowait, None) if e.name == "task.created"]
        assert published == sids
    finally:
        await center.stop()
        await store.close()


async def test_a_restart_keeps_the_handle_times_wait_estimates_need(database: Database) -> None:
    clock = VirtualClock()
    store = await database.open()
    await store.migrate()
    center = await Center.start(store, clock, timers=False)
    ws = await center.create_workspace("acme")
    await center.run(ws.sid, build)
    workflow = next(iter(ws.workflows))
    queue = next(iter(ws.queues))
    for handled in (100.0, 200.0):  # one call handled (talk and wrap-up) for 100 s, the next for 200 s
        task = await center.run(ws.sid, lambda w: w.create_task(workflow, attributes={}, channel="voice"))
        offer = next(r for r in ws.reservations.values() if r.task_sid == task.sid)
        await center.run(ws.sid, lambda w, sid=offer.sid: w.accept_reservation(sid))
        clock.advance(handled)
        await center.run(ws.sid, lambda w, sid=offer.sid: w.complete_reservation(sid))
    learned = ws.handle_times.get(queue, "voice")
    assert learned is not None and learned.count == 2 and learned.mean == 150.0
    await center.stop()
    await store.close()

    clock.advance(60)
    store = await database.open()
    center = await Center.start(store, clock, timers=False)
    again = center.workspace("acme").handle_times.get(queue, "voice")
    assert again is not None and (again.count, again.mean, again.mean_square) == (2, 150.0, learned.mean_square)
    await center.stop()
    await store.close()
