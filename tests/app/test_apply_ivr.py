"""`apply` stores a center file's IVR (flows as versions, numbers in E.164, prompts with their recordings, contacts,
waiting options); `export` writes it back so that applying the export changes nothing, here or in a new store."""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from callboard.app.apply import apply_center, export_center, plan_center
from callboard.app.center import Center
from callboard.config.center import load_center, load_center_text
from callboard.config.dump import dump_center
from callboard.config.plan import format_plan
from callboard.core.clock import VirtualClock
from conftest import Database

FILE = """\
version: 1
workspaces:
  - name: acme
    default_activity: Offline
    timeout_activity: Offline
    activities:
      - {name: Offline}
    channels:
      - {name: voice}
    queues:
      - name: sales
        waiting:
          music: hold-music
          announcements: [{prompt: promo, every: 90}]
          callback: {key: "1", after: 30, workflow: inbound}
      - name: support
    workflows:
      - name: inbound
        configuration:
          task_routing:
            default_filter: {queue: sales}
    workers:
      - name: alice
    prompts:
      - name: welcome
        text: {en: "Welcome to Acme.", es: "Bienvenido a Acme."}
        file: {en: prompts/welcome-en.wav}
        voice: {es: es}
      - name: promo
        text: {en: "Ask us about our offers."}
      - name: hold-music
        file: {en: prompts/music.wav}
    schedules:
      - name: madrid
        time_zone: Europe/Madrid
        weekly: {mon: ["09:00-18:00"]}
        dates:
          - {date: 2026-12-24, name: Nochebuena}
    numbers:
      - {number: "+34 910 000 001", site: madrid, flow: main, language: es, schedule: madrid}
      - {number: "910 000 002", region: es, site: madrid, flow: main, time_zone: Europe/Madrid}
    flows:
      - name: main
        nodes:
          hours: {type: hours, schedule: madrid, open: menu, closed: bye}
          menu: {type: menu, say: [welcome], options: {1: sales, 2: bye}}
          sales: {type: enqueue, workflow: inbound}
          bye: {type: hangup, say: [goodbye]}
    contacts:
      - {name: "Ana García", numbers: ["+34 600 000 001"], vip: true, manager: alice, language: es}
"""


