"""Appending events to streams: pipelined XADD with an approximate MAXLEN cap."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis
import redis.asyncio as aioredis

from libs.common.events.base import Event, encode
from libs.common.logging import current_trace_id


class StreamProducer:
    """Synchronous producer for workers. One pipeline round trip per call."""

    def __init__(self, client: redis.Redis, maxlen: int = 2_000_000) -> None:
        self._client = client
        self._maxlen = maxlen

    def publish(
        self, events: Sequence[Event], *, stream: str | None = None, trace_id: str | None = None
    ) -> list[str]:
        if not events:
            return []
        pipe = self._client.pipeline(transaction=False)
        _queue_xadds(pipe, events, stream, trace_id or current_trace_id(), self._maxlen)
        return [_text(entry_id) for entry_id in pipe.execute()]


class AsyncStreamProducer:
    """The same for FastAPI handlers (redis.asyncio)."""

    def __init__(self, client: aioredis.Redis, maxlen: int = 2_000_000) -> None:
        self._client = client
        self._maxlen = maxlen

    async def publish(
        self, events: Sequence[Event], *, stream: str | None = None, trace_id: str | None = None
    ) -> list[str]:
        if not events:
            return []
        pipe = self._client.pipeline(transaction=False)
        _queue_xadds(pipe, events, stream, trace_id or current_trace_id(), self._maxlen)
        return [_text(entry_id) for entry_id in await pipe.execute()]


def _queue_xadds(
    pipe: Any, events: Sequence[Event], stream: str | None, trace: str | None, maxlen: int
) -> None:
    for event in events:
        pipe.xadd(stream or event.STREAM, encode(event, trace), maxlen=maxlen, approximate=True)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
