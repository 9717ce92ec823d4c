"""The `callboard` command line."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from pydantic import ValidationError as PydanticValidationError
from rich.console import Console

from callboard.app.apply import apply_center, export_center, plan_center
from callboard.app.center import Center
from callboard.app.flow_cli import app as flow_app
from callboard.app.server import open_center, run_loop, serve
from callboard.app.traffic import Traffic, TrafficProfile
from callboard.app.voice import VoiceNode
from callboard.config.center import CenterInvalid, check_file, load_center
from callboard.config.dump import dump_center
from callboard.config.plan import format_plan
from callboard.config.settings import Settings
from callboard.core.errors import CallboardError
from callboard.storage.store import Store

app = typer.Typer(help="Callboard: an open-source contact center.", no_args_is_help=True, add_completion=False)
app.add_typer(flow_app, name="flow")
out = Console()
err = Console(stderr=True)

DatabaseOption = Annotated[
    str | None, typer.Option("--database", "-d", help="Store URL (default: $CALLBOARD_DATABASE_URL or ./callboard.db).")
]


def _settings(database: str | None = None, **overrides: object) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if database is not None:
        values["database_url"] = database
    try:
        return Settings(**values)  # type: ignore[arg-type]
    except PydanticValidationError as exc:
        for problem in exc.errors():
            name = "CALLBOARD_" + "_".join(str(p) for p in problem["loc"]).upper() if problem["loc"] else "settings"
            err.print(f"error: {name}: {problem['msg']}")
        raise typer.Exit(2) from None


def _serve(settings: Settings, **hooks: Any) -> None:
    """Serves until stopped; a setting the voice plane refuses or a port in use is an error line, not a trace."""
    try:
        run_loop(serve(settings, **hooks))
    except CallboardError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(1) from None
    except OSError as exc:
        err.print(f"error: {exc.strerror or exc} (is another server using the port? see CALLBOARD_SIP_PORT, --port)")
        raise typer.Exit(1) from None


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@app.command()
def check(file: Annotated[Path, typer.Argument(help="The center's YAML file.")]) -> None:
    """Check a center file; print every error as file:line:col: message."""
    try:
        errors = check_file(file)
    except OSError as exc:
        err.print(f"{file}: {exc.strerror or exc}")
        raise typer.Exit(2) from None
    for error in errors:
        print(error)
    if errors:
        err.print(f"{len(errors)} error{'s' if len(errors) != 1 else ''}")
        raise typer.Exit(1)
    out.print(f"{file}: ok")


def _load(file: Path) -> object:
    try:
        return load_center(file)
    except CenterInvalid as exc:
        for error in exc.errors:
            print(error)
        raise typer.Exit(1) from None
    except OSError as exc:
        err.print(f"{file}: {exc.strerror or exc}")
        raise typer.Exit(2) from None


@app.command()
def apply(
    file: Annotated[Path, typer.Argument(help="The center's YAML file.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; change nothing.")] = False,
    database: DatabaseOption = None,
) -> None:
    """Make the store match a center file (idempotent): prints what it creates (+), changes (~) and deletes (-)."""
    desired = _load(file)
    settings = _settings(database)

    async def main() -> None:
        async with open_center(settings, timers=False) as center:
            if dry_run:
                changes = await plan_center(center, desired, sip_realm=settings.sip_realm)  # type: ignore[arg-type]
            else:
                changes = await apply_center(center, desired, sip_realm=settings.sip_realm)  # type: ignore[arg-type]
        if not changes:
            out.print("No changes: the store already matches the file.")
            return
        print(format_plan(changes))
        verb = "planned (dry run, nothing changed)" if dry_run else "applied"
        out.print(f"{len(changes)} change{'s' if len(changes) != 1 else ''} {verb}.")

    run_loop(main())


@app.command()
def export(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    database: DatabaseOption = None,
) -> None:
    """Write the live configuration as a center file that `apply` takes back unchanged."""
    settings = _settings(database)

    async def main() -> str:
        async with open_center(settings, timers=False) as center:
            return dump_center(await export_center(center))

    text = run_loop(main())
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
        out.print(f"wrote {output}")


@app.command()
def migrate(database: DatabaseOption = None) -> None:
    """Create or upgrade the store's tables."""
    settings = _settings(database)

    async def main() -> None:
        store = await Store.open(settings.database_url)
        try:
            await store.migrate()
        finally:
            await store.close()

    run_loop(main())
    out.print("store is up to date")


@app.command(name="serve")
def serve_command(
    host: Annotated[str | None, typer.Option(help="Listen address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port (default 8080).")] = None,
    database: DatabaseOption = None,
) -> None:
    """Run Callboard: the API, the event stream and the routing engines."""
    settings = _settings(database, host=host, port=port)
    _configure_logging(settings)
    _serve(settings)


