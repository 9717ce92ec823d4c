"""The IVR keys of a center file: prompts, schedules, numbers, flows, contacts and queue waiting options, checked
at file:line:col, kept as the store keeps them, and written back by `dump_center`."""

from __future__ import annotations

import base64
import dataclasses
import io
import wave
from pathlib import Path

import pytest

from callboard.config.center import check_text, load_center, load_center_text
from callboard.config.dump import dump_center
from callboard.config.model import Announcement, Callback, Contact, Waiting
from callboard.config.plan import format_plan, plan


def wav(seconds: float = 0.25, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x10\x00" * int(rate * seconds))
    return out.getvalue()


CENTER = """\
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
          announce_every: 45
          announcements: [{prompt: promo, every: 90}]
          callback: {key: "1", after: 30, workflow: inbound, retries: 3}
          max_wait: 900
          leave_when_empty: true
      - name: support
    workflows:
      - name: inbound
        configuration:
          task_routing:
            default_filter: {queue: sales}
    workers:
      - name: alice
    prompts:
      - name: welcome-madrid
        text: {en: "Welcome to Acme, Madrid.", es: "Bienvenido a Acme Madrid."}
        file: {en: prompts/welcome-en.wav}
        voice: {es: es}
      - name: promo
        text: {en: "Ask us about our offers."}
      - name: hold-music
        file: {en: prompts/music.wav}
    schedules:
      - name: madrid
        time_zone: Europe/Madrid
        weekly: {mon: ["09:00-18:00"], tue: ["09:00-18:00"]}
        dates:
          - {date: 2026-12-24, name: Nochebuena}
    numbers:
      - {number: "+34 910 000 001", site: madrid, flow: main, language: es, schedule: madrid}
    flows:
      - name: main
        start: hours
        nodes:
          hours: {type: hours, schedule: madrid, open: menu, closed: bye}
          menu:
            type: menu
            say: [welcome-madrid]
            options: {1: sales, 2: bye}
          sales: {type: enqueue, workflow: inbound}
          bye: {type: hangup, say: [goodbye]}
    contacts:
      - {name: "Ana García", numbers: ["+34 600 000 001"], vip: true, manager: alice, language: es,
         attributes: {account: "A-1001"}}
"""


@pytest.fixture
def center_file(tmp_path: Path) -> Path:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "welcome-en.wav").write_bytes(wav(0.5, rate=16000))
    (tmp_path / "prompts" / "music.wav").write_bytes(wav(1.0))
    path = tmp_path / "center.yaml"
    path.write_text(CENTER)
    return path


def errors(text: str, tmp_path: Path) -> list[str]:
    (tmp_path / "prompts").mkdir(exist_ok=True)
    for name in ("welcome-en.wav", "music.wav"):
        (tmp_path / "prompts" / name).write_bytes(wav())
    return [str(e) for e in check_text(text, str(tmp_path / "c.yaml"))]


def edited(old: str, new: str) -> str:
    assert old in CENTER, old
    return CENTER.replace(old, new, 1)


def test_the_ivr_keys_load_as_the_store_keeps_them(center_file: Path) -> None:
    space = load_center(center_file).workspaces[0]
    welcome, promo, music = space.prompts
    assert welcome.text == {"en": "Welcome to Acme, Madrid.", "es": "Bienvenido a Acme Madrid."}
    assert welcome.voice == {"es": "es"} and welcome.file == {"en": "prompts/welcome-en.wav"}
    with wave.open(io.BytesIO(welcome.audio["en"])) as converted:  # converted to 8 kHz on loading
        assert (converted.getframerate(), converted.getnchannels()) == (8000, 1)
    assert promo.audio == {} and music.text == {}

    (schedule,) = space.schedules
    assert schedule.name == "madrid"
    assert schedule.body["dates"] == [{"date": "2026-12-24", "name": "Nochebuena"}]  # JSON keeps text
    (number,) = space.numbers
    assert number.number == "+34910000001" and number.body["number"] == "+34910000001"
    assert number.body["flow"] == "main"
    (flow,) = space.flows
    assert flow.name == "main" and flow.definition["nodes"]["menu"]["options"] == {"1": "sales", "2": "bye"}
    assert space.contacts == (Contact("Ana García", ("+34600000001",), True, "alice", "es", {"account": "A-1001"}),)
    sales, support = space.queues
    assert support.waiting is None
    assert sales.waiting == Waiting(
        music="hold-music",
        announce_every=45,
        announcements=(Announcement("promo", 90),),
        callback=Callback(key="1", after=30, workflow="inbound", retries=3),
        max_wait=900,
        leave_when_empty=True,
    )


