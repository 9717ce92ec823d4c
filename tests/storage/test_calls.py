"""Call records: saved as a call goes along, read back whole, listed newest first with paging and filters."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

from callboard.core.errors import NotFoundError, ValidationError
from callboard.storage import Store

WS = "WS1"


def call(sid: str, started_at: float, **fields: Any) -> dict[str, Any]:
    return {"sid": sid, "workspace_sid": WS, "direction": "inbound", "started_at": started_at, **fields}


@pytest.fixture
async def calls_store(store: Store) -> Store:
    await store.save_workspace({"sid": WS, "friendly_name": "main"})
    await store.save_workspace({"sid": "WS2", "friendly_name": "other"})
    return store


async def test_a_new_call_has_every_field_with_its_default(calls_store: Store) -> None:
    await calls_store.save_call(call("CA1", 100, caller="+34600111222", from_uri="sip:+34600111222@trunk"))
    assert await calls_store.get_call(WS, "CA1") == {
        "sid": "CA1",
        "workspace_sid": WS,
        "direction": "inbound",
        "caller": "+34600111222",
        "called": "",
        "from_uri": "sip:+34600111222@trunk",
        "to_uri": "",
        "task_sid": None,
        "queue_sid": None,
        "worker_sid": None,
        "agent_contact": None,
        "started_at": 100.0,
        "answered_at": None,
        "enqueued_at": None,
        "agent_answered_at": None,
        "ended_at": None,
        "wait_seconds": 0.0,
        "talk_seconds": 0.0,
        "hold_seconds": 0.0,
        "outcome": None,
        "hangup_cause": None,
        "hangup_by": None,
        "recording_path": None,
        "attributes": {},
    }


async def test_saving_again_changes_what_is_given_and_keeps_the_rest(calls_store: Store) -> None:
    await calls_store.save_call(
        call("CA1", 100.5, caller="600", called="900", attributes={"language": "es"}, task_sid="WT1")
    )
    await calls_store.save_call(
        call(
            "CA1",
            100.5,
            worker_sid="WK1",
            agent_answered_at=130.25,
            ended_at=190.0,
            wait_seconds=29.75,
            talk_seconds=59.75,
            hold_seconds=5,
            outcome="completed",
            hangup_cause="normal_clearing",
            hangup_by="agent",
            recording_path="/var/rec/CA1.wav",
            attributes={"language": "es", "vip": True},
            task_sid=None,
        )
    )
    record = await calls_store.get_call(WS, "CA1")
    assert record is not None
    assert (record["caller"], record["called"]) == ("600", "900")  # kept from the first save
    assert record["task_sid"] is None  # given as None: cleared
    assert record["worker_sid"] == "WK1" and record["agent_answered_at"] == 130.25 and record["ended_at"] == 190.0
    assert (record["wait_seconds"], record["talk_seconds"], record["hold_seconds"]) == (29.75, 59.75, 5.0)
    assert (record["outcome"], record["hangup_cause"], record["hangup_by"]) == ("completed", "normal_clearing", "agent")
    assert record["recording_path"] == "/var/rec/CA1.wav"
    assert record["attributes"] == {"language": "es", "vip": True}
    assert await calls_store.get_call("WS2", "CA1") is None  # another workspace does not see it
    assert await calls_store.get_call(WS, "CA404") is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"direction": "sideways"}, "direction"),
        ({"outcome": "great"}, "outcome"),
        ({"hangup_by": "nobody"}, "hangup_by"),
        ({"started_at": "yesterday"}, "started_at"),
        ({"started_at": True}, "started_at"),
        ({"ended_at": "later"}, "ended_at"),
        ({"wait_seconds": -1}, "wait_seconds"),
        ({"wait_seconds": None}, "wait_seconds"),
        ({"caller": None}, "caller"),
        ({"worker_sid": 7}, "worker_sid"),
        ({"attributes": ["a"]}, "attributes"),
        ({"sid": "WT1"}, "sid"),
    ],
)
async def test_bad_values_are_refused(calls_store: Store, fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        await calls_store.save_call(call("CA1", 1.0) | fields)
    assert raised.value.error_id == "call_invalid" and raised.value.details["field"] == field
    assert await calls_store.get_call(WS, "CA1") is None


async def test_unknown_and_missing_fields_are_refused(calls_store: Store) -> None:
    with pytest.raises(ValidationError, match="unknown fields"):
        await calls_store.save_call(call("CA1", 1.0, talk_secs=3))
    record = call("CA1", 1.0)
    del record["started_at"]
    with pytest.raises(ValidationError, match="missing"):
        await calls_store.save_call(record)


async def test_a_call_in_an_unknown_workspace_is_not_found(calls_store: Store) -> None:
    with pytest.raises(NotFoundError):
        await calls_store.save_call(call("CA1", 1.0) | {"workspace_sid": "WS404"})


async def test_list_is_newest_first_and_pages_with_before(calls_store: Store) -> None:
    for n in range(7):
        await calls_store.save_call(call(f"CA{n}", 1000.0 + n))
    await calls_store.save_call(call("CAx", 5000.0) | {"workspace_sid": "WS2"})
    first = await calls_store.list_calls(WS, limit=3)
    assert [c["sid"] for c in first] == ["CA6", "CA5", "CA4"]
    second = await calls_store.list_calls(WS, limit=3, before=first[-1]["started_at"])
    assert [c["sid"] for c in second] == ["CA3", "CA2", "CA1"]
    third = await calls_store.list_calls(WS, limit=3, before=second[-1]["started_at"])
    assert [c["sid"] for c in third] == ["CA0"]
    assert await calls_store.list_calls(WS, limit=3, before=1000.0) == []
    assert len(await calls_store.list_calls(WS)) == 7
    assert await calls_store.list_calls(WS, limit=0) == []
    assert set(first[0]) == set((await calls_store.get_call(WS, "CA6")) or {})


async def test_calls_that_started_together_are_not_lost_between_pages(calls_store: Store) -> None:
    for sid in ("CAa", "CAb", "CAc", "CAd"):
        await calls_store.save_call(call(sid, 2000.0))
    await calls_store.save_call(call("CAold", 1999.0))
    first = await calls_store.list_calls(WS, limit=2)
    assert [c["sid"] for c in first] == ["CAd", "CAc"]
    last = first[-1]
    rest = await calls_store.list_calls(WS, limit=10, before=last["started_at"], before_sid=last["sid"])
    assert [c["sid"] for c in rest] == ["CAb", "CAa", "CAold"]


async def test_filters(calls_store: Store) -> None:
    await calls_store.save_call(call("CA1", 1.0, queue_sid="WQ1", worker_sid="WK1", outcome="completed"))
    await calls_store.save_call(call("CA2", 2.0, queue_sid="WQ1", outcome="abandoned"))
    await calls_store.save_call(call("CA3", 3.0, queue_sid="WQ2", worker_sid="WK1", outcome="completed"))
    await calls_store.save_call(call("CA4", 4.0))

    async def sids(**filters: Any) -> list[str]:
        return [c["sid"] for c in await calls_store.list_calls(WS, **filters)]

    assert await sids(queue_sid="WQ1") == ["CA2", "CA1"]
    assert await sids(worker_sid="WK1") == ["CA3", "CA1"]
    assert await sids(outcome="completed") == ["CA3", "CA1"]
    assert await sids(queue_sid="WQ1", worker_sid="WK1", outcome="completed") == ["CA1"]
    assert await sids(worker_sid="WK1", before=3.0) == ["CA1"]
    with pytest.raises(ValidationError):
        await calls_store.list_calls(WS, limit=-1)


async def test_search_by_the_digits_a_number_ends_with_by_time_and_by_recording(calls_store: Store) -> None:
    await calls_store.save_call(call("CA1", 1.0, caller="+34 600 11 12 22", called="+34900100200"))
    await calls_store.save_call(call("CA2", 2.0, caller="0034600111222", recording_path="CA2.wav"))
    await calls_store.save_call(call("CA3", 3.0, caller="5550177", called="+1 303 555 0100", recording_path="x.wav"))
    await calls_store.save_call(call("CA4", 4.0, caller="anonymous"))

    async def sids(**filters: Any) -> list[str]:
        return [c["sid"] for c in await calls_store.list_calls(WS, **filters)]

    assert await sids(number_ends="34600111222") == ["CA2", "CA1"]  # leading zeros and spaces do not count
    assert await sids(number_ends="1222") == ["CA2", "CA1"]
    assert await sids(number_ends="0100") == ["CA3"]  # the called number too
    assert await sids(number_ends="0200") == ["CA1"]
    assert await sids(number_ends="7") == ["CA3"]
    assert await sids(number_ends="600") == []  # a number's start is not its end
    assert await sids(has_recording=True) == ["CA3", "CA2"]
    assert await sids(has_recording=False) == ["CA4", "CA1"]
    assert await sids(since=2.0) == ["CA4", "CA3", "CA2"]
    assert await sids(number_ends="222", has_recording=True, since=1.5, before=3.0) == ["CA2"]
    assert await sids(number_ends="1222", limit=1) == ["CA2"]
    with pytest.raises(ValidationError):
        await calls_store.list_calls(WS, number_ends="12%")


async def test_a_save_without_the_numbers_keeps_them_searchable(calls_store: Store) -> None:
    await calls_store.save_call(call("CA1", 1.0, caller="+34600111222"))
    await calls_store.save_call(call("CA1", 1.0, outcome="completed"))
    assert [c["sid"] for c in await calls_store.list_calls(WS, number_ends="1222")] == ["CA1"]
    await calls_store.save_call(call("CA1", 1.0, caller="+34600999888"))
    assert await calls_store.list_calls(WS, number_ends="1222") == []
    [found] = await calls_store.list_calls(WS, number_ends="9888")
    assert "caller_digits" not in found and found["caller"] == "+34600999888"


async def test_the_search_digits_are_not_a_field_of_a_record(calls_store: Store) -> None:
    with pytest.raises(ValidationError):
        await calls_store.save_call(call("CA1", 1.0, caller_digits="1"))


async def test_calls_go_with_their_workspace(calls_store: Store) -> None:
    await calls_store.save_call(call("CA1", 1.0))
    await calls_store.save_call(call("CA2", 2.0) | {"workspace_sid": "WS2"})
    await calls_store.delete_workspace(WS)
    assert await calls_store.get_call(WS, "CA1") is None
    assert await calls_store.list_calls(WS) == []
    assert [c["sid"] for c in await calls_store.list_calls("WS2")] == ["CA2"]


async def test_writes_wait_for_the_one_sqlite_writer_in_turn_without_failing(tmp_path: Any) -> None:
    # SQLite has one writer. Writes made while another holds it wait in the process, in order, holding no
    # connection: a loaded node waiting in SQLite's busy handler instead lost writes to "database is locked".
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'callboard.db'}")
    try:
        await store.migrate()
        await store.save_workspace({"sid": WS, "friendly_name": "main"})
        async with store._write() as conn:  # a long write transaction, holding SQLite's write lock
            await conn.execute(text("UPDATE workspaces SET friendly_name = friendly_name"))
            saving = [asyncio.create_task(store.save_call(call(f"CA{i}", 100 + i))) for i in range(20)]
            await asyncio.sleep(0.3)
            assert not any(task.done() for task in saving)
            assert store.engine.pool.checkedout() == 1  # only the holder's: the others wait on the lock
        await asyncio.gather(*saving)
        listed = await store.list_calls(WS, limit=50)
        assert {row["sid"] for row in listed} == {f"CA{i}" for i in range(20)}
    finally:
        await store.close()
