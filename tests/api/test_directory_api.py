"""The directory every member may read: queue names and the other agents with whether they take calls now."""

from __future__ import annotations

from .api_support import Seed


async def test_an_agent_reads_queue_and_agent_names_but_not_itself(seed: Seed) -> None:
    response = await seed.agent.get(seed.url("/directory"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert [q["name"] for q in body["queues"]] == ["Sales", "Support"]
    names = [a["name"] for a in body["agents"]]
    assert "alice" not in names and "bob" in names  # the agent asking is alice
    # Only names and availability: no attributes, no expressions.
    assert set(body["agents"][0]) == {"sid", "name", "available"} and set(body["queues"][0]) == {"sid", "name"}
    # The same agents list endpoint stays closed to agents.
    assert (await seed.agent.get(seed.url("/workers"))).status_code == 403


async def test_availability_follows_the_agents_activity(seed: Seed) -> None:
    await seed.admin.patch(seed.url(f"/workers/{seed.bob}"), json={"activity_sid": seed.available})
    bob = next(a for a in (await seed.agent.get(seed.url("/directory"))).json()["agents"] if a["name"] == "bob")
    assert bob["available"] is True
    await seed.admin.patch(seed.url(f"/workers/{seed.bob}"), json={"activity_sid": seed.on_break})
    bob = next(a for a in (await seed.agent.get(seed.url("/directory"))).json()["agents"] if a["name"] == "bob")
    assert bob["available"] is False
    staff = (await seed.supervisor.get(seed.url("/directory"))).json()
    assert {"alice", "bob"} <= {a["name"] for a in staff["agents"]}
