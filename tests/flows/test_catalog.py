"""The one way a workspace's catalog of names is made, for the API, the center file, the node and offline runs."""

from __future__ import annotations

from callboard.flows.catalog import LANGUAGES, Catalog
from callboard.flows.system_prompts import SYSTEM_PROMPT_NAMES


def test_a_workspaces_catalog_adds_the_system_prompts_to_its_own() -> None:
    catalog = Catalog.of_workspace(
        prompts=["welcome"],
        workflows=iter(["inbound"]),
        queues=("sales", "sales"),
        schedules={"madrid": {}},  # any iterable of names: a mapping gives its keys
        flows=["main"],
        channels=["voice"],
    )
    assert catalog.prompts == SYSTEM_PROMPT_NAMES | {"welcome"}
    assert "emergency-closed" in catalog.prompts
    assert catalog.workflows == {"inbound"} and catalog.queues == {"sales"}
    assert catalog.schedules == {"madrid"} and catalog.flows == {"main"} and catalog.channels == {"voice"}
    assert catalog.languages == LANGUAGES


def test_an_empty_workspace_still_has_the_system_prompts() -> None:
    assert Catalog.of_workspace() == Catalog(prompts=SYSTEM_PROMPT_NAMES)
