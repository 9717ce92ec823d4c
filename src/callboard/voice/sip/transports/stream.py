"""SIP over TCP and TLS (RFC 3261 §18): Content-Length framing, connection reuse, idle timeout, keep-alives."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from typing import Any, Self

from ..errors import SipParseError
from ..message import DEFAULT_LIMITS, Limits, Request, Response, split_stream
from ..transport_port import Destination, SipTransportError
from .base import MessageHandler, SipTransport
from .via import default_port, top_via

__all__ = ["DEFAULT_IDLE_TIMEOUT", "ConnectionErrorHandler", "TcpTransport", "TlsTransport"]

logger = logging.getLogger(__name__)

DEFAULT_IDLE_TIMEOUT = 120.0  # seconds without traffic before a connection is closed
CONNECT_TIMEOUT = 10.0
PING, PONG = b"\r\n\r\n", b"\r\n"  # RFC 5626 §4.4.1 CRLF keep-alive

# Called when a connection this transport opened for `send` fails: the messages queued on it are lost.
ConnectionErrorHandler = Callable[[Destination, Exception], None]


class TcpTransport(SipTransport):
    """A listening TCP socket plus the connections it accepted or opened, reused by remote (host, port)."""

    name = "TCP"
    reliable = True

    def __init__(
        self,
        handler: MessageHandler,
        *,
        limits: Limits = DEFAULT_LIMITS,
        sent_by: str | None = None,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        client_ssl: ssl.SSLContext | None = None,
        on_connection_error: ConnectionErrorHandler | None = None,
    ) -> None:
        super().__init__(handler, limits=limits, sent_by=sent_by)
        self.idle_timeout = idle_timeout
        self.on_connection_error = on_connection_error
        self._client_ssl = client_ssl
        self._server: asyncio.Server | None = None
        self._connections: dict[Destination, _Connection] = {}
        self._all: set[_Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    async def open(
        cls,
        handler: MessageHandler,
        host: str = "0.0.0.0",
        port: int = 5060,
        *,
        ssl: ssl.SSLContext | None = None,
        client_ssl: ssl.SSLContext | None = None,
        limits: Limits = DEFAULT_LIMITS,
        sent_by: str | None = None,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        on_connection_error: ConnectionErrorHandler | None = None,
    ) -> Self:
        """Listens on `host`:`port` (0 picks a free port); `ssl` is the server context of a TLS transport."""
        self = cls(
            handler,
            limits=limits,
            sent_by=sent_by,
            idle_timeout=idle_timeout,
            client_ssl=client_ssl,
            on_connection_error=on_connection_error,
        )
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self, None), host, port, ssl=ssl)
        sockname = self._server.sockets[0].getsockname()
        self._local = (sockname[0], sockname[1])
        return self

    @property
    def connections(self) -> dict[Destination, Any]:
        """Open (or opening) connections by remote (host, port), for inspection."""
        return dict(self._connections)

    def send(self, message: Request | Response, destination: Destination) -> None:
        if self._server is None:
            self.counters.send_errors += 1
            raise SipTransportError(f"{self.name} transport is closed", destination=destination)
        connection = self._connections.get(destination)
        if connection is not None and connection.closing:
            connection = None
        if connection is None:
            if isinstance(message, Response):
                # §18.2.2: the request's connection is gone; open one to received (or source) and sent-by port.
                via = top_via(message)
                if via is not None:
                    destination = (via.received or destination[0], via.port or default_port(via.transport))
                    connection = self._connections.get(destination)
            if connection is None or connection.closing:
                connection = self._connect(destination)
        connection.write(bytes(message))
        self.counters.sent += 1

    async def connect(self, destination: Destination) -> None:
        """Opens (or reuses) the connection to `destination` now; raises OSError when it cannot be opened."""
        connection = self._connections.get(destination) or self._connect(destination)
        await asyncio.wait_for(asyncio.shield(connection.ready), CONNECT_TIMEOUT)

    def _connect(self, destination: Destination) -> _Connection:
        connection = _Connection(self, destination)
        self._connections[destination] = connection
        task = asyncio.get_running_loop().create_task(self._open(connection, destination))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return connection

    async def _open(self, connection: _Connection, destination: Destination) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                await loop.create_connection(lambda: connection, destination[0], destination[1], ssl=self._client_ssl)
        except (OSError, TimeoutError) as exc:
            connection.failed(exc)

    def _forget(self, connection: _Connection) -> None:
        self._all.discard(connection)
        if connection.key is not None and self._connections.get(connection.key) is connection:
            del self._connections[connection.key]

    async def close(self) -> None:
        """Stops listening and closes every connection, waiting until their sockets are closed."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for task in list(self._tasks):
            task.cancel()
        connections = list(self._all)
        for connection in connections:
            connection.close()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        waiting = [c.closed for c in connections if not c.closed.done()]
        if waiting:
            _, late = await asyncio.wait(waiting, timeout=2.0)
            for connection in connections:
                if connection.closed in late:
                    connection.abort()
            if late:
                await asyncio.wait(late, timeout=1.0)
        await server.wait_closed()


