"""Dispatch when one change frees several workers at once: the queue's strategy still decides."""

from __future__ import annotations

from callboard.core.clock import VirtualClock
from callboard.routing.workspace import Workspace


def test_workers_freed_together_are_chosen_by_the_strategy_not_by_their_order() -> None:
    clock = VirtualClock()
    ws = Workspace(clock, seed=1)
    ws.add_activity("Offline", False)
    training = ws.add_activity("Training", False)
    ws.add_channel("voice")
    ws.add_queue(
        "support",
        target_workers='skills HAS "support"',
        strategy="best_skill_match",
        strategy_options={"level_path": "levels.support"},
    )
    workflow = ws.add_workflow("in", {"task_routing": {"default_filter": {"queue": "support"}}})
    novice = ws.add_worker(
        "novice", attributes={"skills": ["support"], "levels": {"support": 1}}, activity_sid=training.sid
    )
    expert = ws.add_worker(
        "expert", attributes={"skills": ["support"], "levels": {"support": 9}}, activity_sid=training.sid
    )
    first = ws.create_task(workflow.sid, channel="voice")
    second = ws.create_task(workflow.sid, channel="voice")
    ws.drain_events()
    # The training ends for everyone at once: both workers are freed by one change.
    ws.update_activity(training.sid, available=True)
    offers = {r.task_sid: r.worker_sid for r in ws.reservations.values()}
    assert offers == {first.sid: expert.sid, second.sid: novice.sid}
