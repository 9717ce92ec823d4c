"""`callboard flow test`: runs a contact flow offline (`flow_offline`) and prints the report (`flow_report`).

The workspace comes from a center file (`--center`) or the store (`--database`); the options script the call:
`--digits` answers each ask in turn ("1,,42#": an empty item is no input, `hangup` hangs up), `--lookup
URL=JSON` answers a lookup node (none: its fallback exit; `--http`: a real request), `--queue-outcome` says how
each enqueue ends. Errors are one line on stderr: exit code 2 for a malformed request, 1 for a center file with
errors or a name the workspace does not have.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError as PydanticValidationError

from callboard.app.apply import export_center
from callboard.app.flow_offline import OfflineCall, OfflineError, run_offline
from callboard.app.flow_report import format_report
from callboard.app.server import open_center
from callboard.config.center import CenterInvalid, load_center
from callboard.config.model import Center, Workspace
from callboard.config.settings import Settings
from callboard.flows.conversation import QueueOutcome
from callboard.flows.model import QUEUE_EXITS
from callboard.flows.scripted import HANG_UP, HangUp

__all__ = ["app"]

app = typer.Typer(help="Contact flows: try one offline.", no_args_is_help=True, add_completion=False)

_OUTCOMES = {label: outcome for outcome, label in QUEUE_EXITS.items()} | {"timeout": QueueOutcome.TIMEOUT}


@app.command("test")
def test_command(
    flow: Annotated[str | None, typer.Argument(help="The flow to run (default: the --number's flow).")] = None,
    center: Annotated[Path | None, typer.Option("--center", "-c", help="The center's YAML file.")] = None,
    database: Annotated[str | None, typer.Option("--database", "-d", help="Read the store instead of a file.")] = None,
    workspace: Annotated[str | None, typer.Option(help="The workspace (default: the only one).")] = None,
    number: Annotated[
        str | None, typer.Option(help="The number called, E.164 or national (default: the first running FLOW).")
    ] = None,
    caller: Annotated[str, typer.Option(help="Who calls (E.164, or national in the number's region).")] = "",
    at: Annotated[
        str | None,
        typer.Option(help='"YYYY-MM-DD HH:MM" in the number\'s time zone, or with +01:00 or a zone (default: now).'),
    ] = None,
    digits: Annotated[
        str | None, typer.Option(help='One answer per ask, comma-separated: "1,,42#" (empty: no input; hangup).')
    ] = None,
    language: Annotated[str | None, typer.Option(help="The caller's language instead of the number's.")] = None,
    contact: Annotated[
        str | None, typer.Option(help='The caller as a CRM contact, JSON: \'{"name": "Ana", "vip": true}\'.')
    ] = None,
    lookup: Annotated[
        list[str] | None, typer.Option(help="A lookup node's reply: URL=JSON (repeatable).", show_default=False)
    ] = None,
    http: Annotated[bool, typer.Option("--http", help="Send lookups without a --lookup reply for real.")] = False,
    queue_outcome: Annotated[
        str | None,
        typer.Option(help="How each enqueue ends, comma-separated: completed, hung_up, timed_out, no_agents, ..."),
    ] = None,
    transfer_fails: Annotated[bool, typer.Option("--transfer-fails", help="Transfers do not connect.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
) -> None:
    """Run a flow offline on a virtual clock; print the path taken and what the caller would hear."""
    try:
        call = OfflineCall(
            flow=flow,
            number=number,
            caller=caller,
            at=at,
            digits=_digits(digits),
            language=language,
            contact=_contact(contact),
            lookups=_lookups(lookup or []),
            live_http=http,
            queue_outcomes=_outcomes(queue_outcome),
            transfer_fails=transfer_fails,
        )
        desired, workspace_ids, closures = _source(center, database)
        space = _workspace(desired, workspace)
        data = asyncio.run(
            run_offline(space, call, workspace_id=workspace_ids.get(space.name), closures=closures.get(space.name, ()))
        )
    except OfflineError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.code) from None
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2) if as_json else format_report(data))


# -- options -------------------------------------------------------------------------------------------------


def _digits(text: str | None) -> list[str | HangUp | None]:
    if text is None:
        return []
    inputs: list[str | HangUp | None] = []
    for item in text.split(","):
        item = item.strip()
        if item.lower() == "hangup":
            inputs.append(HANG_UP)
        elif item and not all(c in "0123456789*#" for c in item):
            raise OfflineError(f"--digits: {item!r} is not phone keys (0-9, * and #), 'hangup' or empty (no input)")
        else:
            inputs.append(item)
    return inputs


def _lookups(items: Sequence[str]) -> dict[str, Any]:
    replies: dict[str, Any] = {}
    for item in items:
        for at in (i for i, c in enumerate(item) if c == "="):
            try:
                replies[item[:at]] = json.loads(item[at + 1 :])
                break
            except json.JSONDecodeError:
                continue
        else:
            raise OfflineError(f'--lookup {item!r} is not URL=JSON (like \'https://crm/x={{"tier": "gold"}}\')')
    return replies


def _outcomes(text: str | None) -> list[QueueOutcome]:
    if not text:
        return []
    found = []
    for item in text.split(","):
        outcome = _OUTCOMES.get(item.strip())
        if outcome is None:
            raise OfflineError(f"--queue-outcome {item.strip()!r} is not one of {', '.join(QUEUE_EXITS.values())}")
        found.append(outcome)
    return found


def _contact(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OfflineError(f"--contact is not JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(value, dict):
        raise OfflineError('--contact must be a JSON object like \'{"name": "Ana", "vip": true}\'')
    return value


# -- the workspace -------------------------------------------------------------------------------------------


def _source(file: Path | None, database: str | None) -> tuple[Center, dict[str, str], dict[str, list[dict[str, Any]]]]:
    """The center, the workspace sids by name (from the store) and the emergency closures by workspace name."""
    if (file is None) == (database is None):
        raise OfflineError("give the center: --center FILE or --database URL (one of the two)")
    if file is not None:
        try:
            return load_center(file), {}, {}
        except CenterInvalid as exc:
            for error in exc.errors:
                typer.echo(str(error), err=True)
            raise OfflineError(f"{file}: {len(exc.errors)} error{'s' if len(exc.errors) != 1 else ''}", 1) from None
        except OSError as exc:
            raise OfflineError(f"{file}: {exc.strerror or exc}") from None
    assert database is not None
    try:
        settings = Settings(database_url=database)
    except PydanticValidationError as exc:
        raise OfflineError(f"--database: {exc.errors()[0]['msg']}") from None
    return asyncio.run(_from_store(settings))


async def _from_store(settings: Settings) -> tuple[Center, dict[str, str], dict[str, list[dict[str, Any]]]]:
    async with open_center(settings, timers=False) as center:
        exported = await export_center(center)
        sids = {engine.friendly_name: sid for sid, engine in center.workspaces().items()}
        closures = {name: await center.store.list_closures(sid) for name, sid in sids.items()}
    return exported, sids, closures


def _workspace(center: Center, name: str | None) -> Workspace:
    names = [w.name for w in center.workspaces]
    if name is None:
        if len(names) == 1:
            return center.workspaces[0]
        raise OfflineError(f"name the workspace: --workspace {' | '.join(names) or '(there are none)'}")
    for space in center.workspaces:
        if space.name == name:
            return space
    raise OfflineError(f"no workspace is named {name!r} (workspaces: {', '.join(names) or 'none'})", 1)
