"""The routing engine's own records go through the store unchanged, and an engine restores from them."""

from __future__ import annotations

from typing import Any

from callboard.core.clock import VirtualClock
from callboard.routing.records import record_of, restore_workspace, workspace_record
from callboard.routing.workspace import Workspace
from callboard.storage import Store


async def commit_changes(store: Store, ws: Workspace) -> None:
    touched, deleted = ws.drain_changes()
    await store.commit(ws.sid, [record_of(obj) for obj in touched.values()], deleted, ws.drain_events())


def snapshot(ws: Workspace) -> dict[str, list[dict[str, Any]]]:
    objects = [
        *ws.activities.values(),
        *ws.channels.values(),
        *ws.workers.values(),
        *ws.queues.values(),
        *ws.workflows.values(),
        *ws.tasks.values(),
        *ws.reservations.values(),
    ]
    out: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        kind, record = record_of(obj)
        out.setdefault(kind, []).append(record)
    return {kind: sorted(records, key=lambda r: r["sid"]) for kind, records in out.items()}


async def test_an_engine_restores_from_the_store(store: Store) -> None:
    clock = VirtualClock()
    ws = Workspace(clock, friendly_name="center")
    available = ws.add_activity("Available", True)
    offline = ws.add_activity("Offline", False)
    ws.configure(default_activity_sid=offline.sid, timeout_activity_sid=offline.sid)
    ws.add_channel("voice")
    queue = ws.add_queue("support", target_workers="'en' IN worker.languages")
    workflow = ws.add_workflow("main", {"task_routing": {"filters": [], "default_filter": {"queue": queue.sid}}})
    alice = ws.add_worker("alice", attributes={"languages": ["en"]}, activity_sid=available.sid)
    await store.save_workspace(workspace_record(ws))
    await commit_changes(store, ws)

    clock.advance(5.0)
    first = ws.create_task(workflow.sid, channel="voice", attributes={"language": "en"})
    ws.create_task(workflow.sid, channel="voice", attributes={"language": "en"}, priority=5)
    clock.advance(2.0)
    (offer,) = [r for r in ws.reservations.values() if r.task_sid == first.sid]
    ws.accept_reservation(offer.sid)
    await commit_changes(store, ws)

    saved = await store.load_live(ws.sid)
    assert {k: sorted(v, key=lambda r: r["sid"]) for k, v in saved.items() if v} == snapshot(ws)
    (workspace,) = await store.load_workspaces()
    restored = restore_workspace(clock, workspace, saved)
    assert snapshot(restored) == snapshot(ws)
    assert restored.worker(alice.sid).channels["voice"].used == 1
    assert [e.name for _, e in await store.events(ws.sid, event_types=["task.created"])] == ["task.created"] * 2
