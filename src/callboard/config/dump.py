"""A `Center` written back as center-file YAML (what `callboard export` prints).

Keys come in the documented order and every field is written out, so the file reads back to an equal
`Center` with `load_center_text`. Activities, channels, worker channel capacities and contacts are written
one per line in flow style, as a person would write them. A prompt's recording is written as the `file` it
was read from when the center came from a file, and inline (`audio:`, base64 of the stored WAV) when it came
from the store, so an exported file carries its recordings with it.
"""

from __future__ import annotations

import base64
from typing import Any

import yaml

from callboard.config.model import (
    Center,
    Contact,
    Disposition,
    Prompt,
    Queue,
    User,
    Waiting,
    Worker,
    Workflow,
    Workspace,
)


class _Flow(dict[str, Any]):
    """A mapping written on one line: `{name: voice, capacity: 1}`."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key, as the documentation's examples do.
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True  # a shared dict is written twice rather than as an anchor and an alias


def _represent_flow(dumper: yaml.SafeDumper, data: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)


_Dumper.add_representer(_Flow, _represent_flow)


def dump_center(center: Center) -> str:
    """YAML text that `load_center_text` reads back to a center equal to `center`."""
    document: dict[str, Any] = {
        "version": center.version,
        "workspaces": [_workspace(w) for w in center.workspaces],
        "users": [_user(u) for u in center.users],
    }
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)


def _workspace(space: Workspace) -> dict[str, Any]:
    return {
        "name": space.name,
        "default_activity": space.default_activity,
        "timeout_activity": space.timeout_activity,
        "service_level_threshold": space.service_level_threshold,
        "wrapup_seconds": space.wrapup_seconds,
        "activities": [_Flow(name=a.name, available=a.available) for a in space.activities],
        "channels": [_Flow(name=c.name, capacity=c.capacity) for c in space.channels],
        "queues": [_queue(q) for q in space.queues],
        "workflows": [_workflow(w) for w in space.workflows],
        "workers": [_worker(w) for w in space.workers],
        "prompts": [_prompt(p) for p in space.prompts],
        "schedules": [{"name": s.name, **s.body} for s in space.schedules],
        "numbers": [{"number": n.number, **n.body} for n in space.numbers],
        "flows": [{"name": f.name, **f.definition} for f in space.flows],
        **({} if space.contacts is None else {"contacts": [_contact(c) for c in space.contacts]}),
        **({} if space.dispositions is None else {"dispositions": [_disposition(d) for d in space.dispositions]}),
    }


def _disposition(disposition: Disposition) -> _Flow:
    data = _Flow(code=disposition.code, label=disposition.label)
    if disposition.labels:
        data["labels"] = disposition.labels
    return data


def _queue(queue: Queue) -> dict[str, Any]:
    return {
        "name": queue.name,
        "target_workers": queue.target_workers,
        "strategy": queue.strategy,
        "strategy_options": queue.strategy_options,
        "order": queue.order,
        "max_reserved_workers": queue.max_reserved_workers,
        "reservation_activity": queue.reservation_activity,
        "assignment_activity": queue.assignment_activity,
        "wrapup_seconds": queue.wrapup_seconds,
        "post_work_activity": queue.post_work_activity,
        "service_level_threshold": queue.service_level_threshold,
        **({} if queue.waiting is None else {"waiting": _waiting(queue.waiting)}),
    }


def _waiting(waiting: Waiting) -> dict[str, Any]:
    callback = waiting.callback
    return {
        "music": waiting.music,
        "announce_position": waiting.announce_position,
        "announce_wait": waiting.announce_wait,
        "announce_every": waiting.announce_every,
        "announcements": [_Flow(prompt=a.prompt, every=a.every) for a in waiting.announcements],
        "callback": None
        if callback is None
        else _Flow(
            key=callback.key,
            after=callback.after,
            confirm=callback.confirm,
            workflow=callback.workflow,
            retries=callback.retries,
            retry_every=callback.retry_every,
        ),
        "max_wait": waiting.max_wait,
        "join_when_empty": waiting.join_when_empty,
        "leave_when_empty": waiting.leave_when_empty,
    }


def _workflow(workflow: Workflow) -> dict[str, Any]:
    return {
        "name": workflow.name,
        "task_reservation_timeout": workflow.task_reservation_timeout,
        "configuration": workflow.configuration,
    }


def _worker(worker: Worker) -> dict[str, Any]:
    data: dict[str, Any] = {"name": worker.name}
    if worker.activity is not None:
        data["activity"] = worker.activity
    data["attributes"] = worker.attributes
    data["channels"] = _Flow(worker.channels)
    return data


def _prompt(prompt: Prompt) -> dict[str, Any]:
    data: dict[str, Any] = {"name": prompt.name}
    if prompt.text:
        data["text"] = prompt.text
    if prompt.file:
        data["file"] = prompt.file
    if prompt.voice:
        data["voice"] = prompt.voice
    inline = {language: audio for language, audio in prompt.audio.items() if language not in prompt.file}
    if inline:
        data["audio"] = {language: base64.b64encode(audio).decode("ascii") for language, audio in inline.items()}
    return data


def _contact(contact: Contact) -> _Flow:
    data = _Flow(name=contact.name, numbers=list(contact.numbers), vip=contact.vip)
    if contact.manager is not None:
        data["manager"] = contact.manager
    if contact.language is not None:
        data["language"] = contact.language
    if contact.attributes:
        data["attributes"] = contact.attributes
    return data


def _user(user: User) -> dict[str, Any]:
    data: dict[str, Any] = {"username": user.username, "role": user.role}
    if user.password_hash is not None:
        data["password_hash"] = user.password_hash
    else:
        data["password"] = user.password
    if user.sip_credentials is not None:
        sip = user.sip_credentials
        data["sip_credentials"] = {"realm": sip.realm, "ha1_md5": sip.ha1_md5, "ha1_sha256": sip.ha1_sha256}
    if user.workspace is not None:
        data["workspace"] = user.workspace
    if user.worker is not None:
        data["worker"] = user.worker
    return data
