"""Numbers, schedules and the emergency switch over the API."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI

from callboard.app.center import Center

from .api_support import Seed, error_id
from .test_flows_api import MAIN, listen

MADRID = {
    "time_zone": "Europe/Madrid",
    "weekly": {day: ["09:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": {"country": "ES", "subdivision": "MD"},
    "dates": [{"date": "2026-12-24", "name": "Company day"}],
}
NUMBER = "+34910000000"
PATH = "/numbers/" + quote(NUMBER, safe="")


async def with_flow_and_schedule(seed: Seed) -> None:
    assert (await seed.admin.put(seed.url("/flows/main"), json=MAIN)).status_code == 201
    assert (await seed.admin.put(seed.url("/schedules/madrid"), json=MADRID)).status_code == 201


async def test_a_number_is_normalised_checked_and_stored(seed: Seed, api: FastAPI) -> None:
    await with_flow_and_schedule(seed)
    heard = listen(api)
    body = {"site": "madrid", "flow": "main", "schedule": "madrid", "language": "es"}
    created = await seed.admin.put(seed.url(PATH), json=body)
    assert created.status_code == 201, created.text
    assert created.json() == {"number": NUMBER, **body}
    assert heard.changes == [seed.ws]

    written = await seed.supervisor.get(seed.url("/numbers/" + quote("+34 910 00 00 00", safe="")))
    assert written.status_code == 200 and written.json()["flow"] == "main"
    replaced = await seed.admin.put(seed.url(PATH), json={**body, "number": "+34 910 000 000", "language": "en"})
    assert replaced.status_code == 200 and replaced.json()["language"] == "en"
    listed = (await seed.admin.get(seed.url("/numbers"))).json()["items"]
    assert [n["number"] for n in listed] == [NUMBER]

    national = await seed.admin.put(seed.url("/numbers/910000001"), json={**body, "region": "ES"})
    assert national.status_code == 201 and national.json()["number"] == "+34910000001"

    assert (await seed.admin.delete(seed.url(PATH))).status_code == 204
    gone = await seed.admin.get(seed.url(PATH))
    assert gone.status_code == 404 and error_id(gone) == "number_not_found"


async def test_a_number_with_problems_is_refused(seed: Seed) -> None:
    await with_flow_and_schedule(seed)
    not_a_number = await seed.admin.put(seed.url("/numbers/12345"), json={"site": "madrid", "flow": "main"})
    assert not_a_number.status_code == 422 and error_id(not_a_number) == "number_invalid"

    response = await seed.admin.put(seed.url(PATH), json={"flow": "nope", "time_zone": "Europe/Madrid"})
    assert response.status_code == 422 and error_id(response) == "number_config_invalid"
    paths = [p["path"] for p in response.json()["error"]["details"]["problems"]]
    assert paths == ["site", "flow"]
    mismatch = await seed.admin.put(seed.url(PATH), json={"number": "+34910000009", "site": "madrid", "flow": "main"})
    assert mismatch.status_code == 422 and error_id(mismatch) == "name_mismatch"


async def test_a_number_another_workspace_holds_is_refused(seed: Seed, center: Center) -> None:
    await with_flow_and_schedule(seed)
    body = {"site": "madrid", "flow": "main", "schedule": "madrid"}
    assert (await seed.admin.put(seed.url(PATH), json=body)).status_code == 201
    await center.create_workspace("other")
    await seed.admin.put("/api/v1/workspaces/other/flows/main", json=MAIN)
    taken = await seed.admin.put(f"/api/v1/workspaces/other{PATH}", json={**body, "time_zone": "Europe/Madrid"})
    assert taken.status_code == 409 and error_id(taken) == "number_taken"
    assert (await seed.admin.get(f"/api/v1/workspaces/other{PATH}")).status_code == 404


async def test_schedules_say_when_they_are_open(seed: Seed) -> None:
    await with_flow_and_schedule(seed)
    got = (await seed.supervisor.get(seed.url("/schedules/madrid"))).json()
    assert got == {"name": "madrid", **MADRID}

    async def state(at: str) -> dict[str, object]:
        response = await seed.supervisor.get(seed.url("/schedules/madrid/state"), params={"at": at})
        assert response.status_code == 200, response.text
        return dict(response.json())

    monday = await state("2026-01-05T10:00")  # Madrid's local time
    assert monday["status"] == "open" and monday["holiday"] is None
    assert monday["at"] == "2026-01-05T10:00:00+01:00"
    assert (await state("2026-01-05T17:30:00Z"))["status"] == "closed"  # 18:30 in Madrid
    epiphany = await state("2026-01-06T10:00")
    assert epiphany["status"] == "holiday" and epiphany["holiday"]
    assert (await state("2026-12-24T10:00"))["holiday"] == "Company day"
    now = await seed.supervisor.get(seed.url("/schedules/madrid/state"))  # 2026-01-01, a public holiday
    assert now.json()["status"] == "holiday"

    bad = await seed.admin.put(seed.url("/schedules/night"), json={"time_zone": "Mars/Olympus", "weekly": []})
    assert bad.status_code == 422 and error_id(bad) == "schedule_invalid"
    assert {p["path"] for p in bad.json()["error"]["details"]["problems"]} == {"time_zone", "weekly"}
    listed = (await seed.admin.get(seed.url("/schedules"))).json()["items"]
    assert [s["name"] for s in listed] == ["madrid"]


async def test_a_schedule_in_use_is_not_deleted(seed: Seed) -> None:
    await with_flow_and_schedule(seed)
    await seed.admin.put(seed.url(PATH), json={"site": "madrid", "flow": "main", "schedule": "madrid"})
    in_use = await seed.admin.delete(seed.url("/schedules/madrid"))
    assert in_use.status_code == 409 and error_id(in_use) == "schedule_in_use"
    paths = {p["path"] for p in in_use.json()["error"]["details"]["problems"]}
    assert f"numbers.{NUMBER}.schedule" in paths

    await seed.admin.delete(seed.url(PATH))
    assert (await seed.admin.delete(seed.url("/schedules/madrid"))).status_code == 204
    missing = await seed.admin.get(seed.url("/schedules/madrid/state"))
    assert missing.status_code == 404 and error_id(missing) == "schedule_not_found"


async def test_the_emergency_switch_closes_and_reopens(seed: Seed, api: FastAPI) -> None:
    await with_flow_and_schedule(seed)
    await seed.admin.put(seed.url(PATH), json={"site": "madrid", "flow": "main", "schedule": "madrid"})
    heard = listen(api)

    closed = await seed.admin.put(seed.url(f"{PATH}/emergency"), json={"prompt": "emergency-closed"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["target"] == NUMBER and closed.json()["prompt"] == "emergency-closed"
    site = await seed.admin.put(seed.url("/sites/madrid/emergency"), json={"text": "We are closed today."})
    assert site.status_code == 200 and site.json()["scope"] == "site"
    listed = (await seed.supervisor.get(seed.url("/emergency"))).json()["items"]
    assert [(c["scope"], c["target"]) for c in listed] == [("number", NUMBER), ("site", "madrid")]
    assert heard.changes == [seed.ws, seed.ws]

    assert (await seed.admin.delete(seed.url(f"{PATH}/emergency"))).status_code == 204
    assert (await seed.admin.delete(seed.url("/sites/madrid/emergency"))).status_code == 204
    assert (await seed.admin.get(seed.url("/emergency"))).json()["items"] == []
    again = await seed.admin.delete(seed.url("/sites/madrid/emergency"))
    assert again.status_code == 404 and error_id(again) == "closure_not_found"


async def test_the_emergency_switch_checks_what_it_is_given(seed: Seed) -> None:
    await with_flow_and_schedule(seed)
    unknown = await seed.admin.put(seed.url(f"{PATH}/emergency"), json={"prompt": "emergency-closed"})
    assert unknown.status_code == 404 and error_id(unknown) == "number_not_found"
    both = await seed.admin.put(seed.url("/sites/madrid/emergency"), json={"prompt": "closed", "text": "Closed."})
    assert both.status_code == 422 and error_id(both) == "request_invalid"
    no_prompt = await seed.admin.put(seed.url("/sites/madrid/emergency"), json={"prompt": "no-such-prompt"})
    assert no_prompt.status_code == 422 and error_id(no_prompt) == "prompt_not_found"
    # Supervisors pull the switch too (a storm does not wait for an admin); agents may not.
    denied = await seed.agent.put(seed.url("/sites/madrid/emergency"), json={"text": "Closed."})
    assert denied.status_code == 403 and error_id(denied) == "permission_denied"
    by_supervisor = await seed.supervisor.put(seed.url("/sites/madrid/emergency"), json={"text": "Closed."})
    assert by_supervisor.status_code == 200 and by_supervisor.json()["text"] == "Closed."
    assert (await seed.supervisor.delete(seed.url("/sites/madrid/emergency"))).status_code == 204
    assert (await seed.agent.get(seed.url("/emergency"))).status_code == 403
    assert (await seed.agent.get(seed.url("/numbers"))).status_code == 403
    assert (await seed.agent.get(seed.url("/schedules"))).status_code == 403
