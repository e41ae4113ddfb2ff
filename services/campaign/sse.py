"""Server-sent events of one campaign's live figures.

Polls its own database at most every ``poll_s`` seconds, sends an ``event: stats`` only
when the figures changed, a ``: keepalive`` comment when nothing was sent for
``keepalive_s``, and ends after a final state (completed or cancelled).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson

from services.campaign.lifecycle import FINAL

Snapshot = Callable[[], Awaitable[dict[str, Any] | None]]
Disconnected = Callable[[], Awaitable[bool]]


def stats_event(figures: dict[str, Any]) -> str:
    return f"event: stats\ndata: {orjson.dumps(figures).decode()}\n\n"


async def campaign_events(
    snapshot: Snapshot,
    disconnected: Disconnected,
    *,
    poll_s: float,
    keepalive_s: float,
) -> AsyncIterator[str]:
    last: dict[str, Any] | None = None
    last_sent = time.monotonic()
    while True:
        figures = await snapshot()
        if figures is None:  # deleted meanwhile
            return
        # estimatedCompletion moves with the clock: alone it is not a change.
        comparable = {k: v for k, v in figures.items() if k != "estimatedCompletion"}
        if comparable != last:
            last = comparable
            last_sent = time.monotonic()
            yield stats_event(figures)
        elif time.monotonic() - last_sent >= keepalive_s:
            last_sent = time.monotonic()
            yield ": keepalive\n\n"
        if figures["status"] in FINAL or await disconnected():
            return
        await asyncio.sleep(poll_s)
