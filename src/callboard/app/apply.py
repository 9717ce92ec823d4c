"""Configuration as code against a running center: export it as a center model, and apply a plan to it.

The routing objects live in the engines; the IVR (prompts, schedules, numbers, flows, contacts and each queue's
waiting options) lives in the store, in the center file's own format, and is read and written there.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from callboard.api.dispositions import DISPOSITIONS, dispositions_body, dispositions_of
from callboard.app.center import Center as Runtime
from callboard.config import model as m
from callboard.config.plan import Change, plan
from callboard.core.errors import ValidationError
from callboard.routing.workspace import Workspace
from callboard.storage.store import Store
from callboard.voice.sip.digest import Algorithm, ha1

_hasher = PasswordHasher()

DEFAULT_SIP_REALM = "callboard"


def _map_queues(configuration: Any, rename: Callable[[str], str]) -> Any:
    """A copy of a workflow configuration with every target's queue renamed (names <-> SIDs)."""
    if not isinstance(configuration, dict):
        return configuration
    out = copy.deepcopy(configuration)
    routing = out.get("task_routing", {})
    targets = [t for f in routing.get("filters", []) for t in f.get("targets", [])]
    if isinstance(routing.get("default_filter"), dict):
        targets.append(routing["default_filter"])
    for target in targets:
        if isinstance(target, dict) and isinstance(target.get("queue"), str):
            target["queue"] = rename(target["queue"])
    return out


def queue_sids(ws: Workspace, configuration: Any) -> Any:
    def to_sid(name: str) -> str:
        queue = ws.queue_by_name(name)
        return queue.sid if queue else name

    return _map_queues(configuration, to_sid)


def queue_names(ws: Workspace, configuration: Any) -> Any:
    return _map_queues(configuration, lambda sid: ws.queues[sid].friendly_name if sid in ws.queues else sid)


def _activity_name(ws: Workspace, sid: str | None) -> str | None:
    return None if sid is None else ws.activities[sid].friendly_name


def export_workspace(ws: Workspace) -> m.Workspace:
    return m.Workspace(
        name=ws.friendly_name,
        default_activity=_activity_name(ws, ws.default_activity_sid) or "",
        timeout_activity=_activity_name(ws, ws.timeout_activity_sid) or "",
        service_level_threshold=int(ws.service_level_threshold),
        wrapup_seconds=int(ws.wrapup_seconds),
        activities=tuple(m.Activity(a.friendly_name, a.available) for a in ws.activities.values()),
        channels=tuple(m.Channel(c.unique_name, c.default_capacity) for c in ws.channels.values()),
        queues=tuple(
            m.Queue(
                name=q.friendly_name,
                target_workers=q.target_workers.source,
                strategy=str(q.strategy),
                strategy_options=dict(q.strategy_options),
                order=str(q.task_order),
                max_reserved_workers=q.max_reserved_workers,
                reservation_activity=_activity_name(ws, q.reservation_activity_sid),
                assignment_activity=_activity_name(ws, q.assignment_activity_sid),
                wrapup_seconds=None if q.wrapup_seconds is None else int(q.wrapup_seconds),
                post_work_activity=_activity_name(ws, q.post_work_activity_sid),
                service_level_threshold=None if q.service_level_threshold is None else int(q.service_level_threshold),
            )
            for q in ws.queues.values()
        ),
        workflows=tuple(
            m.Workflow(w.friendly_name, queue_names(ws, w.configuration), int(w.task_reservation_timeout))
            for w in ws.workflows.values()
        ),
        workers=tuple(
            m.Worker(
                name=w.friendly_name,
                activity=_activity_name(ws, w.activity_sid),
                attributes=dict(w.attributes),
                channels={name: c.capacity for name, c in w.channels.items()},
            )
            for w in sorted(ws.workers.values(), key=lambda w: w.seq)
        ),
    )


