"""Validation of a loaded center file into the `Center` model, collecting every positioned error.

Item readers return a model object whenever the item has a usable name, even if other fields are wrong
(those are reported), so that references to it do not cascade into more errors.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from callboard.config.model import (
    ORDERS,
    ROLES,
    STRATEGIES,
    Activity,
    Center,
    Channel,
    Disposition,
    Queue,
    SipCredentials,
    User,
    Worker,
    Workflow,
    Workspace,
)
from callboard.config.reader import Reader, check_unique
from callboard.config.validate_ivr import prompt_names, read_ivr, read_waiting
from callboard.config.yaml_source import ConfigError, Path, SourceMap
from callboard.core.errors import ValidationError
from callboard.core.expressions import ExpressionSyntaxError, compile_expression
from callboard.core.ids import TASK_QUEUE, is_sid
from callboard.routing.workflow import parse_workflow_configuration

SUPPORTED_VERSION = 1

CENTER_KEYS = ("version", "workspaces", "users")
WORKSPACE_KEYS = (
    "name",
    "default_activity",
    "timeout_activity",
    "service_level_threshold",
    "wrapup_seconds",
    "activities",
    "channels",
    "queues",
    "workflows",
    "workers",
    "prompts",
    "schedules",
    "numbers",
    "flows",
    "contacts",
    "dispositions",
)
ACTIVITY_KEYS = ("name", "available")
CHANNEL_KEYS = ("name", "capacity")
QUEUE_KEYS = (
    "name",
    "target_workers",
    "strategy",
    "strategy_options",
    "order",
    "max_reserved_workers",
    "reservation_activity",
    "assignment_activity",
    "wrapup_seconds",
    "post_work_activity",
    "service_level_threshold",
    "waiting",
)
WORKFLOW_KEYS = ("name", "task_reservation_timeout", "configuration")
WORKER_KEYS = ("name", "activity", "attributes", "channels")
DISPOSITION_KEYS = ("code", "label", "labels")
MAX_DISPOSITIONS = 200
USER_KEYS = ("username", "role", "password", "password_hash", "sip_credentials", "workspace", "worker")
SIP_CREDENTIALS_KEYS = ("realm", "ha1_md5", "ha1_sha256")
_HA1_DIGITS = {"ha1_md5": 32, "ha1_sha256": 64}

MAX_RESERVED_WORKERS = 50
MAX_RESERVATION_TIMEOUT = 86400

T = TypeVar("T")


def build_center(data: Any, source: SourceMap) -> tuple[Center | None, list[ConfigError]]:
    """Validate loaded data; return the center (None if there were errors) and the errors in file order."""
    reader = Reader(source)
    center = _center(reader, data)
    errors = sorted(set(reader.errors))
    return (None if errors else center), errors


def _center(r: Reader, data: Any) -> Center:
    m = r.mapping(data, (), "the center file", CENTER_KEYS, required=("version",))
    if m is None:
        return Center()
    version = r.integer(m, "version", ())
    if version is not None and version != SUPPORTED_VERSION:
        r.error(("version",), f"unsupported version {version}; this Callboard reads version {SUPPORTED_VERSION}")
    number_owners: dict[str, tuple[str, Path]] = {}
    workspaces = _items(r, m, "workspaces", (), lambda r, v, p: _workspace(r, v, p, number_owners))
    check_unique(r, ((w.name, p) for w, p in workspaces), "workspace name")
    users = _items(r, m, "users", (), _user, name_key="username")
    check_unique(r, ((u.username, p) for u, p in users), "username")
    by_name = {w.name: w for w, _ in reversed(workspaces)}
    _check_users(r, users, by_name)
    return Center(
        version=version or SUPPORTED_VERSION,
        workspaces=tuple(w for w, _ in workspaces),
        users=tuple(u for u, _ in users),
    )


def _items(
    r: Reader,
    container: dict[str, Any],
    key: str,
    path: Path,
    read: Callable[[Reader, Any, Path], T | None],
    name_key: str = "name",
) -> list[tuple[T, Path]]:
    """Read the list under `key`; pairs each item read with the path of its name (for duplicate reports)."""
    found: list[tuple[T, Path]] = []
    for index, value in enumerate(r.sequence(container, key, path)):
        item_path = (*path, key, index)
        item = read(r, value, item_path)
        if item is not None:
            found.append((item, (*item_path, name_key)))
    return found


def _one_of(names: Sequence[str], limit: int = 12) -> str:
    if not names:
        return "none are defined"
    shown = ", ".join(names[:limit])
    return f"expected one of: {shown}{', ...' if len(names) > limit else ''}"


def _reference(
    r: Reader, m: dict[str, Any], key: str, path: Path, known: Sequence[str], what: str, *, required: bool = False
) -> str | None:
    """A name that must be one of `known`; optional (None) unless `required`."""
    value = r.string(m, key, path) if required else r.string(m, key, path, default=None)
    if value is not None and value not in known:
        r.error((*path, key), f"unknown {what} {value!r}; {_one_of(known)}")
    return value


# -- workspace ---------------------------------------------------------------------------------------------


def _workspace(r: Reader, value: Any, path: Path, number_owners: dict[str, tuple[str, Path]]) -> Workspace | None:
    """One workspace; `number_owners` (E.164 -> workspace name and path) finds a number two workspaces list."""
    required = ("name", "default_activity", "timeout_activity", "activities")
    m = r.mapping(value, path, "workspace", WORKSPACE_KEYS, required)
    if m is None:
        return None
    name = r.string(m, "name", path)
    activities = _items(r, m, "activities", path, _activity)
    activity_names = check_unique(r, ((a.name, p) for a, p in activities), "activity name")
    channels = _items(r, m, "channels", path, _channel)
    check_unique(r, ((c.name, p) for c, p in channels), "channel name")
    queues = _items(r, m, "queues", path, lambda r, v, p: _queue(r, v, p, activity_names))
    queue_names = check_unique(r, ((q.name, p) for q, p in queues), "queue name")
    workflows = _items(r, m, "workflows", path, lambda r, v, p: _workflow(r, v, p, queue_names))
    workflow_names = check_unique(r, ((w.name, p) for w, p in workflows), "workflow name")
    queues = _with_waiting(r, m, queues, prompt_names(m), workflow_names)
    channel_list = [c for c, _ in channels]
    workers = _items(r, m, "workers", path, lambda r, v, p: _worker(r, v, p, activity_names, channel_list))
    worker_names = check_unique(r, ((w.name, p) for w, p in workers), "worker name")
    ivr = read_ivr(
        r,
        m,
        path,
        queues=queue_names,
        workflows=workflow_names,
        channels=[c.name for c in channel_list],
        workers=worker_names,
    )
    default_activity = _reference(r, m, "default_activity", path, activity_names, "activity", required=True)
    timeout_activity = _reference(r, m, "timeout_activity", path, activity_names, "activity", required=True)
    threshold = r.integer(m, "service_level_threshold", path, default=20, minimum=1)
    wrapup = r.integer(m, "wrapup_seconds", path, default=0, minimum=0)
    dispositions = read_dispositions(r, m["dispositions"], (*path, "dispositions")) if "dispositions" in m else None
    if name is None:
        return None
    for number, number_path in ivr.numbers:
        owner = number_owners.setdefault(number.number, (name, number_path))
        if owner[0] != name:
            line = r.source.value(owner[1]).line
            r.error(number_path, f"{number.number} is already a number of workspace {owner[0]!r} (line {line})")
    return Workspace(
        name=name,
        default_activity=default_activity or "",
        timeout_activity=timeout_activity or "",
        service_level_threshold=20 if threshold is None else threshold,
        wrapup_seconds=wrapup or 0,
        activities=tuple(a for a, _ in activities),
        channels=tuple(channel_list),
        queues=tuple(q for q, _ in queues),
        workflows=tuple(w for w, _ in workflows),
        workers=tuple(w for w, _ in workers),
        prompts=tuple(p for p, _ in ivr.prompts),
        schedules=tuple(s for s, _ in ivr.schedules),
        numbers=tuple(n for n, _ in ivr.numbers),
        flows=tuple(f for f, _ in ivr.flows),
        contacts=None if ivr.contacts is None else tuple(c for c, _ in ivr.contacts),
        dispositions=dispositions,
    )


def read_dispositions(r: Reader, value: Any, path: Path) -> tuple[Disposition, ...]:
    """A workspace's `dispositions:` list (the center file's, or an API body read with a `DataReader`)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        r.error(path, f"expected a list of dispositions, got {type(value).__name__}")
        return ()
    if len(value) > MAX_DISPOSITIONS:
        r.error(path, f"at most {MAX_DISPOSITIONS} dispositions, got {len(value)}")
    found = []
    for index, item in enumerate(value):
        disposition = _disposition(r, item, (*path, index))
        if disposition is not None:
            found.append((disposition, (*path, index, "code")))
    check_unique(r, ((d.code, p) for d, p in found), "disposition code")
    return tuple(d for d, _ in found)


