"""Appending events to streams: pipelined XADD with an approximate MAXLEN cap.

With a partitioned layout an event goes to its entity's partition (a chunk is split
by each record's key first, see ``Event.split_for_partitions``). On a Redis Cluster
the pipeline is redis-py's cluster pipeline: one batch per node, not a transaction.

``publish(events, key=...)``: all of them (of one stream), whole, on the partition of
``key``, in one MULTI: all or nothing. A caller whose retry must see exactly what its first attempt
left behind (delivery's outcomes of one chunk) needs that; across partitions a failover
could keep some appends and lose others.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis
import redis.asyncio as aioredis

from libs.common.events.base import Event, encode
from libs.common.logging import current_trace_id
from libs.common.replies import text
from libs.common.streams.names import SINGLE, StreamLayout


class StreamProducer:
    """Synchronous producer for workers. One pipeline round trip per call."""

    def __init__(
        self,
        client: redis.Redis,
        maxlen: int = 2_000_000,
        *,
        layout: StreamLayout = SINGLE,
    ) -> None:
        self._client = client
        self._maxlen = maxlen
        self._layout = layout

    def publish(
        self,
        events: Sequence[Event],
        *,
        stream: str | None = None,
        trace_id: str | None = None,
        key: str | None = None,
    ) -> list[str]:
        if not events:
            return []
        entries = routed(events, stream, self._layout, key)
        if key is not None and len({name for name, _ in entries}) > 1:
            raise ValueError("events published under one key must share a stream")
        pipe = self._client.pipeline(transaction=key is not None)
        _queue_xadds(pipe, entries, trace_id or current_trace_id(), self._maxlen)
        return [text(entry_id) for entry_id in pipe.execute()]


class AsyncStreamProducer:
    """The same for FastAPI handlers (redis.asyncio)."""

    def __init__(
        self,
        client: aioredis.Redis,
        maxlen: int = 2_000_000,
        *,
        layout: StreamLayout = SINGLE,
    ) -> None:
        self._client = client
        self._maxlen = maxlen
        self._layout = layout

    async def publish(
        self, events: Sequence[Event], *, stream: str | None = None, trace_id: str | None = None
    ) -> list[str]:
        if not events:
            return []
        pipe = self._client.pipeline(transaction=False)
        trace = trace_id or current_trace_id()
        _queue_xadds(pipe, routed(events, stream, self._layout), trace, self._maxlen)
        return [text(entry_id) for entry_id in await pipe.execute()]


def routed(
    events: Sequence[Event], stream: str | None, layout: StreamLayout, key: str | None = None
) -> list[tuple[str, Event]]:
    """(Redis stream, event) for each entry to append, in the order given; with ``key``
    every event whole on that key's partition."""
    out: list[tuple[str, Event]] = []
    for event in events:
        logical = stream or event.STREAM
        if layout.is_plain(logical):
            out.append((logical, event))
            continue
        if key is not None:
            out.append((layout.partition(logical, key), event))
            continue
        names = layout.partitions(logical)
        out.extend((names[i], part) for i, part in event.split_for_partitions(len(names)))
    return out


def _queue_xadds(
    pipe: Any, entries: Sequence[tuple[str, Event]], trace: str | None, maxlen: int
) -> None:
    for name, event in entries:
        pipe.xadd(name, encode(event, trace), maxlen=maxlen, approximate=True)
