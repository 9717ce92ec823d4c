"""Capacity per channel: offers, accepted and wrapping work all count; a worker never gets more than room."""

from __future__ import annotations

from builders import build

from callboard.routing.model import ReservationStatus, TaskStatus


def test_a_worker_takes_three_chats_and_one_call_at_once_and_no_more() -> None:
    c = build()
    alice = c.add_worker("alice", voice=1, chat=3)
    chats = [c.create_task(channel="chat") for _ in range(4)]
    calls = [c.create_task(channel="voice") for _ in range(2)]

    offered = set(c.offered_tasks(alice))
    assert offered == {t.sid for t in chats[:3]} | {calls[0].sid}
    assert (alice.channels["chat"].used, alice.channels["voice"].used) == (3, 1)
    assert chats[3].status is TaskStatus.PENDING and calls[1].status is TaskStatus.PENDING


def test_accepted_and_wrapping_work_keep_counting() -> None:
    c = build()
    alice = c.add_worker("alice", chat=2)
    first, second = (c.create_task(channel="chat") for _ in range(2))
    waiting = c.create_task(channel="chat")
    one, two = c.offers(alice)
    c.ws.accept_reservation(one.sid)
    c.ws.accept_reservation(two.sid)
    assert waiting.status is TaskStatus.PENDING
    c.ws.wrapup_reservation(one.sid)
    assert waiting.status is TaskStatus.PENDING
    assert alice.channels["chat"].used == 2

    c.ws.complete_reservation(one.sid)

    assert c.offered_tasks(alice) == [waiting.sid]
    assert alice.channels["chat"].used == 2
    assert {first.status, second.status} == {TaskStatus.COMPLETED, TaskStatus.ASSIGNED}


def test_chats_fill_the_longest_idle_worker_then_the_next() -> None:
    c = build()
    alice = c.add_worker("alice", chat=3)
    c.advance(1)
    bob = c.add_worker("bob", chat=3)
    for _ in range(5):
        c.create_task(channel="chat")
    assert (len(c.offers(alice)), len(c.offers(bob))) == (3, 2)


def test_zero_capacity_means_no_work_on_that_channel() -> None:
    c = build()
    alice = c.add_worker("alice", voice=0)
    c.create_task(channel="voice")
    chat = c.create_task(channel="chat")
    assert c.offered_tasks(alice) == [chat.sid]


def test_raising_capacity_offers_waiting_work_at_once() -> None:
    c = build()
    alice = c.add_worker("alice", chat=1)
    tasks = [c.create_task(channel="chat") for _ in range(3)]
    assert len(c.offers(alice)) == 1
    c.ws.set_worker_channel(alice.sid, "chat", capacity=3)
    assert set(c.offered_tasks(alice)) == {t.sid for t in tasks}


def test_lowering_capacity_keeps_current_work_and_stops_new_offers() -> None:
    c = build()
    alice = c.add_worker("alice", chat=3)
    for _ in range(2):
        c.create_task(channel="chat")
    c.ws.set_worker_channel(alice.sid, "chat", capacity=1)
    c.create_task(channel="chat")
    assert len(c.offers(alice)) == 2
    for res in c.offers(alice):
        c.ws.accept_reservation(res.sid)
        c.ws.complete_reservation(res.sid)
    assert len(c.offers(alice)) == 1


def test_a_channel_switched_off_takes_nothing_but_keeps_its_work() -> None:
    c = build()
    alice = c.add_worker("alice")
    chat = c.create_task(channel="chat")
    c.ws.set_worker_channel(alice.sid, "chat", available=False)
    assert c.reservations(alice)[0].status is ReservationStatus.PENDING
    c.create_task(channel="chat")
    assert c.offered_tasks(alice) == [chat.sid]
    call = c.create_task(channel="voice")
    assert call.sid in c.offered_tasks(alice)
    c.ws.set_worker_channel(alice.sid, "chat", available=True)
    assert len(c.offers(alice)) == 3


def test_an_unavailable_activity_takes_nothing_on_any_channel() -> None:
    c = build()
    alice = c.add_worker("alice", activity="Break")
    c.create_task(channel="chat")
    c.create_task(channel="voice")
    assert c.reservations(alice) == []
    c.set_activity(alice, "Available")
    assert len(c.offers(alice)) == 2