def _stored_sip_credentials(user: dict[str, Any]) -> m.SipCredentials | None:
    realm, md5, sha256 = user.get("sip_realm"), user.get("sip_ha1_md5"), user.get("sip_ha1_sha256")
    if realm is None or md5 is None or sha256 is None:
        return None
    return m.SipCredentials(realm, md5, sha256)


def sip_credentials(username: str, realm: str, password: str) -> m.SipCredentials:
    """The digest HA1s a SIP phone logging in as `username` with `password` is checked against."""
    return m.SipCredentials(
        realm, ha1(username, realm, password, Algorithm.MD5), ha1(username, realm, password, Algorithm.SHA_256)
    )


def with_sip_credentials(center: m.Center, realm: str) -> m.Center:
    """`center` with the SIP credentials of each user given by a clear password filled in for `realm`."""
    users = tuple(
        dataclasses.replace(u, sip_credentials=sip_credentials(u.username, realm, u.password))
        if u.password is not None
        else u
        for u in center.users
    )
    return dataclasses.replace(center, users=users)


def waiting_body(waiting: m.Waiting) -> dict[str, Any]:
    """A queue's waiting options as the store keeps them: every option, defaults filled in."""
    return dataclasses.asdict(waiting)


def waiting_of(body: dict[str, Any]) -> m.Waiting:
    """Stored waiting options as the model; what a body leaves out takes its default."""
    defaults = m.Waiting()
    callback = body.get("callback")
    return m.Waiting(
        music=body.get("music"),
        announce_position=bool(body.get("announce_position", defaults.announce_position)),
        announce_wait=bool(body.get("announce_wait", defaults.announce_wait)),
        announce_every=int(body.get("announce_every", defaults.announce_every)),
        announcements=tuple(
            m.Announcement(str(a["prompt"]), int(a.get("every", 60))) for a in body.get("announcements") or ()
        ),
        callback=None if not isinstance(callback, dict) else _callback_of(callback),
        max_wait=body.get("max_wait"),
        join_when_empty=bool(body.get("join_when_empty", defaults.join_when_empty)),
        leave_when_empty=bool(body.get("leave_when_empty", defaults.leave_when_empty)),
    )


def _callback_of(body: dict[str, Any]) -> m.Callback:
    defaults = m.Callback()
    return m.Callback(
        key=str(body.get("key", defaults.key)),
        after=int(body.get("after", defaults.after)),
        confirm=bool(body.get("confirm", defaults.confirm)),
        workflow=body.get("workflow"),
        retries=int(body.get("retries", defaults.retries)),
        retry_every=int(body.get("retry_every", defaults.retry_every)),
    )


def _exported_audio(prompt: dict[str, Any]) -> bool:
    # A rendering of the text is not a recording: exporting it would pin today's text-to-speech voice.
    return bool(prompt["has_audio"]) and (prompt["source"] != "tts" or not prompt["text"])


async def _export_prompts(store: Store, workspace_sid: str) -> tuple[m.Prompt, ...]:
    languages: dict[str, list[dict[str, Any]]] = {}
    for prompt in await store.list_prompts(workspace_sid):
        languages.setdefault(prompt["name"], []).append(prompt)
    prompts = []
    for name, stored in languages.items():
        audio = {}
        for prompt in stored:
            if _exported_audio(prompt):
                full = await store.get_prompt(workspace_sid, name, prompt["language"])
                if full is not None and full["audio"] is not None:
                    audio[prompt["language"]] = full["audio"]
        text = {p["language"]: p["text"] for p in stored if p["text"]}
        voice = {p["language"]: p["voice"] for p in stored if p["voice"] and p["language"] in text}
        prompts.append(m.Prompt(name, text, voice, audio))
    return tuple(prompts)


