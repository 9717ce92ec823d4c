"""One center file: the whole contact center as YAML, checked with line-precise errors.

`check_file(path)` returns every problem as a `ConfigError` (`file:line:col: message`); `load_center(path)`
returns the `Center` or raises `CenterInvalid` listing them all.

File format, version 1 (stable: a key is never renamed or given a new meaning within a version)::

    version: 1                        # required; the format version
    workspaces:                       # list; each workspace is a tenant
      - name: demo                    # required, unique in the file; the key `apply` matches on
        default_activity: Offline     # required; activity new workers start in (must be listed below)
        timeout_activity: Missed      # required; activity a worker who lets an offer time out goes to
        service_level_threshold: 20   # seconds, for service level statistics (default 20, at least 1)
        wrapup_seconds: 0             # default wrap-up time for queues that set none (default 0 = no
                                      # automatic end of wrap-up)
        activities:                   # required; agent states
          - {name: Offline, available: false}    # name required and unique; available defaults to false
          - {name: Available, available: true}
        channels:                     # task channels and the capacity each worker gets by default
          - {name: voice, capacity: 1}           # name required and unique; capacity >= 0, default 1
          - {name: chat, capacity: 3}
        queues:
          - name: sales                          # required, unique in the workspace
            target_workers: 'skills HAS "sales"' # expression over worker attributes (default "1==1")
            strategy: longest_idle    # longest_idle (default), round_robin, fewest_tasks, least_talk_time,
                                      # ring_all, linear, random, weighted_random, best_skill_match
            strategy_options: {}      # free mapping, e.g. {level_path: levels.sales}, {weight_path: weight}
            order: fifo               # fifo (default) | lifo
            max_reserved_workers: 1   # 1..50 (default 1)
            reservation_activity: null  # activity a worker is moved to when offered a task, or null
            assignment_activity: null   # activity a worker is moved to on accepting, or null
            wrapup_seconds: 30          # >= 0; null (default) = the workspace's wrapup_seconds
            post_work_activity: Available  # activity after wrap-up ends; null (default) = leave as is
            service_level_threshold: null  # seconds; null (default) = the workspace's
            waiting:                    # the caller's queue experience (every key optional, defaults shown)
              music: null               # a prompt for music on hold; null = the shipped music
              announce_position: true   # "you are number N in line" on entry and with each announcement
              announce_wait: true       # "the expected wait is about M minutes"
              announce_every: 60        # seconds between announcements, 0 = on entry only (0..86400)
              announcements: [{prompt: promo-sales, every: 90}]  # periodic prompts (every: 1..86400, default 60)
              callback: null            # or {key: "1", after: 30, confirm: true, workflow: inbound, retries: 2,
                                        # retry_every: 300}: offer a callback after `after` s of waiting;
                                        # workflow null = the call's own
              max_wait: null            # seconds; then the enqueue node's timed_out exit (null = no limit)
              join_when_empty: true     # false: refused (exit no_agents) when no agent is staffed
              leave_when_empty: false   # true: waiting callers leave (exit no_agents) when the last staffed
                                        # agent logs off
        workflows:
          - name: inbound                        # required, unique in the workspace
            task_reservation_timeout: 20         # seconds a worker has to accept an offer (1..86400,
                                                 # default 120)
            configuration:                       # required; exactly TaskRouter's workflow configuration
              task_routing:
                filters:                         # first matching filter wins
                  - filter_friendly_name: vip
                    expression: 'vip == true'    # over task attributes
                    targets:                     # tried in order, each until its timeout
                      - {queue: vip, timeout: 30}    # a queue of this workspace by name (or a queue SID)
                      - {queue: sales, priority: 10, expression: 'worker.site == task.site'}
                default_filter: {queue: sales}
        workers:
          - name: alice                 # required, unique in the workspace (the friendly name)
            activity: Available         # optional; omitted = default_activity when created, and an
                                        # existing worker's current activity is left alone
            attributes: {skills: [sales], languages: [en, es], levels: {sales: 5}, site: madrid}
            channels: {voice: 1, chat: 3}  # capacity per channel; omitted channels get the channel's
                                           # capacity; 0 = not available on that channel
        prompts:                      # the workspace's prompt library; flows, numbers and waiting options
                                      # name these or the system prompts (a prompt of the same name wins)
          - name: welcome-madrid      # required, unique in the workspace
            text: {en: "Welcome to Example, Madrid.", es: "Bienvenido a Example Madrid."}
                                      # per language (en, es, ru); said by text-to-speech unless recorded
            file: {en: prompts/welcome-en.wav}  # a recording per language, relative to this file, in any
                                      # common audio format (converted to 8 kHz mono WAV when loaded)
            voice: {es: es}           # espeak-ng voice per language that has a text
            audio: {en: "UklGR..."}   # what export writes for a stored recording: its WAV in base64
                                      # (per language, a file or audio, not both)
        schedules: [...]              # business hours (docs/flows.md, "Numbers and hours")
        numbers: [...]                # the numbers it answers, E.164 once loaded; a number belongs to one
                                      # workspace (docs/flows.md, "Numbers and hours")
        flows: [...]                  # contact flows (docs/flows.md, "Flows"); applying publishes a version
        contacts:                     # CRM contacts; without the key the stored ones are left alone
          - {name: "Ana García", numbers: ["+34 600 000 001"], vip: true, manager: alice, language: es,
             attributes: {account: "A-1001"}}  # name required and unique; numbers E.164 once loaded, each
                                               # in one contact; manager: a worker; vip false by default
        dispositions:                 # wrap-up codes agents pick after a task; without the key the stored
          - {code: sale, label: Sale, labels: {es: Venta, ru: Продажа}}  # ones are left alone; code
          - no-answer                 # required and unique (letters, digits, - and _); label defaults to
                                      # the code; labels translate it per language
    users:
      - username: admin               # required, unique in the file
        role: admin                   # required; admin | supervisor | agent
        password: "demo"              # or password_hash: "$argon2id$..."; exactly one of the two
        workspace: demo               # optional for admins; supervisors and agents must name one
        worker: alice                 # agents: the worker they are (in that workspace); at most one user
                                      # per worker
      - username: sue                 # a user as `export` writes it: hashes, never the password
        role: supervisor
        password_hash: "$argon2id$v=19$m=65536,t=3,p=4$..."
        sip_credentials:              # only beside password_hash: the user's SIP digest secrets,
          realm: callboard            # H(username:realm:password) in lower-case hex, 32 digits (MD5)
          ha1_md5: "..."              # and 64 (SHA-256); without them the user has no SIP login
          ha1_sha256: "..."
        workspace: demo

Expressions use the routing expression language; errors point at the column inside the expression.
Unknown keys, wrong types, missing keys, duplicate names and references to names that are not defined
(activities, channels, queues, workspaces, workers, prompts, workflows) are all errors, reported together
in file order. Schedules, numbers and flows are checked by `flows/` (the code that runs them) against the
workspace's prompts, workflows, queues and channels and the file's schedules and flows; their problems are
reported the same way.
"""

