"""A workspace's disposition codes: what agents pick in wrap-up to say how an interaction ended.

Kept in the store as one document per workspace (the center file's `dispositions:` list, in its order);
every member reads them, admins replace them. The code an agent picks is stored with the task
(`reservations.py`, `disposition`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Body

from callboard.api.access import AdminScope, Member, Scope
from callboard.api.ivr import ivr_store
from callboard.api.urls import WORKSPACE
from callboard.config.model import Disposition
from callboard.config.reader import DataReader
from callboard.config.validate import read_dispositions
from callboard.core.errors import ValidationError

router = APIRouter(prefix=f"{WORKSPACE}/dispositions", tags=["dispositions"])

DISPOSITIONS = "dispositions"  # the document's kind and name

DispositionsBody = Annotated[
    list[Any],
    Body(
        description="The center file's `dispositions:` list: `{code, label, labels}` items or bare codes",
        examples=[[{"code": "sale", "label": "Sale", "labels": {"es": "Venta"}}, "no-answer"]],
    ),
]


def dispositions_body(dispositions: Iterable[Disposition]) -> dict[str, Any]:
    """Dispositions as the store keeps them."""
    return {"items": [{"code": d.code, "label": d.label, "labels": dict(d.labels)} for d in dispositions]}


def dispositions_of(body: dict[str, Any] | None) -> tuple[Disposition, ...]:
    """Stored dispositions as the model (none stored: none)."""
    items = (body or {}).get("items") or ()
    return tuple(Disposition(i["code"], i.get("label") or i["code"], dict(i.get("labels") or {})) for i in items)


async def workspace_dispositions(scope: Scope) -> tuple[Disposition, ...]:
    return dispositions_of(await ivr_store(scope).get_document(scope.sid, DISPOSITIONS, DISPOSITIONS))


def _view(dispositions: Iterable[Disposition]) -> dict[str, Any]:
    return dispositions_body(dispositions)


@router.get("")
async def list_dispositions(scope: Member) -> dict[str, Any]:
    """The workspace's disposition codes in their order (agents too: they pick one in wrap-up)."""
    return _view(await workspace_dispositions(scope))


@router.put("")
async def replace_dispositions(body: DispositionsBody, scope: AdminScope) -> dict[str, Any]:
    """Replace the list; 422 `dispositions_invalid` lists each problem at its path. Tasks keep the codes
    they were given."""
    reader = DataReader()
    dispositions = read_dispositions(reader, body, ())
    if reader.problems:
        listed = [{"path": ".".join(str(part) for part in path), "message": text} for path, text in reader.problems]
        raise ValidationError(
            f"the dispositions have {len(listed)} problem{'s' if len(listed) != 1 else ''}",
            error_id="dispositions_invalid",
            problems=listed,
        )
    await ivr_store(scope).put_document(scope.sid, DISPOSITIONS, DISPOSITIONS, dispositions_body(dispositions))
    return _view(dispositions)


@router.delete("", status_code=204)
async def delete_dispositions(scope: AdminScope) -> None:
    """No dispositions: agents wrap up with notes alone."""
    await ivr_store(scope).delete_document(scope.sid, DISPOSITIONS, DISPOSITIONS)
