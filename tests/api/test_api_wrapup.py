"""The agent's screen pop and wrap-up over HTTP: disposition codes, a disposition and notes stored with the
task and shown with its call, the customer's contact and earlier calls for the tasks an agent holds (and
nobody else's), and what a reservation says about its queue's wrap-up."""

from __future__ import annotations

from typing import Any

from callboard.app.center import Center

from .api_support import Seed, error_id
from .test_api_tasks import create_task, make_available

CODES = [{"code": "sale", "label": "Sale", "labels": {"es": "Venta"}}, "no-answer"]


async def save_call(center: Center, seed: Seed, sid: str, started_at: float, **fields: Any) -> None:
    record = {"sid": sid, "workspace_sid": seed.ws, "direction": "inbound", "started_at": started_at}
    await center.store.save_call(record | {"caller": "+34600111222", "called": "900"} | fields)


async def offer_to_alice(seed: Seed, **attributes: Any) -> tuple[str, str]:
    await make_available(seed, seed.alice)
    task = await create_task(seed, attributes={"type": "support", **attributes})
    offers = (await seed.agent.get(seed.url(f"/workers/{seed.alice}/reservations"))).json()["items"]
    pending = [r for r in offers if r["task_sid"] == task["sid"]]
    assert len(pending) == 1
    return task["sid"], pending[0]["sid"]


async def test_dispositions_are_read_by_members_and_replaced_by_admins(seed: Seed) -> None:
    empty = await seed.agent.get(seed.url("/dispositions"))
    assert empty.status_code == 200 and empty.json() == {"items": []}
    refused = await seed.supervisor.put(seed.url("/dispositions"), json=CODES)
    assert refused.status_code == 403 and error_id(refused) == "permission_denied"

    stored = await seed.admin.put(seed.url("/dispositions"), json=CODES)
    assert stored.status_code == 200, stored.text
    expected = [
        {"code": "sale", "label": "Sale", "labels": {"es": "Venta"}},
        {"code": "no-answer", "label": "no-answer", "labels": {}},
    ]
    assert stored.json()["items"] == expected
    assert (await seed.agent.get(seed.url("/dispositions"))).json()["items"] == expected

    bad = await seed.admin.put(seed.url("/dispositions"), json=[{"code": "a b"}, {"code": "x", "colour": 1}, "x"])
    assert bad.status_code == 422 and error_id(bad) == "dispositions_invalid"
    paths = [p["path"] for p in bad.json()["error"]["details"]["problems"]]
    assert paths == ["0.code", "1.colour", "2.code"]  # a bad code, an unknown key, a duplicate
    assert (await seed.agent.get(seed.url("/dispositions"))).json()["items"] == expected  # unchanged

    assert (await seed.admin.delete(seed.url("/dispositions"))).status_code == 204
    assert (await seed.agent.get(seed.url("/dispositions"))).json() == {"items": []}


async def test_a_disposition_and_notes_go_with_the_task_and_its_call(seed: Seed, center: Center) -> None:
    await seed.admin.put(seed.url("/dispositions"), json=CODES)
    await seed.admin.patch(seed.url(f"/task-queues/{seed.support}"), json={"wrapup_seconds": 45})
    task, res = await offer_to_alice(seed, caller="+34600111222", call_sid="CA9")
    await save_call(center, seed, "CA9", 50.0, task_sid=task, worker_sid=seed.alice)

    offered = (await seed.agent.get(seed.url(f"/reservations/{res}"))).json()
    assert offered["task_queue_friendly_name"] == "Support" and offered["wrapup_seconds"] == 45
    assert offered["post_work_activity_sid"] is None and offered["post_work_activity_name"] is None
    early = await seed.agent.post(seed.url(f"/reservations/{res}/disposition"), json={"disposition": "sale"})
    assert early.status_code == 409 and error_id(early) == "reservation_invalid_state"  # not accepted yet

    await seed.agent.post(seed.url(f"/reservations/{res}/accept"))
    await seed.agent.post(seed.url(f"/reservations/{res}/wrapup"))
    unknown = await seed.agent.post(seed.url(f"/reservations/{res}/disposition"), json={"disposition": "nope"})
    assert unknown.status_code == 422 and error_id(unknown) == "disposition_unknown"
    picked = await seed.agent.post(seed.url(f"/reservations/{res}/disposition"), json={"disposition": "no-answer"})
    assert picked.status_code == 200, picked.text
    done = await seed.agent.post(
        seed.url(f"/reservations/{res}/complete"), json={"disposition": "sale", "notes": "Wants the blue one"}
    )
    assert done.status_code == 200 and done.json()["reservation_status"] == "completed"

    stored = (await seed.agent.get(seed.url(f"/tasks/{task}"))).json()
    assert stored["attributes"]["disposition"] == "sale" and stored["attributes"]["notes"] == "Wants the blue one"
    assert stored["task_queue_friendly_name"] == "Support"
    call = (await seed.agent.get(seed.url("/calls/CA9"))).json()
    assert call["disposition"] == "sale" and call["notes"] == "Wants the blue one"
    listed = (await seed.supervisor.get(seed.url("/calls"))).json()["items"]
    assert [(c["sid"], c["disposition"]) for c in listed] == [("CA9", "sale")]
    again, _ = await offer_to_alice(seed, caller="+34600111222")  # the same customer calls again
    history = (await seed.agent.get(seed.url(f"/tasks/{again}/history"))).json()
    assert [(c["sid"], c["disposition"], c["notes"]) for c in history["calls"]] == [
        ("CA9", "sale", "Wants the blue one")
    ]


