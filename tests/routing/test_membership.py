"""The idle arrays behind longest-idle: a worker's slot, a channel first used late, ties."""

from __future__ import annotations

from builders import build


def test_ties_in_idle_time_go_to_the_worker_added_first() -> None:
    c = build()
    first, second, third = (c.add_worker(name) for name in ("first", "second", "third"))
    assert first.last_idle == second.last_idle == third.last_idle
    c.create_task()
    c.create_task()
    assert [len(c.offers(w)) for w in (first, second, third)] == [1, 1, 0]


def test_a_worker_taking_a_deleted_workers_slot_is_not_offered_work_while_offline() -> None:
    c = build()
    gone = c.add_worker("gone")  # idle longest, then deleted: its slot is free
    c.advance(1)
    stays = c.add_worker("stays")
    c.ws.delete_worker(gone.sid)
    offline = c.add_worker("offline", activity="Offline")  # takes the free slot
    c.create_task()
    assert [len(c.offers(w)) for w in (stays, offline)] == [1, 0]


def test_a_channel_nobody_had_room_on_is_read_by_slot_once_someone_has() -> None:
    c = build()
    a = c.add_worker("a", chat=0)
    b = c.add_worker("b", chat=0)  # the second slot
    c.ws.delete_worker(a.sid)
    c.ws.set_worker_channel(b.sid, "chat", capacity=1)  # the chat array is made while the first slot is free
    c.advance(1)
    late = c.add_worker("late", chat=1)  # takes the free slot
    c.advance(1)
    newest = c.add_worker("newest", chat=1)  # a new slot
    tasks = [c.create_task(channel="chat") for _ in range(3)]
    assert [c.offered_tasks(w) for w in (b, late, newest)] == [[tasks[0].sid], [tasks[1].sid], [tasks[2].sid]]


def test_a_worker_idle_again_goes_to_the_back() -> None:
    c = build()
    a, b = c.add_worker("a"), c.add_worker("b")
    c.create_task()
    c.advance(1)
    c.ws.complete_reservation(c.assign(a).sid)  # a is idle again, since a second after b
    task = c.create_task()
    assert c.offered_tasks(b) == [task.sid]
    assert c.offers(a) == []


def test_idle_times_survive_the_arrays_growing() -> None:
    c = build()
    staff = []
    for i in range(150):  # past 64 and 128 slots: the idle arrays grow twice
        staff.append(c.add_worker(f"w{i}"))
        c.advance(1)
    tasks = [c.create_task() for _ in range(3)]
    assert [c.offered_tasks(w) for w in staff[:3]] == [[t.sid] for t in tasks]
    assert all(c.offers(w) == [] for w in staff[3:])
