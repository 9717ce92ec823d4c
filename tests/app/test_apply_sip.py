"""`apply` gives users with a clear password SIP credentials; `export` carries them to another store intact."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from callboard.app.apply import apply_center, export_center, plan_center
from callboard.app.center import Center
from callboard.config.center import load_center_text
from callboard.config.dump import dump_center
from callboard.core.clock import VirtualClock
from callboard.storage import Store
from callboard.voice.sip.digest import Algorithm, ha1
from conftest import Database

FILE = """\
version: 1
workspaces:
  - name: acme
    default_activity: Offline
    timeout_activity: Offline
    activities:
      - {name: Offline}
    workers:
      - name: alice
users:
  - {username: alice, role: agent, password: "alice's secret", workspace: acme, worker: alice}
  - {username: boss, role: admin, password: "boss's secret"}
"""


def expected(username: str, password: str, realm: str) -> tuple[str, str, str]:
    return realm, ha1(username, realm, password, Algorithm.MD5), ha1(username, realm, password, Algorithm.SHA_256)


async def credentials(store: Store, username: str) -> tuple[str, str, str] | None:
    found = await store.get_sip_credentials(username)
    return None if found is None else (found["realm"], found["ha1_md5"], found["ha1_sha256"])


@asynccontextmanager
async def running(database: Database) -> AsyncIterator[Center]:
    store = await database.open()
    await store.migrate()
    center = await Center.start(store, VirtualClock(), timers=False)
    try:
        yield center
    finally:
        await center.stop()
        await store.close()


async def test_a_clear_password_gives_sip_credentials_in_the_realm(database: Database) -> None:
    desired = load_center_text(FILE, "c.yaml")
    async with running(database) as center:
        planned = await apply_center(center, desired, dry_run=True, sip_realm="acme.test")
        assert "+ user alice" in [f"+ {c.label}" for c in planned]
        assert await center.store.get_user_by_name("alice") is None  # a dry run changes nothing

        await apply_center(center, desired, sip_realm="acme.test")
        assert await credentials(center.store, "alice") == expected("alice", "alice's secret", "acme.test")
        assert await credentials(center.store, "boss") == expected("boss", "boss's secret", "acme.test")
        found = await center.store.get_sip_credentials("alice")
        assert found is not None and found["worker_sid"] == center.workspace("acme").worker_by_name("alice").sid

        assert await apply_center(center, desired, sip_realm="acme.test") == []  # idempotent
        # Another realm (the server's sip_realm changed): the same passwords give new credentials.
        changes = await plan_center(center, desired, sip_realm="other.test")
        assert [(c.name, set(c.fields)) for c in changes] == [
            ("alice", {"sip_credentials"}),
            ("boss", {"sip_credentials"}),
        ]
        await apply_center(center, desired, sip_realm="other.test")
        assert await credentials(center.store, "alice") == expected("alice", "alice's secret", "other.test")


async def test_a_new_password_gives_new_sip_credentials(database: Database) -> None:
    async with running(database) as center:
        await apply_center(center, load_center_text(FILE, "c.yaml"))
        assert await credentials(center.store, "boss") == expected("boss", "boss's secret", "callboard")
        changed = load_center_text(FILE.replace("boss's secret", "a new secret"), "c.yaml")
        changes = await apply_center(center, changed)
        assert [(c.name, set(c.fields)) for c in changes] == [("boss", {"password", "sip_credentials"})]
        assert await credentials(center.store, "boss") == expected("boss", "a new secret", "callboard")
        assert await credentials(center.store, "alice") == expected("alice", "alice's secret", "callboard")


async def test_export_then_apply_to_a_fresh_store_keeps_working_sip_credentials(
    database: Database, tmp_path: Path
) -> None:
    async with running(database) as center:
        await apply_center(center, load_center_text(FILE, "c.yaml"), sip_realm="acme.test")
        text = dump_center(await export_center(center))
    assert "password:" not in text and "alice's secret" not in text
    assert text.count("sip_credentials:") == 2 and "realm: acme.test" in text

    fresh = Database(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    exported = load_center_text(text, "export.yaml")
    async with running(fresh) as center:
        # The realm travels in the file: the applier's own realm does not matter for these users.
        await apply_center(center, exported, sip_realm="callboard")
        assert await credentials(center.store, "alice") == expected("alice", "alice's secret", "acme.test")
        assert await credentials(center.store, "boss") == expected("boss", "boss's secret", "acme.test")
        assert await plan_center(center, exported) == []
        assert dump_center(await export_center(center)) == text


async def test_a_password_hash_without_sip_credentials_removes_them(database: Database) -> None:
    async with running(database) as center:
        await apply_center(center, load_center_text(FILE, "c.yaml"))
        text = dump_center(await export_center(center))
        lines = text.splitlines(keepends=True)
        # Drop boss's sip_credentials block (the key and its three lines), keep alice's.
        start = max(i for i, line in enumerate(lines) if "sip_credentials:" in line)
        without = "".join(lines[:start] + lines[start + 4 :])
        assert without.count("sip_credentials:") == 1
        changes = await apply_center(center, load_center_text(without, "c.yaml"))
        assert [(c.name, set(c.fields)) for c in changes] == [("boss", {"sip_credentials"})]
        assert await credentials(center.store, "boss") is None
        assert await credentials(center.store, "alice") is not None
        assert (await center.store.get_user_by_name("boss") or {})["password_hash"].startswith("$argon2")


def test_the_cli_applies_in_the_configured_realm(tmp_path: Path) -> None:
    (tmp_path / "center.yaml").write_text(FILE)
    db = f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    env = {**os.environ, "CALLBOARD_SIP_REALM": "cli.test"}
    result = subprocess.run(
        [sys.executable, "-m", "callboard", "apply", "center.yaml", "--database", db],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    exported = subprocess.run(
        [sys.executable, "-m", "callboard", "export", "--database", db],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    realm, md5, _ = expected("alice", "alice's secret", "cli.test")
    assert f"realm: {realm}" in exported.stdout and md5 in exported.stdout