def _disposition(r: Reader, value: Any, path: Path) -> Disposition | None:
    if isinstance(value, str):
        value = {"code": value}  # a bare code is its own label
    m = r.mapping(value, path, "disposition", DISPOSITION_KEYS, required=("code",))
    if m is None:
        return None
    code = r.string(m, "code", path)
    if code is not None and (len(code) > 64 or not code.replace("-", "").replace("_", "").isalnum()):
        r.error((*path, "code"), f"a disposition code is up to 64 letters, digits, '-' and '_'; got {code!r}")
        code = None
    label = r.string(m, "label", path, default=code)
    labels = r.json_mapping(m, "labels", path)
    for language, text in labels.items():
        if not isinstance(text, str) or not text.strip():
            r.error((*path, "labels", language), f"expected a non-empty text for language {language!r}")
    if code is None:
        return None
    return Disposition(code, label or code, {k: v for k, v in labels.items() if isinstance(v, str)})


def _with_waiting(
    r: Reader,
    m: dict[str, Any],
    queues: list[tuple[Queue, Path]],
    prompts: frozenset[str],
    workflows: Sequence[str],
) -> list[tuple[Queue, Path]]:
    """The queues with their `waiting:` blocks, read once the prompts and workflows they name are known."""
    found = []
    for queue, name_path in queues:
        item = m["queues"][name_path[-2]]
        waiting = item.get("waiting")
        if waiting is not None:
            queue = dataclasses.replace(
                queue, waiting=read_waiting(r, waiting, (*name_path[:-1], "waiting"), prompts, workflows)
            )
        found.append((queue, name_path))
    return found