async def export_ivr(store: Store, space: m.Workspace, workspace_sid: str) -> m.Workspace:
    """`space` with its IVR from the store: prompts, schedules, numbers, flows, contacts, waiting options."""
    waiting = {d["name"]: waiting_of(d["body"]) for d in await store.list_documents(workspace_sid, "queue_waiting")}
    contacts = [
        m.Contact(c["name"], tuple(c["numbers"]), c["vip"], c["manager"], c["language"], c["attributes"])
        for c in await store.list_contacts(workspace_sid)
    ]
    return dataclasses.replace(
        space,
        queues=tuple(dataclasses.replace(q, waiting=waiting.get(q.name)) for q in space.queues),
        prompts=await _export_prompts(store, workspace_sid),
        schedules=tuple(
            m.Schedule(d["name"], {"name": d["name"], **d["body"]})
            for d in await store.list_documents(workspace_sid, "schedule")
        ),
        numbers=tuple(
            m.Number(d["name"], {"number": d["name"], **d["body"]})
            for d in await store.list_documents(workspace_sid, "number")
        ),
        flows=tuple(
            m.ContactFlow(f["name"], {"name": f["name"], **f["definition"]})
            for f in await store.list_flows(workspace_sid)
        ),
        contacts=tuple(contacts),
        dispositions=dispositions_of(await store.get_document(workspace_sid, DISPOSITIONS, DISPOSITIONS)),
    )


async def export_center(runtime: Runtime) -> m.Center:
    """The live configuration as a center model (users with their password hashes and SIP credentials)."""
    spaces = sorted(runtime.workspaces().values(), key=lambda w: w.friendly_name)
    names = {w.sid: w for w in spaces}
    users = []
    for user in sorted(await runtime.store.list_users(), key=lambda u: u["username"]):
        ws = names.get(user.get("workspace_sid") or "")
        worker = ws.workers.get(user.get("worker_sid") or "") if ws else None
        users.append(
            m.User(
                username=user["username"],
                role=user["role"],
                password_hash=user["password_hash"],
                workspace=ws.friendly_name if ws else None,
                worker=worker.friendly_name if worker else None,
                sip_credentials=_stored_sip_credentials(user),
            )
        )
    exported = [await export_ivr(runtime.store, export_workspace(w), w.sid) for w in spaces]
    return m.Center(workspaces=tuple(exported), users=tuple(users))


