"""What the ``segment`` group does with a launch entry: resolve the audience, or replay it.

A launch published again with ``replay`` (the campaign worker saw the campaign stall
with members that have no final state: entries lost with the last second of a crashed
Redis, for example) sends every chunk again from ``audience_chunks``, the customer ids
stored when the chunk was first published, so the audience is the one resolved then, not
today's. Delivery handles a replayed chunk as a redelivery: it sends only the members it
never sent (same batches, same vendor keys) and announces again what it holds for the
others, so the campaign's counters catch up with what really happened. Then the
audience size is announced again, in case that entry was the one lost.

A replay does nothing while a walk or another replay of the campaign saved progress
recently (it is alive and will finish: replays never stack up behind a long vendor
outage); a resolution left unfinished is resumed, like a redelivered launch.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from libs.common.clock import now_utc
from libs.common.events import AudienceResolved, CampaignLaunched, SendRequested
from libs.common.logging import get_logger
from services.ingest.audience.resolver import (
    chunk_entry,
    keep_claimed,
    recipient,
    resolve_audience,
    wait_for_room,
)
from services.ingest.handlers import Deps

log = get_logger(__name__)


def handle_launches(events: list[CampaignLaunched], deps: Deps) -> None:
    for event in events:
        resolution = deps.store.get_resolution(event.campaign_id) if event.replay else None
        if resolution is None:
            resolve_audience(event, deps)
        elif walk_alive(resolution, now_utc(), deps.settings.replay_alive_s):
            log.info("resolver.replay_skipped_walk_alive", campaign_id=event.campaign_id)
        elif resolution.get("status") == "done":
            replay_audience(event, resolution, deps)
        else:
            resolve_audience(event, deps)


def walk_alive(resolution: dict[str, Any], now: datetime, alive_s: float) -> bool:
    """A walk or replay of this campaign saved progress less than ``alive_s`` ago."""
    saved_ms = resolution.get("saved_ms")
    if not isinstance(saved_ms, int):
        return False
    return now.timestamp() * 1000 - saved_ms < alive_s * 1000


def replay_audience(event: CampaignLaunched, resolution: dict[str, Any], deps: Deps) -> None:
    """Publish every stored chunk again (``replay``), then the audience size."""
    settings, store = deps.settings, deps.store
    pending: list[SendRequested] = []
    chunks = members = 0

    def flush() -> None:
        nonlocal pending
        wait_for_room(deps, event)
        deps.producer.publish(pending)
        pending = []
        store.touch_resolution(event.campaign_id)  # alive: a second replay waits
        keep_claimed(deps, event)

    for chunk, ids in store.chunk_members(event.campaign_id):
        docs = store.customers_in_order(ids)  # an erased customer is left out
        recipients = [recipient(doc, event.fields) for doc in docs]
        pending.append(chunk_entry(event, chunk, recipients, replay=True))
        chunks += 1
        members += len(docs)
        if len(pending) >= settings.send_chunks_per_flush:
            flush()
    if pending:
        flush()
    total = int(resolution.get("total", 0))
    deps.producer.publish(
        [AudienceResolved(campaign_id=event.campaign_id, total=total, resolved_at=now_utc())]
    )
    log.warning(
        "resolver.audience_replayed",
        campaign_id=event.campaign_id,
        chunks=chunks,
        members=members,
        total=total,
    )