def _activity(r: Reader, value: Any, path: Path) -> Activity | None:
    m = r.mapping(value, path, "activity", ACTIVITY_KEYS, required=("name",))
    if m is None:
        return None
    name = r.string(m, "name", path)
    available = r.boolean(m, "available", path, default=False)
    return None if name is None else Activity(name, available)


def _channel(r: Reader, value: Any, path: Path) -> Channel | None:
    m = r.mapping(value, path, "channel", CHANNEL_KEYS, required=("name",))
    if m is None:
        return None
    name = r.string(m, "name", path)
    capacity = r.integer(m, "capacity", path, default=1, minimum=0)
    return None if name is None else Channel(name, 1 if capacity is None else capacity)


def _queue(r: Reader, value: Any, path: Path, activities: Sequence[str]) -> Queue | None:
    m = r.mapping(value, path, "queue", QUEUE_KEYS, required=("name",))
    if m is None:
        return None
    name = r.string(m, "name", path)
    target_workers = r.string(m, "target_workers", path, default="1==1")
    if target_workers is not None:
        _check_expression(r, target_workers, (*path, "target_workers"))
    strategy = r.choice(m, "strategy", path, STRATEGIES, default="longest_idle")
    options = r.json_mapping(m, "strategy_options", path)
    order = r.choice(m, "order", path, ORDERS, default="fifo")
    max_reserved = r.integer(m, "max_reserved_workers", path, default=1, minimum=1, maximum=MAX_RESERVED_WORKERS)
    reservation = _reference(r, m, "reservation_activity", path, activities, "activity")
    assignment = _reference(r, m, "assignment_activity", path, activities, "activity")
    wrapup = r.integer(m, "wrapup_seconds", path, default=None, minimum=0)
    post_work = _reference(r, m, "post_work_activity", path, activities, "activity")
    threshold = r.integer(m, "service_level_threshold", path, default=None, minimum=1)
    if name is None:
        return None
    return Queue(
        name=name,
        target_workers=target_workers or "1==1",
        strategy=strategy or "longest_idle",
        strategy_options=options,
        order=order or "fifo",
        max_reserved_workers=max_reserved or 1,
        reservation_activity=reservation,
        assignment_activity=assignment,
        wrapup_seconds=wrapup,
        post_work_activity=post_work,
        service_level_threshold=threshold,
    )


