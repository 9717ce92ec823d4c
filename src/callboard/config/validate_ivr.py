"""Validation of a workspace's IVR keys: prompts, schedules, numbers, flows, contacts and queue waiting options.

Schedules, numbers and flows are built by `flows/` (the same code that runs them), against a `Catalog` of what
the workspace and the file define; their problems come back located in the data and are placed in the file
here. The model keeps them as written (dates as ISO strings, numbers in E.164), which is also how the store
keeps them. Prompt recordings named by `file` are read relative to the center file and converted to the
8 kHz WAV the store keeps, so `check` finds a missing or unreadable recording too.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

from callboard.config.model import Announcement, Callback, Contact, ContactFlow, Number, Prompt, Schedule, Waiting
from callboard.config.reader import Reader, check_unique
from callboard.config.yaml_source import Path
from callboard.core.errors import CallboardError
from callboard.flows.audio import convert_prompt
from callboard.flows.build import build_flows
from callboard.flows.catalog import LANGUAGES, Catalog
from callboard.flows.numbers import InvalidNumberError, build_numbers, normalize_number
from callboard.flows.problems import Problem
from callboard.flows.schedule import build_schedules
from callboard.storage.ivr import wav_seconds

PROMPT_KEYS = ("name", "text", "file", "voice", "audio")
CONTACT_KEYS = ("name", "numbers", "vip", "manager", "language", "attributes")
WAITING_KEYS = (
    "music",
    "announce_position",
    "announce_wait",
    "announce_every",
    "announcements",
    "callback",
    "max_wait",
    "join_when_empty",
    "leave_when_empty",
)
ANNOUNCEMENT_KEYS = ("prompt", "every")
CALLBACK_KEYS = ("key", "after", "confirm", "workflow", "retries", "retry_every")
DTMF_KEYS = tuple("0123456789*#")

MAX_SECONDS = 86400
MAX_CALLBACK_RETRIES = 10


@dataclass(frozen=True)
class Ivr:
    """What a workspace's IVR keys hold, each with the path of its name (numbers: of their `number`)."""

    prompts: list[tuple[Prompt, Path]]
    schedules: list[tuple[Schedule, Path]]
    numbers: list[tuple[Number, Path]]
    flows: list[tuple[ContactFlow, Path]]
    contacts: list[tuple[Contact, Path]] | None