def wav(seconds: float, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x20\x00" * int(rate * seconds))
    return out.getvalue()


def center_file(folder: Path, text: str = FILE) -> Path:
    (folder / "prompts").mkdir(parents=True, exist_ok=True)
    (folder / "prompts" / "welcome-en.wav").write_bytes(wav(0.5, rate=16000))
    (folder / "prompts" / "music.wav").write_bytes(wav(1.0))
    path = folder / "center.yaml"
    path.write_text(text)
    return path


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


async def test_apply_stores_the_ivr(database: Database, tmp_path: Path) -> None:
    desired = load_center(center_file(tmp_path))
    async with running(database) as center:
        changes = format_plan(await apply_center(center, desired)).splitlines()
        for line in (
            "+ prompt acme/welcome",
            "+ schedule acme/madrid",
            "+ flow acme/main",
            "+ number acme/+34910000001",
            "+ number acme/+34910000002",
            "+ contact acme/Ana García",
        ):
            assert line in changes
        assert changes.index("+ prompt acme/hold-music") < changes.index("+ queue acme/sales")
        assert changes.index("+ workflow acme/inbound") < changes.index("+ flow acme/main")
        assert changes.index("+ flow acme/main") < changes.index("+ number acme/+34910000001")

        store, sid = center.store, center.workspace("acme").sid
        flow = await store.get_flow(sid, "main")
        assert flow is not None and flow["version"] == 1
        assert flow["definition"]["nodes"]["menu"]["options"] == {"1": "sales", "2": "bye"}
        assert await store.find_number("+34910000002") == (
            sid,
            {"number": "+34910000002", "region": "es", "site": "madrid", "flow": "main", "time_zone": "Europe/Madrid"},
        )
        schedule = await store.get_document(sid, "schedule", "madrid")
        assert schedule is not None and schedule["dates"] == [{"date": "2026-12-24", "name": "Nochebuena"}]
        welcome_en = await store.get_prompt(sid, "welcome", "en")
        assert welcome_en is not None and welcome_en["source"] == "file" and welcome_en["text"] == "Welcome to Acme."
        with wave.open(io.BytesIO(welcome_en["audio"])) as stored:
            assert stored.getframerate() == 8000
        welcome_es = await store.get_prompt(sid, "welcome", "es")
        assert welcome_es is not None
        assert (welcome_es["source"], welcome_es["voice"], welcome_es["audio"]) == ("tts", "es", None)
        waiting = await store.get_document(sid, "queue_waiting", "sales")
        assert waiting is not None and waiting["music"] == "hold-music" and waiting["announce_every"] == 60
        assert waiting["announcements"] == [{"prompt": "promo", "every": 90}]
        assert waiting["callback"]["workflow"] == "inbound" and waiting["callback"]["retries"] == 2
        assert await store.get_document(sid, "queue_waiting", "support") is None
        ana = await store.find_contact(sid, "+34600000001")
        assert ana is not None and ana["name"] == "Ana García" and ana["vip"] is True and ana["manager"] == "alice"

        assert await plan_center(center, desired) == []  # idempotent


async def test_export_applies_cleanly_here_and_in_a_new_store(database: Database, tmp_path: Path) -> None:
    desired = load_center(center_file(tmp_path))
    async with running(database) as center:
        await apply_center(center, desired)
        text = dump_center(await export_center(center))
        assert "file:" not in text and "audio:" in text  # the recordings travel inside the export
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        exported = load_center_text(text, str(elsewhere / "export.yaml"))
        assert await plan_center(center, exported) == []
        by_name = {p.name: p for p in exported.workspaces[0].prompts}
        assert [by_name[p.name] for p in desired.workspaces[0].prompts] == list(desired.workspaces[0].prompts)

    fresh = Database(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    async with running(fresh) as center:
        await apply_center(center, exported)
        assert await plan_center(center, exported) == []
        assert dump_center(await export_center(center)) == text


async def test_a_changed_flow_is_a_new_version_and_removed_things_go(database: Database, tmp_path: Path) -> None:
    async with running(database) as center:
        await apply_center(center, load_center(center_file(tmp_path)))
        sid = center.workspace("acme").sid
        changed = (
            FILE.replace("options: {1: sales, 2: bye}", "options: {1: sales, 9: bye}")
            .replace(
                '      - {number: "910 000 002", region: es, site: madrid, flow: main, time_zone: Europe/Madrid}\n', ""
            )
            .replace("        voice: {es: es}\n", "")
            .replace("          music: hold-music\n", "")
            .replace("      - name: hold-music\n        file: {en: prompts/music.wav}\n", "")
        )
        changes = format_plan(await apply_center(center, load_center(center_file(tmp_path, changed))))
        assert changes.splitlines() == [
            '~ prompt acme/welcome: voice {"es": "es"} -> {}',
            changes.splitlines()[1],
            changes.splitlines()[2],
            "- number acme/+34910000002",
            "- prompt acme/hold-music",
        ]
        assert changes.splitlines()[1].startswith("~ queue acme/sales: waiting ")
        assert changes.splitlines()[2].startswith("~ flow acme/main: definition ")
        assert [v["version"] for v in await center.store.flow_versions(sid, "main")] == [1, 2]
        assert await center.store.find_number("+34910000002") is None
        assert [p["name"] for p in await center.store.list_prompts(sid)] == ["promo", "welcome", "welcome"]
        es = await center.store.get_prompt(sid, "welcome", "es")
        assert es is not None and es["voice"] is None
        waiting = await center.store.get_document(sid, "queue_waiting", "sales")
        assert waiting is not None and waiting["music"] is None

        # back to the first file: the flow's definition is new again, so version 3
        await apply_center(center, load_center(center_file(tmp_path)))
        assert [v["version"] for v in await center.store.flow_versions(sid, "main")] == [1, 2, 3]


async def test_numbers_and_contact_numbers_move_in_one_apply(database: Database, tmp_path: Path) -> None:
    other = """\
  - name: other
    default_activity: Offline
    timeout_activity: Offline
    activities: [{name: Offline}]
    flows: [{name: f, nodes: {bye: {type: hangup}}}]
    numbers: []
"""
    async with running(database) as center:
        await apply_center(center, load_center(center_file(tmp_path, FILE + other)))
        moved = FILE.replace(
            '      - {number: "910 000 002", region: es, site: madrid, flow: main, time_zone: Europe/Madrid}\n', ""
        ) + (
            other.replace(
                "numbers: []", 'numbers: [{number: "+34910000002", site: x, flow: f, time_zone: Europe/Madrid}]'
            )
        )
        moved = moved.replace(
            '    contacts:\n      - {name: "Ana García", numbers: ["+34 600 000 001"]',
            '    contacts:\n      - {name: Bob, numbers: ["+34600000001"]}\n      - {name: "Ana García", numbers: []',
        )
        await apply_center(center, load_center(center_file(tmp_path, moved)))
        acme, other_sid = center.workspace("acme").sid, center.workspace("other").sid
        found = await center.store.find_number("+34910000002")
        assert found is not None and found[0] == other_sid
        bob = await center.store.find_contact(acme, "+34600000001")
        assert bob is not None and bob["name"] == "Bob"
        assert [c["numbers"] for c in await center.store.list_contacts(acme)] == [[], ["+34600000001"]]
        assert await plan_center(center, load_center(tmp_path / "center.yaml")) == []


async def test_contacts_left_out_of_the_file_are_left_alone(database: Database, tmp_path: Path) -> None:
    without = FILE.split("    contacts:")[0]
    async with running(database) as center:
        await apply_center(center, load_center(center_file(tmp_path, without)))
        sid = center.workspace("acme").sid
        await center.store.put_contact(sid, {"name": "Walk-in", "numbers": ["+13035550100"]})
        assert await plan_center(center, load_center(tmp_path / "center.yaml")) == []
        exported = dump_center(await export_center(center))
        assert "{name: Walk-in, numbers: ['+13035550100'], vip: false}" in exported


async def test_a_deleted_workspace_takes_its_ivr(database: Database, tmp_path: Path) -> None:
    async with running(database) as center:
        await apply_center(center, load_center(center_file(tmp_path)))
        sid = center.workspace("acme").sid
        changes = await apply_center(center, load_center_text("version: 1\n", "empty.yaml"))
        assert format_plan(changes).splitlines()[-1] == "- workspace acme"
        assert await center.store.find_number("+34910000001") is None
        assert await center.store.list_flows(sid) == []
        assert await center.store.list_prompts(sid) == []
        assert await center.store.list_contacts(sid) == []


async def test_dispositions_are_applied_exported_and_left_alone_without_the_key(
    database: Database, tmp_path: Path
) -> None:
    codes = "    dispositions:\n      - {code: sale, label: Sale, labels: {es: Venta}}\n      - no-answer\n"
    async with running(database) as center:
        await apply_center(center, load_center(center_file(tmp_path, FILE + codes)))
        sid = center.workspace("acme").sid
        stored = await center.store.get_document(sid, "dispositions", "dispositions")
        assert stored is not None and [d["code"] for d in stored["items"]] == ["sale", "no-answer"]
        assert await plan_center(center, load_center(tmp_path / "center.yaml")) == []
        exported = dump_center(await export_center(center))
        assert "- {code: sale, label: Sale, labels: {es: Venta}}" in exported

        changed = FILE + "    dispositions: [sale]\n"
        changes = format_plan(await apply_center(center, load_center(center_file(tmp_path, changed))))
        assert changes.startswith("~ workspace acme: dispositions ")
        stored = await center.store.get_document(sid, "dispositions", "dispositions")
        assert stored == {"items": [{"code": "sale", "label": "sale", "labels": {}}]}
        assert await apply_center(center, load_center(center_file(tmp_path, FILE))) == []  # no key: kept
        assert await center.store.get_document(sid, "dispositions", "dispositions") == stored