def _check_expression(r: Reader, source: str, path: Path) -> None:
    try:
        compile_expression(source, default_scope="worker")
    except ExpressionSyntaxError as exc:
        r.error_at(r.source.inside(path, exc.column - 1), _expression_message(exc))
    except ValidationError as exc:
        r.error(path, f"bad expression: {exc.message}")


def _expression_message(exc: ExpressionSyntaxError) -> str:
    # The column is already in the reported position; the expression's own column would only confuse.
    return f"bad expression: expected {exc.expected}, found {exc.found}"


def _workflow(r: Reader, value: Any, path: Path, queues: Sequence[str]) -> Workflow | None:
    m = r.mapping(value, path, "workflow", WORKFLOW_KEYS, required=("name", "configuration"))
    if m is None:
        return None
    name = r.string(m, "name", path)
    timeout = r.integer(m, "task_reservation_timeout", path, default=120, minimum=1, maximum=MAX_RESERVATION_TIMEOUT)
    configuration = m.get("configuration")
    if "configuration" in m and not isinstance(configuration, dict):
        r.error((*path, "configuration"), "expected a mapping for 'configuration' (with 'task_routing')")
    if isinstance(configuration, dict):
        r.json_value(configuration, (*path, "configuration"))
        _check_workflow_configuration(r, configuration, (*path, "configuration"), queues)
    if name is None:
        return None
    return Workflow(
        name=name,
        configuration=configuration if isinstance(configuration, dict) else {},
        task_reservation_timeout=timeout or 120,
    )


def _check_workflow_configuration(r: Reader, configuration: dict[str, Any], path: Path, queues: Sequence[str]) -> None:
    def queue_exists(queue: str) -> bool:
        # A SID names a queue that already exists in the store; only `apply` can check it.
        return queue in queues or is_sid(queue, TASK_QUEUE)

    try:
        parse_workflow_configuration(configuration, queue_exists)
    except ValidationError as exc:
        node = (*path, *exc.details.get("path", ()))
        column = exc.details.get("column")
        message = exc.message
        if isinstance(exc.__cause__, ExpressionSyntaxError):
            message = _expression_message(exc.__cause__)
        if message.startswith("unknown queue"):
            message += f"; {_one_of(queues)}"
        if isinstance(column, int):
            r.error_at(r.source.inside(node, column - 1), message)
        else:
            r.error(node, message)


def _worker(r: Reader, value: Any, path: Path, activities: Sequence[str], channels: Sequence[Channel]) -> Worker | None:
    m = r.mapping(value, path, "worker", WORKER_KEYS, required=("name",))
    if m is None:
        return None
    name = r.string(m, "name", path)
    activity = _reference(r, m, "activity", path, activities, "activity")
    attributes = r.json_mapping(m, "attributes", path)
    capacities = {c.name: c.capacity for c in channels}
    given = m.get("channels", {})
    if given is None:
        given = {}
    if not isinstance(given, dict):
        r.error((*path, "channels"), "expected a mapping of channel name to capacity for 'channels'")
        given = {}
    for channel in given:
        if channel not in capacities:
            r.error_at_key((*path, "channels", channel), f"unknown channel {channel!r}; {_one_of(list(capacities))}")
            continue
        capacity = r.integer(given, channel, (*path, "channels"), minimum=0)
        if capacity is not None:
            capacities[channel] = capacity
    if name is None:
        return None
    return Worker(name=name, activity=activity, attributes=attributes, channels=capacities)