class TlsTransport(TcpTransport):
    """SIP over TLS: a TCP transport whose server and client sockets are wrapped by the SSL contexts given."""

    name = "TLS"

    @classmethod
    async def open(
        cls,
        handler: MessageHandler,
        host: str = "0.0.0.0",
        port: int = 5061,
        *,
        ssl: ssl.SSLContext | None = None,
        client_ssl: ssl.SSLContext | None = None,
        limits: Limits = DEFAULT_LIMITS,
        sent_by: str | None = None,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        on_connection_error: ConnectionErrorHandler | None = None,
    ) -> Self:
        if ssl is None or client_ssl is None:
            raise ValueError("a TLS transport needs a server (ssl) and a client (client_ssl) context")
        return await super().open(
            handler,
            host,
            port,
            ssl=ssl,
            client_ssl=client_ssl,
            limits=limits,
            sent_by=sent_by,
            idle_timeout=idle_timeout,
            on_connection_error=on_connection_error,
        )


class _Connection(asyncio.Protocol):
    """One TCP or TLS connection: frames its byte stream into messages and closes itself when idle."""

    def __init__(self, owner: TcpTransport, key: Destination | None) -> None:
        self.owner = owner
        self.key = key  # remote (host, port); None for an accepted connection until it is made
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.pending: list[bytes] = []
        loop = asyncio.get_running_loop()
        self.loop = loop
        self.ready: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.last_activity = loop.time()
        self._idle: asyncio.TimerHandle | None = None
        owner._all.add(self)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if self.key is None:
            peer = transport.get_extra_info("peername")
            self.key = (str(peer[0]), int(peer[1]))
            self.owner._connections[self.key] = self
        for data in self.pending:
            transport.write(data)
        self.pending.clear()
        self.ready.set_result(None)
        self._schedule_idle(self.owner.idle_timeout)

    @property
    def closing(self) -> bool:
        return self.transport is not None and self.transport.is_closing()

    def write(self, data: bytes) -> None:
        self.last_activity = self.loop.time()
        if self.transport is None:
            self.pending.append(data)
        else:
            self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        self.last_activity = self.loop.time()
        self.buffer += data
        while self.buffer.startswith(PING):
            self.owner.counters.keepalives += 1
            self.write(PONG)
            self.buffer = self.buffer[len(PING) :]
        if PING.startswith(self.buffer):
            return  # a keep-alive (or its pong) in pieces
        try:
            messages, self.buffer = split_stream(self.buffer, self.owner.limits)
        except SipParseError as exc:
            # Nothing after a framing error can be trusted (§18.3): answer when the head is readable, then close.
            self.owner.counters.malformed += 1
            if self.key is not None:
                self.owner._reject(self.buffer.lstrip(b"\r\n"), exc, self.key)
            self.close()
            return
        for message in messages:
            if self.key is not None and self.transport is not None and not self.transport.is_closing():
                self.owner._receive(message, self.key, stream=True)

    def eof_received(self) -> bool | None:
        return None  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self.owner._forget(self)
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("connection closed"))
            self.ready.exception()  # retrieved: nobody may be waiting
        if not self.closed.done():
            self.closed.set_result(None)

    def failed(self, exc: Exception) -> None:
        """The connection could not be opened: what was queued on it is lost."""
        logger.info("%s transport: cannot connect to %s: %s", self.owner.name, self.key, exc)
        self.owner.counters.send_errors += len(self.pending)
        self.pending.clear()
        self.owner._forget(self)
        if not self.ready.done():
            self.ready.set_exception(exc)
            self.ready.exception()
        if not self.closed.done():
            self.closed.set_result(None)
        if self.owner.on_connection_error is not None and self.key is not None:
            self.owner.on_connection_error(self.key, exc)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        elif not self.closed.done():
            self.closed.set_result(None)  # never connected: nothing to close
            self.owner._forget(self)

    def abort(self) -> None:
        if self.transport is not None:
            with contextlib.suppress(Exception):
                self.transport.abort()

    def _schedule_idle(self, delay: float) -> None:
        self._idle = self.loop.call_later(delay, self._check_idle)

    def _check_idle(self) -> None:
        # One timer per connection, rescheduled lazily rather than reset on every message.
        remaining = self.last_activity + self.owner.idle_timeout - self.loop.time()
        if remaining > 0:
            self._schedule_idle(remaining)
            return
        logger.info("%s transport: closing idle connection to %s", self.owner.name, self.key)
        self.close()