class Applier:
    """Carries out a plan's changes on the running center, in the plan's order.

    `desired` has its users' SIP credentials filled in (`with_sip_credentials`).
    """

    def __init__(self, runtime: Runtime, desired: m.Center) -> None:
        self.runtime = runtime
        self.desired = desired

    async def password_matches(self, current: m.Center) -> Callable[[str, str], bool]:
        hashes = {u.username: u.password_hash for u in current.users}

        def matches(username: str, password: str) -> bool:
            stored = hashes.get(username)
            if stored is None:
                return False
            try:
                return _hasher.verify(stored, password)
            except (VerificationError, InvalidHashError):
                return False

        return matches

    def _space(self, name: str | None) -> m.Workspace:
        space = self.desired.workspace(name or "")
        assert space is not None
        return space

    async def apply(self, change: Change) -> None:
        in_gone_workspace = (
            change.kind not in ("workspace", "user") and self.desired.workspace(change.workspace or "") is None
        )
        if change.action == "delete" and in_gone_workspace:
            return  # deleting its workspace deletes it (and its default activity could not go first)
        handler = getattr(self, f"_{change.action}_{change.kind}")
        await handler(change)

    # Workspaces

    async def _create_workspace(self, change: Change) -> None:
        space = self._space(change.name)
        await self.runtime.create_workspace(
            space.name, service_level_threshold=space.service_level_threshold, wrapup_seconds=space.wrapup_seconds
        )
        await self._set_dispositions(space)

    async def _update_workspace(self, change: Change) -> None:
        space = self._space(change.name)
        if set(change.fields) - {"dispositions"}:
            await self._settle_workspace(space)
        if "dispositions" in change.fields:
            await self._set_dispositions(space)

    async def _set_dispositions(self, space: m.Workspace) -> None:
        if space.dispositions is not None:
            body = dispositions_body(space.dispositions)
            await self.runtime.store.put_document(self._sid(space.name), DISPOSITIONS, DISPOSITIONS, body)

    async def _settle_workspace(self, space: m.Workspace) -> None:
        ws = self.runtime.workspace(space.name)
        by_name = {a.friendly_name: a.sid for a in ws.activities.values()}
        await self.runtime.update_workspace(
            ws.sid,
            default_activity_sid=by_name.get(space.default_activity),
            timeout_activity_sid=by_name.get(space.timeout_activity),
            service_level_threshold=space.service_level_threshold,
            wrapup_seconds=space.wrapup_seconds,
        )

    async def _delete_workspace(self, change: Change) -> None:
        await self.runtime.delete_workspace(change.name)

    # Activities and channels

    def _item(self, change: Change, attribute: str) -> Any:
        items = getattr(self._space(change.workspace), attribute)
        return next(i for i in items if i.name == change.name)

    async def _create_activity(self, change: Change) -> None:
        item: m.Activity = self._item(change, "activities")
        await self.runtime.run(change.workspace or "", lambda ws: ws.add_activity(item.name, item.available))
        space = self._space(change.workspace)
        if item.name in (space.default_activity, space.timeout_activity):
            await self._settle_workspace(space)

    async def _update_activity(self, change: Change) -> None:
        item: m.Activity = self._item(change, "activities")

        def op(ws: Workspace) -> None:
            activity = next(a for a in ws.activities.values() if a.friendly_name == item.name)
            ws.update_activity(activity.sid, available=item.available)

        await self.runtime.run(change.workspace or "", op)

    async def _delete_activity(self, change: Change) -> None:
        def op(ws: Workspace) -> None:
            activity = next(a for a in ws.activities.values() if a.friendly_name == change.name)
            ws.delete_activity(activity.sid)

        await self.runtime.run(change.workspace or "", op)

    async def _create_channel(self, change: Change) -> None:
        item: m.Channel = self._item(change, "channels")
        await self.runtime.run(change.workspace or "", lambda ws: ws.add_channel(item.name, capacity=item.capacity))

    async def _update_channel(self, change: Change) -> None:
        item: m.Channel = self._item(change, "channels")
        await self.runtime.run(
            change.workspace or "", lambda ws: ws.update_channel(item.name, default_capacity=item.capacity)
        )

    async def _delete_channel(self, change: Change) -> None:
        await self.runtime.run(change.workspace or "", lambda ws: ws.delete_channel(change.name))

    # Queues and workflows

    @staticmethod
    def _queue_settings(ws: Workspace, item: m.Queue) -> dict[str, Any]:
        by_name = {a.friendly_name: a.sid for a in ws.activities.values()}

        def activity(name: str | None) -> str | None:
            return None if name is None else by_name[name]

        return {
            "target_workers": item.target_workers,
            "strategy": item.strategy,
            "strategy_options": dict(item.strategy_options),
            "task_order": item.order,
            "max_reserved_workers": item.max_reserved_workers,
            "reservation_activity_sid": activity(item.reservation_activity),
            "assignment_activity_sid": activity(item.assignment_activity),
            "wrapup_seconds": item.wrapup_seconds,
            "post_work_activity_sid": activity(item.post_work_activity),
            "service_level_threshold": item.service_level_threshold,
        }

    async def _create_queue(self, change: Change) -> None:
        item: m.Queue = self._item(change, "queues")
        await self.runtime.run(
            change.workspace or "", lambda ws: ws.add_queue(item.name, **self._queue_settings(ws, item))
        )
        await self._set_waiting(change.workspace, item)

    async def _set_waiting(self, workspace: str | None, item: m.Queue) -> None:
        sid = self._sid(workspace)
        if item.waiting is None:
            await self.runtime.store.delete_document(sid, "queue_waiting", item.name)
        else:
            await self.runtime.store.put_document(sid, "queue_waiting", item.name, waiting_body(item.waiting))

    async def _update_queue(self, change: Change) -> None:
        item: m.Queue = self._item(change, "queues")

        def op(ws: Workspace) -> None:
            queue = ws.queue_by_name(item.name)
            assert queue is not None
            settings = self._queue_settings(ws, item)
            if settings["target_workers"] == queue.target_workers.source:
                del settings["target_workers"]
            ws.update_queue(queue.sid, **settings)

        if set(change.fields) - {"waiting"}:
            await self.runtime.run(change.workspace or "", op)
        await self._set_waiting(change.workspace, item)

    async def _delete_queue(self, change: Change) -> None:
        def op(ws: Workspace) -> None:
            queue = ws.queue_by_name(change.name)
            assert queue is not None
            ws.delete_queue(queue.sid)

        await self.runtime.run(change.workspace or "", op)
        await self.runtime.store.delete_document(self._sid(change.workspace), "queue_waiting", change.name)

    async def _create_workflow(self, change: Change) -> None:
        item: m.Workflow = self._item(change, "workflows")
        await self.runtime.run(
            change.workspace or "",
            lambda ws: ws.add_workflow(
                item.name,
                queue_sids(ws, item.configuration),
                task_reservation_timeout=item.task_reservation_timeout,
            ),
        )

    def _workflow_sid(self, ws: Workspace, name: str) -> str:
        return next(w.sid for w in ws.workflows.values() if w.friendly_name == name)

    async def _update_workflow(self, change: Change) -> None:
        item: m.Workflow = self._item(change, "workflows")
        await self.runtime.run(
            change.workspace or "",
            lambda ws: ws.update_workflow(
                self._workflow_sid(ws, item.name),
                configuration=queue_sids(ws, item.configuration),
                task_reservation_timeout=item.task_reservation_timeout,
            ),
        )

    async def _delete_workflow(self, change: Change) -> None:
        await self.runtime.run(
            change.workspace or "", lambda ws: ws.delete_workflow(self._workflow_sid(ws, change.name))
        )

    # Workers

    async def _create_worker(self, change: Change) -> None:
        item: m.Worker = self._item(change, "workers")

        def op(ws: Workspace) -> None:
            activity = None
            if item.activity is not None:
                activity = next(a.sid for a in ws.activities.values() if a.friendly_name == item.activity)
            ws.add_worker(item.name, attributes=dict(item.attributes), activity_sid=activity, capacities=item.channels)

        await self.runtime.run(change.workspace or "", op)

    async def _update_worker(self, change: Change) -> None:
        item: m.Worker = self._item(change, "workers")

        def op(ws: Workspace) -> None:
            worker = ws.worker_by_name(item.name)
            assert worker is not None
            if "attributes" in change.fields:
                ws.update_worker(worker.sid, attributes=dict(item.attributes))
            if "activity" in change.fields and item.activity is not None:
                activity = next(a.sid for a in ws.activities.values() if a.friendly_name == item.activity)
                ws.update_worker(worker.sid, activity_sid=activity)
            for channel, capacity in item.channels.items():
                if worker.channels[channel].capacity != capacity:
                    ws.set_worker_channel(worker.sid, channel, capacity=capacity)

        await self.runtime.run(change.workspace or "", op)

    async def _delete_worker(self, change: Change) -> None:
        def op(ws: Workspace) -> None:
            worker = ws.worker_by_name(change.name)
            assert worker is not None
            ws.delete_worker(worker.sid)

        await self.runtime.run(change.workspace or "", op)

    # The IVR, kept in the store

    def _sid(self, workspace: str | None) -> str:
        return self.runtime.workspace(workspace or "").sid

    async def _create_prompt(self, change: Change) -> None:
        await self._update_prompt(change)

    async def _update_prompt(self, change: Change) -> None:
        item: m.Prompt = self._item(change, "prompts")
        store, sid = self.runtime.store, self._sid(change.workspace)
        stored = {p["language"]: p for p in await store.list_prompts(sid) if p["name"] == item.name}
        for language in dict.fromkeys((*item.text, *item.audio)):
            text, voice, audio = item.text.get(language), item.voice.get(language), item.audio.get(language)
            have = stored.get(language)
            if have is not None and await self._stored_prompt(sid, have) == (text, voice, audio):
                continue  # only the languages that changed are written
            source = "tts" if audio is None else "file"
            await store.put_prompt(sid, item.name, language, audio=audio, text=text, voice=voice, source=source)
        for language in stored:
            if language not in item.text and language not in item.audio:
                await store.delete_prompt(sid, item.name, language)

    async def _stored_prompt(self, sid: str, prompt: dict[str, Any]) -> tuple[str | None, str | None, bytes | None]:
        """A stored prompt language as `export` sees it: text, voice, recording."""
        text = prompt["text"] or None
        audio = None
        if _exported_audio(prompt):
            full = await self.runtime.store.get_prompt(sid, prompt["name"], prompt["language"])
            audio = None if full is None else full["audio"]
        return text, prompt["voice"] if text else None, audio

    async def _delete_prompt(self, change: Change) -> None:
        await self.runtime.store.delete_prompt(self._sid(change.workspace), change.name)

    async def _create_schedule(self, change: Change) -> None:
        item: m.Schedule = self._item(change, "schedules")
        await self.runtime.store.put_document(self._sid(change.workspace), "schedule", item.name, item.body)

    async def _update_schedule(self, change: Change) -> None:
        await self._create_schedule(change)

    async def _delete_schedule(self, change: Change) -> None:
        await self.runtime.store.delete_document(self._sid(change.workspace), "schedule", change.name)

    async def _create_number(self, change: Change) -> None:
        item: m.Number = self._item(change, "numbers")
        store, sid = self.runtime.store, self._sid(change.workspace)
        owner = await store.find_number(item.number)
        if owner is not None and owner[0] != sid:
            # The file moves it here (a file lists a number once): the other workspace's entry goes first.
            await store.delete_document(owner[0], "number", item.number)
        await store.put_document(sid, "number", item.number, item.body)

    async def _update_number(self, change: Change) -> None:
        await self._create_number(change)

    async def _delete_number(self, change: Change) -> None:
        await self.runtime.store.delete_document(self._sid(change.workspace), "number", change.name)

    async def _create_flow(self, change: Change) -> None:
        item: m.ContactFlow = self._item(change, "flows")
        await self.runtime.store.publish_flow(self._sid(change.workspace), item.name, item.definition)

    async def _update_flow(self, change: Change) -> None:
        await self._create_flow(change)

    async def _delete_flow(self, change: Change) -> None:
        await self.runtime.store.delete_flow(self._sid(change.workspace), change.name)

    async def _stored_contact(self, sid: str, name: str) -> dict[str, Any] | None:
        return next((c for c in await self.runtime.store.list_contacts(sid) if c["name"] == name), None)

    async def _create_contact(self, change: Change) -> None:
        item: m.Contact = self._item(change, "contacts")
        store, sid = self.runtime.store, self._sid(change.workspace)
        stored = await self._stored_contact(sid, item.name)
        own = stored["sid"] if stored is not None else None
        for number in item.numbers:
            holder = await store.find_contact(sid, number)
            if holder is not None and holder["sid"] != own:
                # The file gives it to this contact; the one who has it now is changed or deleted later on.
                numbers = [n for n in holder["numbers"] if n != number]
                await store.put_contact(sid, {**holder, "numbers": numbers})
        contact = {
            "name": item.name,
            "numbers": list(item.numbers),
            "vip": item.vip,
            "manager": item.manager,
            "language": item.language,
            "attributes": dict(item.attributes),
        }
        if own is not None:
            contact["sid"] = own
        await store.put_contact(sid, contact)

    async def _update_contact(self, change: Change) -> None:
        await self._create_contact(change)

    async def _delete_contact(self, change: Change) -> None:
        sid = self._sid(change.workspace)
        stored = await self._stored_contact(sid, change.name)
        if stored is not None:
            await self.runtime.store.delete_contact(sid, stored["sid"])

    # Users

    def _user(self, username: str) -> m.User:
        return next(u for u in self.desired.users if u.username == username)

    def _user_fields(self, user: m.User) -> dict[str, Any]:
        ws = self.runtime.workspace(user.workspace) if user.workspace else None
        worker = ws.worker_by_name(user.worker) if ws and user.worker else None
        if user.password_hash is not None:
            password_hash = user.password_hash
        elif user.password is not None:
            password_hash = _hasher.hash(user.password)
        else:
            raise ValidationError(f"user {user.username} needs a password", error_id="password_missing")
        return {
            "password_hash": password_hash,
            "role": user.role,
            "workspace_sid": ws.sid if ws else None,
            "worker_sid": worker.sid if worker else None,
        }

    async def _create_user(self, change: Change) -> None:
        user = self._user(change.name)
        created = await self.runtime.store.create_user(change.name, **self._user_fields(user))
        await self._set_sip_credentials(created["id"], user)

    async def _update_user(self, change: Change) -> None:
        user = self._user(change.name)
        fields = self._user_fields(user)
        if "password" not in change.fields:
            del fields["password_hash"]
        stored = await self.runtime.store.get_user_by_name(change.name)
        assert stored is not None
        await self.runtime.store.update_user(stored["id"], **fields)
        if "password" in change.fields or "sip_credentials" in change.fields:
            await self._set_sip_credentials(stored["id"], user)

    async def _set_sip_credentials(self, user_id: str, user: m.User) -> None:
        # A password_hash without sip_credentials means none: HA1s left from an older password would let
        # that password still register a phone.
        sip = user.sip_credentials
        if sip is None:
            await self.runtime.store.clear_sip_credentials(user_id)
        else:
            await self.runtime.store.set_sip_credentials(user_id, sip.realm, sip.ha1_md5, sip.ha1_sha256)

    async def _delete_user(self, change: Change) -> None:
        stored = await self.runtime.store.get_user_by_name(change.name)
        if stored is not None:
            await self.runtime.store.delete_user(stored["id"])