def test_the_ivr_round_trips_through_dump(center_file: Path) -> None:
    center = load_center(center_file)
    text = dump_center(center)
    # written beside the original, the recordings' paths still resolve
    again = load_center_text(text, str(center_file.parent / "export.yaml"))
    assert again == center
    assert dump_center(again) == text
    assert "file:\n" in text and "en: prompts/welcome-en.wav" in text
    assert "'2026-12-24'" in text


def test_recordings_from_the_store_are_written_inline(center_file: Path, tmp_path: Path) -> None:
    center = load_center(center_file)
    space = center.workspaces[0]
    stored = tuple(dataclasses.replace(p, file={}) for p in space.prompts)  # as export gives them
    exported = dataclasses.replace(center, workspaces=(dataclasses.replace(space, prompts=stored),))
    text = dump_center(exported)
    assert "file:" not in text
    assert base64.b64encode(space.prompts[2].audio["en"]).decode() in text
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    again = load_center_text(text, str(elsewhere / "export.yaml"))
    assert again == center  # the recording, not where it came from, is the prompt
    assert plan(center, again) == []


def test_contacts_omitted_are_not_managed(center_file: Path) -> None:
    text = CENTER.split("    contacts:")[0]
    space = load_center_text(text, str(center_file)).workspaces[0]
    assert space.contacts is None
    assert "contacts" not in dump_center(load_center_text(text, str(center_file)))
    current = load_center(center_file)
    assert [c for c in plan(current, load_center_text(text, str(center_file))) if c.kind == "contact"] == []
    emptied = text + "    contacts: []\n"
    changes = plan(current, load_center_text(emptied, str(center_file)))
    assert format_plan(changes) == "- contact acme/Ana García"


def test_the_plan_shows_each_ivr_change(center_file: Path) -> None:
    current = load_center(center_file)
    (center_file.parent / "prompts" / "music.wav").write_bytes(wav(2.0))
    changed = (
        CENTER.replace("announce_every: 45", "announce_every: 30")
        .replace("Ask us about our offers.", "Ask about our offers.")
        .replace("+34 910 000 001", "+34 910 000 002")
        .replace("name: Nochebuena", "name: Christmas Eve")
        .replace("options: {1: sales, 2: bye}", "options: {1: sales, 2: sales, 3: bye}")
        .replace("vip: true", "vip: false")
    )
    center_file.write_text(changed)
    lines = format_plan(plan(current, load_center(center_file))).splitlines()
    assert lines[0] == '~ prompt acme/promo: text {"en": "Ask us about our offers."} -> {"en": "Ask about our offers."}'
    assert lines[1] == "~ prompt acme/hold-music: audio changed"
    assert lines[2].startswith("~ schedule acme/madrid: body ")
    assert lines[3].startswith("~ queue acme/sales: waiting ")
    assert lines[4].startswith("~ flow acme/main: definition ")
    assert lines[5:] == [
        "+ number acme/+34910000002",
        "~ contact acme/Ana García: vip true -> false",
        "- number acme/+34910000001",
    ]


def test_builders_problems_are_placed_in_the_file(tmp_path: Path) -> None:
    text = (
        CENTER.replace("time_zone: Europe/Madrid", "time_zone: Europe/Atlantis")
        .replace("flow: main, language", "flow: mian, language")
        .replace("say: [goodbye]", "say: [good-bye]")
    )
    found = [e.removeprefix(str(tmp_path / "c.yaml") + ":") for e in errors(text, tmp_path)]
    assert found == [
        "38:20: unknown time zone 'Europe/Atlantis' (use a name like Europe/Madrid)",
        "43:9: time_zone is required: schedule 'madrid' cannot give its own",  # the schedule did not build
        "43:57: no flow is named 'mian'",
        found[3],
    ]
    assert found[3].startswith("54:37: unknown prompt 'good-bye'; known: all-busy, ")


def test_an_unknown_key_in_a_flow_node_is_reported_at_the_key(tmp_path: Path) -> None:
    text = edited("sales: {type: enqueue, workflow: inbound}", "sales: {type: enqueue, workflow: inbound, qeue: x}")
    (found,) = errors(text, tmp_path)
    assert found.split(": ", 1)[0].endswith("c.yaml:53:53") and "qeue" in found