# -- users -------------------------------------------------------------------------------------------------


def _user(r: Reader, value: Any, path: Path) -> User | None:
    m = r.mapping(value, path, "user", USER_KEYS, required=("username", "role"))
    if m is None:
        return None
    username = r.string(m, "username", path)
    role = r.choice(m, "role", path, ROLES)
    password = r.string(m, "password", path, default=None)
    password_hash = r.string(m, "password_hash", path, default=None)
    if "password" in m and "password_hash" in m:
        r.error_at_key((*path, "password_hash"), "give either 'password' or 'password_hash', not both")
    elif "password" not in m and "password_hash" not in m:
        r.error(path, "missing 'password' or 'password_hash' in user")
    if password_hash is not None and not password_hash.startswith("$argon2"):
        r.error((*path, "password_hash"), "'password_hash' must be an argon2 hash ($argon2id$...)")
    sip_credentials = None
    if "sip_credentials" in m:
        sip_credentials = _sip_credentials(r, m["sip_credentials"], (*path, "sip_credentials"))
        if "password" in m:
            r.error_at_key(
                (*path, "sip_credentials"),
                "'sip_credentials' go with 'password_hash'; a clear 'password' gives them when applied",
            )
    workspace = r.string(m, "workspace", path, default=None)
    worker = r.string(m, "worker", path, default=None)
    if username is None:
        return None
    return User(username, role or "", password, password_hash, workspace, worker, sip_credentials)


def _sip_credentials(r: Reader, value: Any, path: Path) -> SipCredentials | None:
    m = r.mapping(value, path, "sip_credentials", SIP_CREDENTIALS_KEYS, required=SIP_CREDENTIALS_KEYS)
    if m is None:
        return None
    realm = r.string(m, "realm", path)
    hashes: dict[str, str | None] = {}
    for key, digits in _HA1_DIGITS.items():
        hashes[key] = text = r.string(m, key, path)
        if text is not None and (len(text) != digits or any(c not in "0123456789abcdef" for c in text)):
            r.error((*path, key), f"{key!r} must be {digits} lower-case hex digits")
            hashes[key] = None
    md5, sha256 = hashes["ha1_md5"], hashes["ha1_sha256"]
    if realm is None or md5 is None or sha256 is None:
        return None
    return SipCredentials(realm, md5, sha256)


def _check_users(r: Reader, users: Sequence[tuple[User, Path]], workspaces: dict[str, Workspace]) -> None:
    owners: dict[tuple[str, str], str] = {}
    for user, name_path in users:
        path = name_path[:-1]
        if user.workspace is not None and user.workspace not in workspaces:
            r.error((*path, "workspace"), f"unknown workspace {user.workspace!r}; {_one_of(list(workspaces))}")
            continue
        if user.role in ("agent", "supervisor") and user.workspace is None:
            r.error(path, f"missing required key 'workspace' in user (every {user.role} belongs to one)")
        if user.role == "agent" and user.worker is None:
            r.error(path, "missing required key 'worker' in user (an agent is one of the workspace's workers)")
        if user.worker is None:
            continue
        if user.workspace is None:
            r.error((*path, "worker"), "a user with a 'worker' must also name its 'workspace'")
            continue
        workers = [w.name for w in workspaces[user.workspace].workers]
        if user.worker not in workers:
            r.error((*path, "worker"), f"unknown worker {user.worker!r} in workspace {user.workspace!r}")
            continue
        key = (user.workspace, user.worker)
        if key in owners:
            r.error((*path, "worker"), f"worker {user.worker!r} already belongs to user {owners[key]!r}")
        else:
            owners[key] = user.username