async def plan_center(runtime: Runtime, desired: m.Center, *, sip_realm: str = DEFAULT_SIP_REALM) -> list[Change]:
    """The changes `apply_center` would carry out; clear passwords give SIP credentials in `sip_realm`."""
    desired = with_sip_credentials(desired, sip_realm)
    current = await export_center(runtime)
    applier = Applier(runtime, desired)
    return _with_dispositions(current, desired, plan(current, desired, await applier.password_matches(current)))


def _with_dispositions(current: m.Center, desired: m.Center, changes: list[Change]) -> list[Change]:
    """`changes` with each existing workspace's changed dispositions as a field of its update (a new workspace
    gets them when created). A workspace without a `dispositions:` key keeps the stored ones."""
    changes = list(changes)
    for space in desired.workspaces:
        old = current.workspace(space.name)
        if space.dispositions is None or old is None or old.dispositions == space.dispositions:
            continue
        diff = {"dispositions": (old.dispositions, space.dispositions)}
        at = next((i for i, c in enumerate(changes) if c.action == "update" and c.kind == "workspace"
                   and c.name == space.name), None)  # fmt: skip
        if at is not None:
            changes[at] = dataclasses.replace(changes[at], fields={**changes[at].fields, **diff})
        else:
            at = next((i for i, c in enumerate(changes) if c.action == "delete"), len(changes))
            changes.insert(at, Change("update", "workspace", space.name, space.name, diff))
    return changes


async def apply_center(
    runtime: Runtime, desired: m.Center, *, dry_run: bool = False, sip_realm: str = DEFAULT_SIP_REALM
) -> list[Change]:
    """Make the running center match `desired`; returns the changes (carried out unless `dry_run`).

    A user given by a clear password also gets SIP credentials in `sip_realm` (the server's `sip_realm`),
    so its phone registers with the same username and password.
    """
    changes = await plan_center(runtime, desired, sip_realm=sip_realm)
    if not dry_run:
        applier = Applier(runtime, with_sip_credentials(desired, sip_realm))
        for change in changes:
            await applier.apply(change)
    return changes