@pytest.mark.parametrize(
    ("old", "new", "where", "message"),
    [
        ('text: {en: "Ask us', 'text: {fr: "Ask us', "33:16", "unknown language 'fr'"),
        (
            "file: {en: prompts/music.wav}",
            "file: {en: prompts/missing.wav}",
            "35:20",
            "cannot read prompts/missing.wav",
        ),
        ("voice: {es: es}", "voice: {ru: ru}", "31:17", "a voice for 'ru' needs a text in 'ru'"),
        ("        file: {en: prompts/music.wav}\n", "        voice: {}\n", "34:9", "a 'text' or a 'file'"),
        (
            "    schedules:\n",
            "      - {name: promo, text: {en: Again.}}\n    schedules:\n",
            "36:16",
            "duplicate prompt name",
        ),
        ("music: hold-music", "music: muzak", "13:18", "no prompt is named 'muzak'"),
        ("{prompt: promo, every: 90}", "{prompt: promo, every: 0}", "15:50", "'every' must be at least 1"),
        ("announce_every: 45", "announce_every: -1", "14:27", "must not be negative"),
        ('key: "1"', 'key: "12"', "16:27", "one phone key"),
        ("workflow: inbound, retries", "workflow: outbound, retries", "16:53", "unknown workflow 'outbound'"),
        ("max_wait: 900", "max_wait: 0", "17:21", "'max_wait' must be at least 1"),
        ("leave_when_empty: true", "leave_when_empty: yes please", "18:29", "expected true or false"),
        ("          max_wait: 900\n", "          max_wait: 900\n          musik: x\n", "18:11", "unknown key 'musik'"),
        ('"+34 600 000 001"', '"600 000 001"', "56:40", "is not a phone number"),
        ("manager: alice", "manager: bob", "56:80", "unknown worker 'bob'"),
        ("vip: true", "vip: 1", "56:65", "expected true or false"),
    ],
)
def test_ivr_errors_are_reported_where_they_are(tmp_path: Path, old: str, new: str, where: str, message: str) -> None:
    found = errors(edited(old, new), tmp_path)
    assert len(found) == 1, found
    assert f"c.yaml:{where}: " in found[0] and message in found[0], found[0]


def test_a_number_belongs_to_one_workspace_and_a_contact_number_to_one_contact(tmp_path: Path) -> None:
    other = """\
  - name: other
    default_activity: Offline
    timeout_activity: Offline
    activities: [{name: Offline}]
    schedules: [{name: s, time_zone: Europe/Madrid}]
    flows: [{name: f, nodes: {bye: {type: hangup}}}]
    numbers: [{number: "+34910000001", site: x, flow: f, time_zone: Europe/Madrid}]
"""
    text = CENTER.replace("users:", "") + other
    text = text.replace('["+34 600 000 001"], vip: true', '["+34 600 000 001", "+34600000001"], vip: true').replace(
        "    contacts:\n", '    contacts:\n      - {name: Bob, numbers: ["+34 600 000 001"]}\n'
    )
    found = [e.removeprefix(str(tmp_path / "c.yaml") + ":") for e in errors(text, tmp_path)]
    assert found == [  # a number twice in one contact is kept once; in another contact, it is an error
        "57:40: +34600000001 is already a number of the contact at line 56",
        "57:59: +34600000001 is already a number of the contact at line 56",
        "65:24: +34910000001 is already a number of workspace 'acme' (line 43)",
    ]
    ana = load_center_text(edited('"+34 600 000 001"]', '"+34 600 000 001", "+34600000001"]'), str(tmp_path / "c.yaml"))
    assert ana.workspaces[0].contacts is not None and ana.workspaces[0].contacts[0].numbers == ("+34600000001",)


def test_ivr_data_json_cannot_hold_is_refused(tmp_path: Path) -> None:
    text = edited("weekly: {mon:", "weekly: {1.5: x, mon:")
    found = errors(text, tmp_path)
    assert any("c.yaml:39:" in e and "as a key" in e for e in found), found


def test_exported_audio_must_be_an_8khz_wav(tmp_path: Path) -> None:
    bad = base64.b64encode(wav(rate=16000)).decode()
    text = edited("file: {en: prompts/music.wav}", f"audio: {{en: {bad}}}")
    (found,) = errors(text, tmp_path)
    assert "c.yaml:35:21: " in found and "8000 Hz mono" in found
    (found,) = errors(edited("file: {en: prompts/music.wav}", "audio: {en: not base64!}"), tmp_path)
    assert "base64" in found
    both = edited("file: {en: prompts/music.wav}", f"file: {{en: prompts/music.wav}}\n        audio: {{en: {bad}}}")
    assert any("either 'file' or 'audio'" in e for e in errors(both, tmp_path))
