"""CRM contacts over the API: numbers normalised to E.164, found by number, one contact per number."""

from __future__ import annotations

from .api_support import Seed, error_id

ANA = {"name": "Ana Ruiz", "numbers": ["+34 600 111 222"], "vip": True, "language": "es", "attributes": {"tier": 1}}


async def test_contacts_crud_and_lookup_by_number(seed: Seed) -> None:
    created = await seed.admin.post(seed.url("/contacts"), json=ANA)
    assert created.status_code == 201, created.text
    ana = created.json()
    assert ana["sid"].startswith("CT") and ana["numbers"] == ["+34600111222"] and ana["vip"] is True

    found = (await seed.supervisor.get(seed.url("/contacts"), params={"number": "+34 600 11 12 22"})).json()
    assert [c["sid"] for c in found["items"]] == [ana["sid"]]
    nobody = (await seed.admin.get(seed.url("/contacts"), params={"number": "+34600111333"})).json()
    assert nobody["items"] == [] and nobody["meta"]["total"] == 0

    replaced = await seed.admin.put(
        seed.url(f"/contacts/{ana['sid']}"), json={"name": "Ana Ruiz", "numbers": ["+34600111333"]}
    )
    assert replaced.status_code == 200
    assert replaced.json()["numbers"] == ["+34600111333"] and replaced.json()["vip"] is False
    assert (await seed.admin.get(seed.url(f"/contacts/{ana['sid']}"))).json()["numbers"] == ["+34600111333"]
    assert (await seed.admin.get(seed.url("/contacts"))).json()["meta"]["total"] == 1

    assert (await seed.admin.delete(seed.url(f"/contacts/{ana['sid']}"))).status_code == 204
    gone = await seed.admin.get(seed.url(f"/contacts/{ana['sid']}"))
    assert gone.status_code == 404 and error_id(gone) == "contact_not_found"
    assert (await seed.admin.delete(seed.url(f"/contacts/{ana['sid']}"))).status_code == 404
    missing = await seed.admin.put(seed.url(f"/contacts/{ana['sid']}"), json=ANA)
    assert missing.status_code == 404 and error_id(missing) == "contact_not_found"


async def test_contact_numbers_must_be_numbers_and_not_taken(seed: Seed) -> None:
    bad = await seed.admin.post(seed.url("/contacts"), json={"name": "Bob", "numbers": ["call me"]})
    assert bad.status_code == 422 and error_id(bad) == "number_invalid"
    lookup = await seed.admin.get(seed.url("/contacts"), params={"number": "12"})
    assert lookup.status_code == 422 and error_id(lookup) == "number_invalid"

    assert (await seed.admin.post(seed.url("/contacts"), json=ANA)).status_code == 201
    taken = await seed.admin.post(seed.url("/contacts"), json={"name": "Eve", "numbers": ["+34600111222"]})
    assert taken.status_code == 409 and error_id(taken) == "contact_number_taken"


async def test_supervisors_read_contacts_and_agents_do_not(seed: Seed) -> None:
    sid = (await seed.admin.post(seed.url("/contacts"), json=ANA)).json()["sid"]
    assert (await seed.supervisor.get(seed.url(f"/contacts/{sid}"))).status_code == 200
    for response in (
        await seed.supervisor.post(seed.url("/contacts"), json=ANA),
        await seed.supervisor.delete(seed.url(f"/contacts/{sid}")),
        await seed.agent.get(seed.url("/contacts")),
        await seed.agent.get(seed.url(f"/contacts/{sid}")),
    ):
        assert response.status_code == 403 and error_id(response) == "permission_denied"
