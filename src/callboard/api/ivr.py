"""What the IVR routers share: the workspace's catalog of names, its flows and numbers checked together,
problems as the error contract, and telling the node that its IVR configuration changed."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from callboard.api.access import Scope
from callboard.api.ports import IvrListener, IvrStorePort, Record
from callboard.core.errors import ConflictError, ValidationError
from callboard.flows.build import build_flows
from callboard.flows.catalog import Catalog
from callboard.flows.numbers import build_numbers, normalize_number
from callboard.flows.problems import Problem
from callboard.flows.schedule import build_schedules

log = logging.getLogger(__name__)


def get_listener(request: Request) -> IvrListener | None:
    listener: IvrListener | None = request.app.state.ivr_listener
    return listener


ListenerDep = Annotated[IvrListener | None, Depends(get_listener)]


def changed(listener: IvrListener | None, workspace_sid: str) -> None:
    """Tell the node; the write is done, so a listener that fails is logged rather than failing the request."""
    if listener is None:
        return
    try:
        listener.ivr_changed(workspace_sid)
    except Exception:
        log.exception("the IVR listener failed on a change of workspace %s", workspace_sid)


def ivr_store(scope: Scope) -> IvrStorePort:
    return scope.center.store


def e164(text: str, region: str | None = None) -> str:
    """A number as a person writes it (`+34 910 00 00 00`) in E.164; 422 `number_invalid` otherwise."""
    return normalize_number(text, region)


@dataclass(frozen=True)
class Ivr:
    """A workspace's IVR documents as the builders take them: flows and schedules by name, numbers by E.164."""

    flows: dict[str, Record]
    schedules: dict[str, Record]
    numbers: dict[str, Record]
    prompts: frozenset[str]

    def catalog(self, scope: Scope) -> Catalog:
        """The names these documents may refer to: queues and workflows by friendly name, as the node that
        runs them resolves them (`app/ivr.py`)."""
        engine = scope.engine
        return Catalog.of_workspace(
            prompts=self.prompts,
            workflows=(w.friendly_name for w in engine.workflows.values()),
            queues=(q.friendly_name for q in engine.queues.values()),
            schedules=self.schedules,
            flows=self.flows,
            channels=engine.channels,
        )

    def problems(self, scope: Scope) -> dict[tuple[str, str], list[Problem]]:
        """Every problem of the flows and numbers, by document (`("flows", name)`, `("numbers", e164)`)."""
        names = self.catalog(scope)
        found: dict[tuple[str, str], list[Problem]] = {}
        flows = list(self.flows.values())
        for problem in build_flows(flows, names)[1]:
            found.setdefault(("flows", flows[int(problem.path[0])]["name"]), []).append(problem)
        schedules, _ = build_schedules(list(self.schedules.values()), names)
        numbers = list(self.numbers.values())
        for problem in build_numbers(numbers, names, schedules)[1]:
            found.setdefault(("numbers", numbers[int(problem.path[0])]["number"]), []).append(problem)
        return found


async def load_ivr(scope: Scope) -> Ivr:
    store = ivr_store(scope)
    flows = {f["name"]: {"name": f["name"], **f["definition"]} for f in await store.list_flows(scope.sid)}
    schedules = {d["name"]: {"name": d["name"], **d["body"]} for d in await store.list_documents(scope.sid, "schedule")}
    numbers = {d["name"]: {"number": d["name"], **d["body"]} for d in await store.list_documents(scope.sid, "number")}
    prompts = frozenset(p["name"] for p in await store.list_prompts(scope.sid))
    return Ivr(flows, schedules, numbers, prompts)


async def catalog(scope: Scope) -> Catalog:
    return (await load_ivr(scope)).catalog(scope)


def invalid(error_id: str, what: str, problems: list[Problem]) -> ValidationError:
    """A 422 listing each problem of the one document sent at its dotted path inside it (the builders were
    handed a list, so each path starts with the document's index, which is dropped)."""
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    listed = [{"path": ".".join(str(part) for part in p.path[1:]), "message": p.message} for p in problems]
    return ValidationError(f"{what} has {count}", error_id=error_id, problems=listed)


def check_removal(scope: Scope, before: Ivr, after: Ivr, error_id: str, what: str) -> None:
    """409 when removing something leaves flows or numbers referring to it: the problems `after` has that
    `before` had not, each at `flows.<name>.<path>` or `numbers.<e164>.<path>`."""

    def located(ivr: Ivr) -> list[tuple[str, str]]:
        return [
            (".".join((kind, name, *(str(part) for part in p.path[1:]))), p.message)
            for (kind, name), problems in ivr.problems(scope).items()
            for p in problems
        ]

    old = set(located(before))
    new = [{"path": path, "message": message} for path, message in located(after) if (path, message) not in old]
    if new:
        raise ConflictError(f"{what} is in use", error_id=error_id, problems=new)


def document(name_key: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """The body as a builder takes it, named by the path; a body naming something else is an error."""
    if name_key in body and body[name_key] != name:
        raise ValidationError(
            f"the body's {name_key} {body[name_key]!r} is not the path's {name!r}",
            error_id="name_mismatch",
            path=name,
            body=str(body[name_key]),
        )
    return {name_key: name, **{k: v for k, v in body.items() if k != name_key}}