async def test_an_agent_reads_the_customer_of_a_task_it_holds_and_nobody_else(seed: Seed, center: Center) -> None:
    contact = {"name": "Ana García", "numbers": ["+34600111222", "+34911000111"], "vip": True, "manager": "bob"}
    assert (await seed.admin.post(seed.url("/contacts"), json=contact)).status_code == 201
    other = {"name": "Someone Else", "numbers": ["+34699999999"]}
    assert (await seed.admin.post(seed.url("/contacts"), json=other)).status_code == 201
    await save_call(center, seed, "CA1", 10.0, worker_sid=seed.bob, outcome="completed")
    await save_call(center, seed, "CA2", 20.0, caller="+34911000111", outcome="abandoned")  # her other number
    await save_call(center, seed, "CA3", 30.0, caller="+34699999999")  # somebody else
    await save_call(center, seed, "CA4", 40.0, worker_sid=seed.bob)  # the call being offered now

    before = await seed.agent.get(seed.url("/contacts?number=%2B34600111222"))
    assert before.status_code == 403 and error_id(before) == "permission_denied"  # nothing offered yet
    assert (await seed.agent.get(seed.url("/calls/CA4"))).status_code == 404

    task, res = await offer_to_alice(seed, caller="+34 600 111 222", call_sid="CA4")
    found = await seed.agent.get(seed.url("/contacts?number=%2B34600111222"))
    assert found.status_code == 200 and [c["name"] for c in found.json()["items"]] == ["Ana García"]
    assert found.json()["items"][0]["vip"] is True and found.json()["items"][0]["manager"] == "bob"
    stranger = await seed.agent.get(seed.url("/contacts?number=%2B34699999999"))
    assert stranger.status_code == 403
    assert (await seed.agent.get(seed.url("/contacts"))).status_code == 403  # no listing for agents
    assert (await seed.agent.get(seed.url("/calls/CA4"))).status_code == 200  # the call of the offer
    assert (await seed.agent.get(seed.url("/calls/CA3"))).status_code == 404

    history = await seed.agent.get(seed.url(f"/tasks/{task}/history"))
    assert history.status_code == 200, history.text
    body = history.json()
    assert body["contact"]["name"] == "Ana García"
    assert [c["sid"] for c in body["calls"]] == ["CA2", "CA1"]  # newest first, without the call itself
    assert all(c["recording_url"] is None for c in body["calls"])

    await seed.agent.post(seed.url(f"/reservations/{res}/reject"))
    gone = await seed.agent.get(seed.url(f"/tasks/{task}/history"))
    assert gone.status_code == 403 and error_id(gone) == "permission_denied"  # no longer hers
    assert (await seed.agent.get(seed.url("/contacts?number=%2B34600111222"))).status_code == 403
    staff = await seed.supervisor.get(seed.url(f"/tasks/{task}/history?limit=1"))
    assert [c["sid"] for c in staff.json()["calls"]] == ["CA2"]
