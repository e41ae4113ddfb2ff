"""Appending to streams from request handlers: pipelined XADD on one lean connection.

redis-py's asyncio client spends ~175 us of CPU per XADD on this project's 2-core
machine (~225 us through a pipeline): connection pool, retry and timeout wrappers,
asyncio streams. valkey-glide took ~195 us and coredis ~460 us. At 1,000 single-record
POSTs a second that is a fifth of a core before any other work. This module writes the
commands itself on one asyncio connection, parsed by hiredis, for ~50 us
(``bench/profile.py`` and docs/performance.md have the figures).

- Every call writes its commands in one ``transport.write`` and waits only for its last
  reply: Redis answers in order on a connection, so the earlier ones are in by then.
  Concurrent callers share the connection; their commands interleave whole.
- A lost or timed-out connection fails every command in flight with
  ``redis.exceptions.ConnectionError`` / ``TimeoutError`` (the services answer those
  503 + Retry-After). An entry may then have been added without its answer, as with any
  client: the caller retries, and the consumers are idempotent.
- The next call reconnects, so a Redis restart costs the requests in flight only.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, cast

import hiredis
from redis import exceptions as redis_errors
from redis._parsers import BaseParser
from redis.connection import SSLConnection, UnixDomainSocketConnection, parse_url

from libs.common.redis_client import is_cluster_url, make_async_redis

Fields = Mapping[str, bytes] | Mapping[bytes, bytes]


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


def _command(*parts: bytes) -> bytes:
    return b"*%d\r\n" % len(parts) + b"".join(_bulk(p) for p in parts)


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def xadd_command(stream: str, fields: Fields, maxlen: int | None) -> bytes:
    """``XADD stream [MAXLEN ~ n] * field value ...`` in the wire format."""
    parts = [b"XADD", stream.encode()]
    if maxlen:
        parts += [b"MAXLEN", b"~", str(maxlen).encode()]
    parts.append(b"*")
    for key, value in fields.items():
        parts += [_as_bytes(key), value]
    return _command(*parts)


class _Connection(asyncio.Protocol):
    """One connection: commands out, replies matched to waiting futures in order."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        # error replies become redis-py's own exception classes (WRONGTYPE, OOM, ...)
        self.reader = hiredis.Reader(
            protocolError=redis_errors.InvalidResponse, replyError=BaseParser.parse_error
        )
        self.transport: asyncio.Transport | None = None
        self.pending: deque[tuple[asyncio.Future[Any], float]] = deque()
        self.closed = False
        self._watchdog: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        try:
            while (reply := self.reader.gets()) is not False:
                future, _ = self.pending.popleft()
                if not future.done():
                    future.set_result(reply)
        except redis_errors.InvalidResponse as exc:
            self._fail(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(redis_errors.ConnectionError(f"connection to Redis lost: {exc or 'closed'}"))

    def send(self, payload: bytes, replies: int) -> list[asyncio.Future[Any]]:
        """Write ``payload`` (``replies`` commands): one future per reply, in order."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + self.timeout_s
        futures: list[asyncio.Future[Any]] = [loop.create_future() for _ in range(replies)]
        self.pending.extend((future, deadline) for future in futures)
        self.transport.write(payload)
        if self._watchdog is None:
            self._watchdog = loop.call_later(self.timeout_s, self._check_deadline)
        return futures

    async def replies(self, payload: bytes, replies: int) -> list[Any]:
        """Send, then wait for the last reply only: the others come before it."""
        futures = self.send(payload, replies)
        await futures[-1]
        results = [future.result() for future in futures]
        for reply in results:
            if isinstance(reply, Exception):  # an error reply: no other reply is one
                raise reply
        return results

    def _check_deadline(self) -> None:
        self._watchdog = None
        if not self.pending or self.closed:
            return
        oldest = self.pending[0][1]
        if time.monotonic() >= oldest:
            self._fail(redis_errors.TimeoutError(f"no answer from Redis in {self.timeout_s} s"))
            return
        loop = asyncio.get_running_loop()
        self._watchdog = loop.call_at(loop.time() + oldest - time.monotonic(), self._check_deadline)

    def _fail(self, exc: Exception) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()
        while self.pending:
            future, _ = self.pending.popleft()
            if not future.done():
                future.set_exception(exc)
                future.exception()  # retrieved: only the last one of a call is awaited
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None


class StreamAppender:
    """``await appender.append(stream, [fields, ...], maxlen)`` -> the new entry ids."""

    def __init__(
        self,
        url: str,
        *,
        name: str = "",
        timeout_s: float = 10,
        connect_timeout_s: float = 3,
    ) -> None:
        """``name``: the connection's name in ``CLIENT LIST``."""
        self.options: dict[str, Any] = parse_url(url)  # type: ignore[no-untyped-call]
        self.name = name
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self._connection: _Connection | None = None
        self._connecting: asyncio.Lock | None = None

    async def append(
        self, stream: str, entries: Sequence[Fields], maxlen: int | None = None
    ) -> list[str]:
        if not entries:
            return []
        payload = b"".join(xadd_command(stream, fields, maxlen) for fields in entries)
        replies = await self._call(payload, len(entries))
        return [reply.decode() for reply in replies]

    async def append_many(
        self, batches: Sequence[tuple[str, Sequence[Fields]]], maxlen: int | None = None
    ) -> list[str]:
        """Entries for several streams (the partitions of one) in one write."""
        payload = b"".join(
            xadd_command(stream, fields, maxlen)
            for stream, entries in batches
            for fields in entries
        )
        count = sum(len(entries) for _, entries in batches)
        if not count:
            return []
        return [reply.decode() for reply in await self._call(payload, count)]

    async def execute(self, *parts: str | bytes) -> Any:
        """Any other command, on the same connection."""
        (reply,) = await self._call(_command(*(_as_bytes(p) for p in parts)), 1)
        return reply

    async def aclose(self) -> None:
        if self._connection is not None and not self._connection.closed:
            self._connection.closed = True
            assert self._connection.transport is not None
            self._connection.transport.close()
        self._connection = None

    async def _call(self, payload: bytes, replies: int) -> list[Any]:
        connection = await self._connected()
        return await connection.replies(payload, replies)

    async def _connected(self) -> _Connection:
        if self._connection is not None and not self._connection.closed:
            return self._connection
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._connection is None or self._connection.closed:
                self._connection = await self._connect()
        return self._connection

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        options = self.options
        connection = _Connection(self.timeout_s)
        try:
            async with asyncio.timeout(self.connect_timeout_s):
                if options.get("connection_class") is UnixDomainSocketConnection:
                    await loop.create_unix_connection(lambda: connection, options["path"])
                else:
                    tls = (
                        ssl.create_default_context()
                        if options.get("connection_class") is SSLConnection
                        else None
                    )
                    host, port = options.get("host", "localhost"), options.get("port", 6379)
                    await loop.create_connection(lambda: connection, host, port, ssl=tls)
        except (OSError, TimeoutError) as exc:
            raise redis_errors.ConnectionError(f"cannot connect to Redis: {exc}") from exc
        setup = []
        if options.get("password"):
            user = [options["username"].encode()] if options.get("username") else []
            setup.append(_command(b"AUTH", *user, options["password"].encode()))
        if options.get("db"):
            setup.append(_command(b"SELECT", str(options["db"]).encode()))
        if self.name:
            setup.append(_command(b"CLIENT", b"SETNAME", self.name.encode()))
        if setup:
            try:
                await connection.replies(b"".join(setup), len(setup))
            except redis_errors.RedisError:
                connection.transport.close()  # type: ignore[union-attr]
                raise
        return connection


class ClusterAppender:
    """``StreamAppender``'s interface on a Redis Cluster: redis-py's cluster pipeline
    routes each XADD to its slot's master (one batch per node). It costs the CPU the
    lean connection saves; a cluster is chosen for capacity, not for one core."""

    def __init__(self, url: str) -> None:
        self._client = make_async_redis(url)

    async def append(
        self, stream: str, entries: Sequence[Fields], maxlen: int | None = None
    ) -> list[str]:
        return await self.append_many([(stream, entries)], maxlen)

    async def append_many(
        self, batches: Sequence[tuple[str, Sequence[Fields]]], maxlen: int | None = None
    ) -> list[str]:
        pipe = self._client.pipeline(transaction=False)
        for stream, entries in batches:
            for fields in entries:
                pipe.xadd(stream, dict(fields), maxlen=maxlen, approximate=True)  # type: ignore[arg-type]
        replies = await pipe.execute()
        return [reply.decode() if isinstance(reply, bytes) else str(reply) for reply in replies]

    async def aclose(self) -> None:
        await self._client.aclose()


def make_appender(url: str, *, name: str = "") -> StreamAppender | ClusterAppender:
    """The lean single-connection appender, or on a cluster the cluster-client one."""
    if is_cluster_url(url):
        return ClusterAppender(url)
    return StreamAppender(url, name=name)