def _demo_file() -> Path:
    for candidate in (
        Path("examples/demo-center.yaml"),
        Path(__file__).resolve().parents[3] / "examples/demo-center.yaml",
    ):
        if candidate.exists():
            return candidate
    raise typer.BadParameter("examples/demo-center.yaml not found; pass --file")


@app.command()
def demo(
    file: Annotated[Path | None, typer.Option(help="Center file (default examples/demo-center.yaml).")] = None,
    data: Annotated[Path, typer.Option(help="Folder for the demo's SQLite store; emptied first.")] = Path("demo-data"),
    port: Annotated[int, typer.Option(help="HTTP port.")] = 8080,
    host: Annotated[str, typer.Option(help="Listen address.")] = "127.0.0.1",
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for the traffic generator.")] = None,
    interarrival: Annotated[float, typer.Option(help="Mean seconds between simulated customers.")] = 4.0,
    sip_port: Annotated[int, typer.Option(help="SIP port (UDP and TCP) for phones and callers; 0: any free.")] = 5060,
) -> None:
    """Apply the demo center to a fresh SQLite store, serve it, and run simulated traffic through it."""
    path = file or _demo_file()
    desired = _load(path)
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    settings = _settings(
        f"sqlite+aiosqlite:///{data / 'callboard.db'}",
        host=host,
        port=port,
        demo=True,
        sip_host=host,
        sip_port=sip_port,
        recordings_dir=str(data / "recordings"),
        voice_attributes='{"language": "en", "site": "madrid"}',
    )
    _configure_logging(settings)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)

    async def before(center: Center) -> None:
        changes = await apply_center(center, desired, sip_realm=settings.sip_realm)  # type: ignore[arg-type]
        out.print(f"Applied {path}: {len(changes)} changes.")

    async def beside(center: Center, server: uvicorn.Server, voice: VoiceNode | None) -> None:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for this
            await asyncio.sleep(0.05)
        _print_welcome(settings, path, voice.port() if voice is not None else None)
        traffic = Traffic(center, "demo", seed=seed, profile=TrafficProfile(mean_interarrival=interarrival))
        run = asyncio.create_task(traffic.run())
        try:
            if duration is not None:
                await asyncio.sleep(duration)
                server.should_exit = True
            await run
        finally:
            run.cancel()
            await asyncio.gather(run, return_exceptions=True)
            out.print(f"Demo traffic created {traffic.created} tasks.")

    _serve(settings, before=before, beside=beside)


def _print_welcome(settings: Settings, path: Path, sip_port: int | None) -> None:
    base = f"http://{settings.host}:{settings.port}"
    sip = f"sip:{settings.sip_host}:{sip_port}" if sip_port is not None else "off"
    at = f"@{settings.sip_host}:{sip_port}"
    calls = (
        f"""
  Call the demo center's numbers from a second phone (docs/flows.md, "The demo center's flows"):
    sip:34900100200{at}  24-hour line, English: 1 sales, 2 support, 3 billing, 9 voicemail
    sip:34910000100{at}  Madrid, Spanish, open Mon-Fri 9-14 and 16-19, Sat 10-14 (Madrid time):
                         1 English, 2 Español, 3 Russian, then the department as above
    sip:13035550100{at}  Denver, English, open Mon-Fri 8-18 (Denver time): the same menus
"""
        if sip_port is not None
        else ""
    )
    print(
        f"""
Callboard demo center is running ({path}; store {settings.database_url})

  Open the UI      {base}/   sign in as an agent (desktop), the supervisor (wallboard) or admin
  API docs         {base}/docs
  Health, metrics  {base}/healthz  {base}/metrics
  Event stream     ws://{settings.host}:{settings.port}/api/v1/stream
  SIP (UDP, TCP)   {sip}   phones register as an agent (alice / agent)
{calls}
  Users (from the demo file, also for the UI):
    admin / admin                admin page, wallboard
    supervisor / supervisor      wallboard
    alice, carlos, lucia, pablo, irina, javier, bob, emma, liam, olivia, dmitri, sofia / agent
                                 agent desktop (alice takes sales and support calls)

  Try:
    curl -c cookies -H 'content-type: application/json' -d '{{"username":"admin","password":"admin"}}' \\
         {base}/api/v1/auth/login
    curl -b cookies {base}/api/v1/workspaces/demo/statistics
    curl -b cookies '{base}/api/v1/workspaces/demo/tasks?assignment_status=pending,reserved,assigned'

Simulated customers arrive every few seconds; simulated agents accept, talk and wrap up. Ctrl-C stops.
""",
        flush=True,
    )


def main() -> None:
    app()