from __future__ import annotations

from pathlib import Path

from callboard.config.model import (
    Activity,
    Center,
    Channel,
    Contact,
    ContactFlow,
    Disposition,
    Number,
    Prompt,
    Queue,
    Schedule,
    User,
    Waiting,
    Worker,
    Workflow,
    Workspace,
)
from callboard.config.validate import build_center
from callboard.config.yaml_source import ConfigError, YamlSourceError, load_yaml
from callboard.core.errors import ValidationError

__all__ = [
    "Activity",
    "Center",
    "CenterInvalid",
    "Channel",
    "ConfigError",
    "Contact",
    "ContactFlow",
    "Disposition",
    "Number",
    "Prompt",
    "Queue",
    "Schedule",
    "User",
    "Waiting",
    "Worker",
    "Workflow",
    "Workspace",
    "check_file",
    "check_text",
    "load_center",
    "load_center_text",
    "parse_center_text",
]


class CenterInvalid(ValidationError):
    """A center file with errors; `errors` holds them all, `details["errors"]` as printable strings."""

    error_id = "config_invalid"

    def __init__(self, filename: str, errors: list[ConfigError]) -> None:
        count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
        super().__init__(f"{filename}: {count}", errors=[str(e) for e in errors])
        self.errors = errors


def parse_center_text(text: str, filename: str) -> tuple[Center | None, list[ConfigError]]:
    """The center described by `text` (None if invalid) and every error found, in file order."""
    try:
        data, source = load_yaml(text, filename)
    except YamlSourceError as exc:
        if exc.loaded is None:
            return None, exc.errors
        data, source = exc.loaded
        _, errors = build_center(data, source)
        return None, sorted(set(exc.errors + errors))
    return build_center(data, source)


def check_text(text: str, filename: str) -> list[ConfigError]:
    return parse_center_text(text, filename)[1]


def check_file(path: str | Path) -> list[ConfigError]:
    """Every error in the center file at `path` (empty when it is valid). Raises OSError if unreadable."""
    try:
        text = _read(path)
    except CenterInvalid as exc:
        return exc.errors
    return check_text(text, str(path))


def load_center_text(text: str, filename: str = "<text>") -> Center:
    center, errors = parse_center_text(text, filename)
    if center is None:
        raise CenterInvalid(filename, errors)
    return center


def load_center(path: str | Path) -> Center:
    """The center in the file at `path`; raises `CenterInvalid` with every error if it has any."""
    return load_center_text(_read(path), str(path))


def _read(path: str | Path) -> str:
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        error = ConfigError(str(path), line, col, "the file is not UTF-8 text")
        raise CenterInvalid(str(path), [error]) from None
