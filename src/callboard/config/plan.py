"""The difference between two centers as an ordered list of changes; pure, it touches no store.

`plan(current, desired)` lists what to create, update and delete so that `current` becomes `desired`,
in an order where each change only refers to things that exist by then: creates and updates go from
the things others refer to (workspaces, activities, channels, prompts, schedules) to the things that refer
to them (queues, workflows, flows, numbers, workers, contacts, users); deletes go the other way round. A
deleted workspace lists the deletes of everything in it. A workspace whose `contacts` is None (no
`contacts:` key in the file) leaves its stored contacts alone.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from callboard.config.model import Center, User

Action = Literal["create", "update", "delete"]
Kind = Literal[
    "workspace",
    "activity",
    "channel",
    "prompt",
    "schedule",
    "queue",
    "workflow",
    "flow",
    "number",
    "worker",
    "contact",
    "user",
]

# The kinds that live in a workspace, in the order creates may go; deletes go in reverse.
_CHILD_KINDS: tuple[tuple[Kind, str], ...] = (
    ("activity", "activities"),
    ("channel", "channels"),
    ("prompt", "prompts"),
    ("schedule", "schedules"),
    ("queue", "queues"),
    ("workflow", "workflows"),
    ("flow", "flows"),
    ("number", "numbers"),
    ("worker", "workers"),
    ("contact", "contacts"),
)
# Workspace settings refer to activities: they are updated once the kinds before this index exist.
_SETTLED_AFTER = 2
_WORKSPACE_FIELDS = ("default_activity", "timeout_activity", "service_level_threshold", "wrapup_seconds")
# Shown as "changed", never with their values: secrets, and recordings.
_OPAQUE_FIELDS = frozenset({"password", "password_hash", "sip_credentials", "audio"})

PasswordMatches = Callable[[str, str], bool]


@dataclass(frozen=True)
class Change:
    """One step of a plan. `fields` maps each changed field to (old, new) for updates."""

    action: Action
    kind: Kind
    workspace: str | None  # None for users; a workspace's own name for kind "workspace"
    name: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        if self.kind in ("workspace", "user") or self.workspace is None:
            return f"{self.kind} {self.name}"
        return f"{self.kind} {self.workspace}/{self.name}"


def _always_matches(username: str, password: str) -> bool:
    return True


def plan(current: Center, desired: Center, password_matches: PasswordMatches = _always_matches) -> list[Change]:
    """The changes that turn `current` into `desired`, in an order that is valid to apply.

    `password_matches(username, password)` says whether a clear password in `desired` matches the hash
    stored in `current` (the default says it does, so an unverified password is never a change).
    """
    old_spaces = {w.name: w for w in current.workspaces}
    new_spaces = {w.name: w for w in desired.workspaces}
    created: list[Change] = [
        Change("create", "workspace", w.name, w.name) for w in desired.workspaces if w.name not in old_spaces
    ]
    updated_spaces: list[Change] = []
    deleted: list[Change] = []
    children: dict[Kind, tuple[list[Change], list[Change]]] = {kind: ([], []) for kind, _ in _CHILD_KINDS}
    for space in desired.workspaces:
        old = old_spaces.get(space.name)
        if old is not None:
            diff = _diff(old, space, _WORKSPACE_FIELDS)
            if diff:
                updated_spaces.append(Change("update", "workspace", space.name, space.name, diff))
        for kind, attribute in _CHILD_KINDS:
            upserts, deletes = children[kind]
            new_items = getattr(space, attribute)
            if new_items is None:  # not managed by the file: left as it is
                continue
            old_items = (getattr(old, attribute) if old is not None else None) or ()
            upserts.extend(_upserts(kind, space.name, old_items, new_items))
            deletes.extend(_deletes(kind, space.name, old_items, new_items))
    for space in current.workspaces:
        if space.name not in new_spaces:
            for kind, attribute in _CHILD_KINDS:
                children[kind][1].extend(_deletes(kind, space.name, getattr(space, attribute) or (), ()))
    user_upserts, user_deletes = _users(current.users, desired.users, password_matches)

    ordered = list(created)
    for kind, _ in _CHILD_KINDS[:_SETTLED_AFTER]:
        ordered.extend(children[kind][0])
    ordered.extend(updated_spaces)
    for kind, _ in _CHILD_KINDS[_SETTLED_AFTER:]:
        ordered.extend(children[kind][0])
    ordered.extend(user_upserts)
    ordered.extend(user_deletes)
    for kind, _ in reversed(_CHILD_KINDS):
        deleted.extend(children[kind][1])
    deleted.extend(
        Change("delete", "workspace", w.name, w.name) for w in current.workspaces if w.name not in new_spaces
    )
    return ordered + deleted


def _compared_fields(item: Any) -> tuple[str, ...]:
    return tuple(f.name for f in fields(item) if f.name != "name" and f.compare)


def _diff(old: Any, new: Any, names: Iterable[str]) -> dict[str, tuple[Any, Any]]:
    changed: dict[str, tuple[Any, Any]] = {}
    for name in names:
        before, after = getattr(old, name), getattr(new, name)
        if name == "activity" and after is None:
            continue  # a worker without an activity in the file keeps whatever it is doing
        if before != after:
            changed[name] = (before, after)
    return changed


def _upserts(kind: Kind, workspace: str, old_items: Sequence[Any], new_items: Sequence[Any]) -> list[Change]:
    old_by_name = {item.name: item for item in old_items}
    changes: list[Change] = []
    for item in new_items:
        old = old_by_name.get(item.name)
        if old is None:
            changes.append(Change("create", kind, workspace, item.name))
        else:
            diff = _diff(old, item, _compared_fields(item))
            if diff:
                changes.append(Change("update", kind, workspace, item.name, diff))
    return changes


def _deletes(kind: Kind, workspace: str, old_items: Sequence[Any], new_items: Sequence[Any]) -> list[Change]:
    kept = {item.name for item in new_items}
    return [Change("delete", kind, workspace, item.name) for item in old_items if item.name not in kept]


def _users(
    current: Sequence[User], desired: Sequence[User], password_matches: PasswordMatches
) -> tuple[list[Change], list[Change]]:
    old_by_name = {u.username: u for u in current}
    upserts: list[Change] = []
    for user in desired:
        old = old_by_name.get(user.username)
        if old is None:
            upserts.append(Change("create", "user", None, user.username))
            continue
        diff = _diff(old, user, ("role", "workspace", "worker"))
        if _password_changed(old, user, password_matches):
            diff["password"] = (None, None)  # never shown
        if _sip_credentials_changed(old, user):
            diff["sip_credentials"] = (None, None)  # never shown
        if diff:
            upserts.append(Change("update", "user", None, user.username, diff))
    kept = {u.username for u in desired}
    deletes = [Change("delete", "user", None, u.username) for u in current if u.username not in kept]
    return upserts, deletes


def _password_changed(old: User, new: User, password_matches: PasswordMatches) -> bool:
    if new.password_hash is not None:
        return new.password_hash != old.password_hash
    if new.password is None:
        return False
    if old.password_hash is None:
        return new.password != old.password
    return not password_matches(new.username, new.password)


def _sip_credentials_changed(old: User, new: User) -> bool:
    # With a clear password they derive from it: unknown here until the applier fills them in for its realm.
    if new.password is not None and new.sip_credentials is None:
        return False
    return new.sip_credentials != old.sip_credentials


def hides(field_name: str) -> bool:
    """Whether a plan shows a changed field only as changed, never its values (secrets, recordings)."""
    return field_name in _OPAQUE_FIELDS


def format_plan(changes: Sequence[Change]) -> str:
    """One line per change: `+ queue demo/sales`, `~ worker demo/alice: activity Offline -> Available`."""
    lines: list[str] = []
    for change in changes:
        if change.action == "create":
            lines.append(f"+ {change.label}")
        elif change.action == "delete":
            lines.append(f"- {change.label}")
        else:
            parts = [
                f"{name} changed" if name in _OPAQUE_FIELDS else f"{name} {_show(old)} -> {_show(new)}"
                for name, (old, new) in change.fields.items()
            ]
            lines.append(f"~ {change.label}: {', '.join(parts)}")
    return "\n".join(lines)


def _show(value: Any, limit: int = 60) -> str:
    if isinstance(value, str):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    text = json.dumps(value, separators=(", ", ": "), sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
