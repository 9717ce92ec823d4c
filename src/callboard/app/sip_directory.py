"""Agents' SIP phones as the store knows them: `Directory` serves users' SIP credentials and which users are
each worker's, and `StoredBindings` keeps registrations in the store so that phones stay registered over a
restart."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from callboard.voice.sip.bindings import Binding
from callboard.voice.sip.digest import Algorithm, Ha1

__all__ = ["Directory", "StoredBindings"]

log = logging.getLogger(__name__)


class Directory:
    """Users' SIP credentials (HA1 per algorithm) and which users are each worker's, read from the store."""

    def __init__(self, store: Any, realm: str) -> None:
        self.store = store
        self.realm = realm
        self._ha1: dict[tuple[str, Algorithm], str] = {}
        self._usernames: dict[str, list[str]] = {}
        self._workers: dict[str, str] = {}  # username -> worker sid

    async def refresh(self) -> None:
        ha1: dict[tuple[str, Algorithm], str] = {}
        usernames: dict[str, list[str]] = {}
        workers: dict[str, str] = {}
        for user in await self.store.list_users():
            if user.get("worker_sid") and not user.get("disabled"):
                usernames.setdefault(user["worker_sid"], []).append(user["username"])
                workers[user["username"]] = user["worker_sid"]
        for credentials in await self.store.list_sip_credentials():
            if credentials["realm"] == self.realm and not credentials["disabled"]:
                ha1[(credentials["username"], Algorithm.MD5)] = credentials["ha1_md5"]
                ha1[(credentials["username"], Algorithm.SHA_256)] = credentials["ha1_sha256"]
        self._ha1, self._usernames, self._workers = ha1, usernames, workers

    def lookup(self, username: str, realm: str, algorithm: Algorithm) -> Ha1 | None:
        """The registrar's `CredentialLookup`."""
        if realm != self.realm:
            return None
        value = self._ha1.get((username, algorithm))
        return Ha1(value) if value is not None else None

    def has_credentials(self, username: str) -> bool:
        return (username, Algorithm.MD5) in self._ha1

    def usernames(self, worker_sid: str) -> list[str]:
        return self._usernames.get(worker_sid, [])

    def worker_of(self, username: str) -> str | None:
        return self._workers.get(username)


class StoredBindings:
    """The registrar's `BindingPersistence` over the store: changes are written in order by one writer task."""

    def __init__(self, store: Any, records: Iterable[dict[str, Any]]) -> None:
        self.store = store
        self._records = list(records)
        self._writes: asyncio.Queue[tuple[str, Binding]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    @classmethod
    async def load(cls, store: Any) -> StoredBindings:
        bindings = cls(store, await store.load_sip_bindings())
        bindings._writer = asyncio.get_running_loop().create_task(bindings._write(), name="callboard-bindings")
        return bindings

    def load_all(self) -> Iterable[Binding]:
        for record in self._records:
            try:
                yield Binding.from_record(record)
            except (ValueError, KeyError) as exc:
                log.warning("stored SIP binding dropped (%s): %r", exc, record)

    def save(self, binding: Binding) -> None:
        self._writes.put_nowait(("save", binding))

    def delete(self, binding: Binding) -> None:
        self._writes.put_nowait(("delete", binding))

    async def flush(self) -> None:
        await self._writes.join()

    async def close(self) -> None:
        await self.flush()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer

    async def _write(self) -> None:
        while True:
            action, binding = await self._writes.get()
            aor, key = binding.key
            try:
                if action == "save":
                    await self.store.save_sip_binding(aor, key, binding.as_record())
                else:
                    await self.store.delete_sip_binding(aor, key)
            except Exception:
                log.exception("SIP binding %s of %s not stored", key, aor)
            finally:
                self._writes.task_done()