def plain(value: Any) -> Any:
    """`value` as JSON keeps it: YAML's dates and times as ISO text, whole-number keys (menu digits) as text."""
    if isinstance(value, dict):
        return {str(key) if _number_key(key) else key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return value


def _number_key(key: Any) -> bool:
    return isinstance(key, int) and not isinstance(key, bool)


def _check_json(r: Reader, value: Any, path: Path) -> None:
    """Report what `plain` cannot make JSON: keys other than text and whole numbers, values like binary."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) and not _number_key(key):
                r.error_at_key((*path, key), f"expected a name or a number as a key, got {key!r}")
            _check_json(r, item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(r, item, (*path, index))
    elif value is not None and not isinstance(value, str | int | float | bool | datetime.date):
        r.error(path, f"expected a string, number, boolean, list or mapping, got a {type(value).__name__}")


def prompt_names(m: dict[str, Any]) -> frozenset[str]:
    """The names prompts may use: the workspace's own and the system prompts."""
    return Catalog.of_workspace(prompts=_names(m.get("prompts"), "name")).prompts


def read_ivr(
    r: Reader,
    m: dict[str, Any],
    path: Path,
    *,
    queues: Sequence[str],
    workflows: Sequence[str],
    channels: Sequence[str],
    workers: Sequence[str],
) -> Ivr:
    prompts = [_prompt(r, v, (*path, "prompts", i)) for i, v in enumerate(r.sequence(m, "prompts", path))]
    found_prompts = [(p, (*path, "prompts", i, "name")) for i, p in enumerate(prompts) if p is not None]
    check_unique(r, ((p.name, at) for p, at in found_prompts), "prompt name")
    catalog = Catalog.of_workspace(
        prompts=_names(m.get("prompts"), "name"),
        workflows=workflows,
        queues=queues,
        schedules=_names(m.get("schedules"), "name"),
        flows=_names(m.get("flows"), "name"),
        channels=channels,
    )
    schedules: list[tuple[Schedule, Path]] = []
    numbers: list[tuple[Number, Path]] = []
    flows: list[tuple[ContactFlow, Path]] = []
    built: dict[str, Any] = {}
    if "schedules" in m:
        data = _listed(r, m, "schedules", path)
        built, problems = build_schedules(data, catalog)
        _place(r, problems, (*path, "schedules"))
        schedules = [(Schedule(item["name"], item), at) for item, at in _named(data, (*path, "schedules"), "name")]
    if "numbers" in m:
        data = _listed(r, m, "numbers", path)
        _, problems = build_numbers(data, catalog, built)
        _place(r, problems, (*path, "numbers"))
        numbers = _numbers(data, (*path, "numbers"))
    if "flows" in m:
        data = _listed(r, m, "flows", path)
        _, problems = build_flows(data, catalog)
        _place(r, problems, (*path, "flows"))
        flows = [(ContactFlow(item["name"], item), at) for item, at in _named(data, (*path, "flows"), "name")]
    contacts = None
    if "contacts" in m:
        items = r.sequence(m, "contacts", path)
        read = [_contact(r, v, (*path, "contacts", i), workers) for i, v in enumerate(items)]
        contacts = [(c, (*path, "contacts", i, "name")) for i, c in enumerate(read) if c is not None]
        check_unique(r, ((c.name, at) for c, at in contacts), "contact name")
        _check_contact_numbers(r, items, (*path, "contacts"))
    return Ivr(found_prompts, schedules, numbers, flows, contacts)


def _names(data: Any, key: str) -> frozenset[str]:
    if not isinstance(data, list):
        return frozenset()
    return frozenset(item[key] for item in data if isinstance(item, dict) and isinstance(item.get(key), str))


def _listed(r: Reader, m: dict[str, Any], key: str, path: Path) -> Any:
    """The data under `key` as loaded (the builders' problems then point into the file), null as an empty list;
    what JSON cannot keep is reported."""
    data = [] if m[key] is None else m[key]
    _check_json(r, data, (*path, key))
    return data


def _named(data: Any, path: Path, key: str) -> list[tuple[dict[str, Any], Path]]:
    """The items of a list that have a name under `key`, as JSON keeps them, with the path of the name."""
    if not isinstance(data, list):
        return []
    return [
        (plain(item), (*path, i, key))
        for i, item in enumerate(data)
        if isinstance(item, dict) and isinstance(item.get(key), str) and item[key]
    ]


def _place(r: Reader, problems: list[Problem], prefix: Path) -> None:
    for problem in problems:
        located = problem.under(prefix)
        if located.at_key:
            r.error_at_key(located.path, located.message)
        else:
            r.error(located.path, located.message)


def _numbers(data: Any, path: Path) -> list[tuple[Number, Path]]:
    found: list[tuple[Number, Path]] = []
    for i, item in enumerate(data if isinstance(data, list) else ()):
        if not isinstance(item, dict) or not isinstance(item.get("number"), str | int):
            continue
        region = item.get("region")
        try:
            e164 = normalize_number(str(item["number"]), region if isinstance(region, str) else None)
        except InvalidNumberError:
            continue  # build_numbers reported it
        found.append((Number(e164, {**plain(item), "number": e164}), (*path, i, "number")))
    return found


# -- prompts -----------------------------------------------------------------------------------------------


def _languages(r: Reader, m: dict[str, Any], key: str, path: Path) -> dict[str, str]:
    """A mapping of language to non-empty text under `key`."""
    value = m.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        r.error((*path, key), f"expected a mapping of language to text for {key!r} (like {{en: ...}})")
        return {}
    found: dict[str, str] = {}
    for language in value:
        if language not in LANGUAGES:
            r.error_at_key((*path, key, language), f"unknown language {language!r}; expected one of: en, es, ru")
            continue
        text = r.string(value, language, (*path, key))
        if text is not None:
            found[language] = text
    return found


def _prompt(r: Reader, value: Any, path: Path) -> Prompt | None:
    m = r.mapping(value, path, "prompt", PROMPT_KEYS, required=("name",))
    if m is None:
        return None
    name = r.string(m, "name", path)
    text = _languages(r, m, "text", path)
    voice = _languages(r, m, "voice", path)
    files = _languages(r, m, "file", path)
    inline = _languages(r, m, "audio", path)
    audio: dict[str, bytes] = {}
    for language, file in files.items():
        converted = _read_recording(r, file, (*path, "file", language))
        if converted is not None:
            audio[language] = converted
    for language, encoded in inline.items():
        at = (*path, "audio", language)
        if language in files:
            r.error_at_key(at, f"give either 'file' or 'audio' for {language!r}, not both")
            continue
        recording = _decode(r, encoded, at)
        if recording is not None:
            audio[language] = recording
    for language in voice:
        if language not in text:
            r.error_at_key((*path, "voice", language), f"a voice for {language!r} needs a text in {language!r}")
    if not any(m.get(key) for key in ("text", "file", "audio")):
        r.error(path, "a prompt needs a 'text' or a 'file' in at least one language")
    if name is None:
        return None
    return Prompt(name, text, voice, audio, files)


def _read_recording(r: Reader, file: str, path: Path) -> bytes | None:
    where = FilePath(r.source.file).parent / file
    try:
        data = where.read_bytes()
    except OSError as exc:
        r.error(path, f"cannot read {file}: {exc.strerror or exc}")
        return None
    try:
        return convert_prompt(data, where.name)
    except (CallboardError, ValueError) as exc:
        r.error(path, f"cannot use {file} as a prompt: {getattr(exc, 'message', None) or exc}")
        return None


def _decode(r: Reader, encoded: str, path: Path) -> bytes | None:
    try:
        recording = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        r.error(path, "'audio' must be a base64 WAV (what export writes); use 'file' for a recording")
        return None
    try:
        wav_seconds(recording)
    except CallboardError as exc:
        r.error(path, exc.message)
        return None
    return recording


# -- contacts ----------------------------------------------------------------------------------------------


def _contact(r: Reader, value: Any, path: Path, workers: Sequence[str]) -> Contact | None:
    m = r.mapping(value, path, "contact", CONTACT_KEYS, required=("name",))
    if m is None:
        return None
    name = r.string(m, "name", path)
    numbers: list[str] = []
    for i, number in enumerate(r.sequence(m, "numbers", path)):
        e164 = _contact_number(r, number, (*path, "numbers", i))
        if e164 is not None and e164 not in numbers:
            numbers.append(e164)
    vip = r.boolean(m, "vip", path, default=False)
    manager = r.string(m, "manager", path, default=None)
    if manager is not None and manager not in workers:
        r.error((*path, "manager"), f"unknown worker {manager!r}; a contact's manager is one of the workers")
    language = r.string(m, "language", path, default=None)
    attributes = r.json_mapping(m, "attributes", path)
    if name is None:
        return None
    return Contact(name, tuple(numbers), vip, manager, language, attributes)


def _contact_number(r: Reader, value: Any, path: Path) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        r.error(path, 'expected a phone number ("+34 600 000 001")')
        return None
    try:
        return normalize_number(value)
    except InvalidNumberError as exc:
        r.error(path, exc.message)
        return None


def _check_contact_numbers(r: Reader, items: list[Any], path: Path) -> None:
    owners: dict[str, int] = {}
    for i, item in enumerate(items):
        numbers = item.get("numbers") if isinstance(item, dict) else None
        for j, number in enumerate(numbers if isinstance(numbers, list) else ()):
            try:
                e164 = normalize_number(str(number))
            except InvalidNumberError:
                continue
            owner = owners.setdefault(e164, i)
            if owner != i:
                line = r.source.value((*path, owner)).line
                r.error((*path, i, "numbers", j), f"{e164} is already a number of the contact at line {line}")


# -- queue waiting ------------------------------------------------------------------------------------------


def read_waiting(r: Reader, value: Any, path: Path, prompts: frozenset[str], workflows: Sequence[str]) -> Waiting:
    """A queue's `waiting:` block (unknown keys, types, ranges and prompt and workflow names checked)."""
    m = r.mapping(value, path, "waiting", WAITING_KEYS)
    if m is None:
        return Waiting()
    music = _prompt_name(r, m, "music", path, prompts)
    every = r.integer(m, "announce_every", path, default=60, minimum=0, maximum=MAX_SECONDS)
    announcements = []
    for i, item in enumerate(r.sequence(m, "announcements", path)):
        at = (*path, "announcements", i)
        a = r.mapping(item, at, "announcement", ANNOUNCEMENT_KEYS, required=("prompt",))
        if a is None:
            continue
        prompt = _prompt_name(r, a, "prompt", at, prompts)
        seconds = r.integer(a, "every", at, default=60, minimum=1, maximum=MAX_SECONDS)
        if prompt is not None:
            announcements.append(Announcement(prompt, 60 if seconds is None else seconds))
    callback = None
    if m.get("callback") is not None:
        callback = _callback(r, m["callback"], (*path, "callback"), workflows)
    max_wait = r.integer(m, "max_wait", path, default=None, minimum=1, maximum=MAX_SECONDS)
    return Waiting(
        music=music,
        announce_position=r.boolean(m, "announce_position", path, default=True),
        announce_wait=r.boolean(m, "announce_wait", path, default=True),
        announce_every=60 if every is None else every,
        announcements=tuple(announcements),
        callback=callback,
        max_wait=max_wait,
        join_when_empty=r.boolean(m, "join_when_empty", path, default=True),
        leave_when_empty=r.boolean(m, "leave_when_empty", path, default=False),
    )


def _prompt_name(r: Reader, m: dict[str, Any], key: str, path: Path, prompts: frozenset[str]) -> str | None:
    name = r.string(m, key, path, default=None)
    if name is not None and name not in prompts:
        r.error((*path, key), f"no prompt is named {name!r} (the workspace's prompts or a system prompt)")
    return name


def _callback(r: Reader, value: Any, path: Path, workflows: Sequence[str]) -> Callback | None:
    m = r.mapping(value, path, "callback", CALLBACK_KEYS)
    if m is None:
        return None
    key = m.get("key", "1")
    if isinstance(key, int) and not isinstance(key, bool) and 0 <= key <= 9:
        key = str(key)
    if key not in DTMF_KEYS:
        r.error((*path, "key"), f"'key' must be one phone key (0-9, * or #), got {key!r}")
        key = "1"
    workflow = r.string(m, "workflow", path, default=None)
    if workflow is not None and workflow not in workflows:
        shown = ", ".join(workflows) or "none are defined"
        r.error((*path, "workflow"), f"unknown workflow {workflow!r}; expected one of: {shown}")
    after = r.integer(m, "after", path, default=30, minimum=0, maximum=MAX_SECONDS)
    retries = r.integer(m, "retries", path, default=2, minimum=0, maximum=MAX_CALLBACK_RETRIES)
    retry_every = r.integer(m, "retry_every", path, default=300, minimum=1, maximum=MAX_SECONDS)
    return Callback(
        key=key,
        after=30 if after is None else after,
        confirm=r.boolean(m, "confirm", path, default=True),
        workflow=workflow,
        retries=2 if retries is None else retries,
        retry_every=retry_every or 300,
    )
