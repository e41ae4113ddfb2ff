"""The audience resolver (group ``segment``): a launched campaign's rules → send entries.

The audience is walked with one cursor in ``_id`` order and published as numbered
``SendRequested`` chunks, several per pipelined round trip; progress (chunks, total,
last customer id, and the ``now`` the rules were evaluated at) is saved after each
flush in ``resolutions``. A redelivered launch after completion publishes nothing; one
interrupted midway resumes after the last saved customer, so at most one flush is
published twice (delivery dedupes per campaign and customer). The walk waits while
delivery is more than ``INGEST_SEND_BACKLOG_MAX`` entries behind. Each chunk's customer
ids are stored before it is published, so a replayed launch (a stalled campaign, see
services.ingest.audience.launches) sends the audience as it was resolved.
"""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime
from typing import Any

import redis

from libs.common.clock import now_utc
from libs.common.errors import PermanentError
from libs.common.events import AudienceResolved, CampaignLaunched, Recipient, SendRequested
from libs.common.logging import get_logger
from libs.common.rules import RuleError, compile_rules, parse_rules
from libs.common.streams import SEGMENT, SEND, default_consumer_name, unread_entries
from libs.common.templates import placeholder_values
from services.ingest.audience.source import audience_documents, id_pages
from services.ingest.consent import channel_of, exclusion
from services.ingest.consent_store import ConsentStore
from services.ingest.exclusions import with_exclusions
from services.ingest.handlers import Deps
from services.ingest.store import audience_filter

log = get_logger(__name__)

SEGMENT_GROUP = "segment"


def keep_claimed(deps: Deps, event: CampaignLaunched) -> None:
    """Reset the launch entry's idle time while a long audience walk is under way, so no
    other resolver claims it after the visibility timeout and walks it a second time.
    (XCLAIM ... JUSTID does not count as a delivery.)"""
    if event.entry_id is None:
        return
    # ResponseError: not read through the group (a direct call in tests)
    with contextlib.suppress(redis.ResponseError):
        deps.redis.xclaim(
            event.source_stream or SEGMENT,
            SEGMENT_GROUP,
            default_consumer_name(),
            0,
            [event.entry_id],
            justid=True,
        )


def wait_for_room(deps: Deps, event: CampaignLaunched) -> None:
    """Hold the walk while delivery is ``send_backlog_max`` entries behind: the
    audience then waits in the database, not in Redis' memory."""
    limit = deps.settings.send_backlog_max
    if limit <= 0:
        return
    layout = deps.settings.stream_layout()
    while (
        backlog := unread_entries(deps.redis, SEND, layout=layout)
    ) is not None and backlog > limit:
        keep_claimed(deps, event)
        time.sleep(deps.settings.send_backlog_poll_s)


def recipient(doc: dict[str, Any], fields: list[str]) -> Recipient:
    return Recipient(
        customer_id=doc["_id"],
        name=doc.get("name"),
        email=doc.get("email"),
        phone=doc.get("phone"),
        timezone=doc.get("timezone"),
        fields=placeholder_values(doc, fields),
    )


def chunk_entry(
    event: CampaignLaunched, chunk: int, recipients: list[Recipient], *, replay: bool = False
) -> SendRequested:
    """The send entry of one chunk of the launched campaign's audience."""
    return SendRequested(
        campaign_id=event.campaign_id,
        message=event.message,
        channel=event.channel,
        chunk=chunk,
        recipients=recipients,
        experiment=event.experiment,
        local_send=event.local_send,
        replay=replay,
    )


def resolve_audience(event: CampaignLaunched, deps: Deps) -> None:
    store, settings = deps.store, deps.settings
    try:
        group = parse_rules(event.rules)
    except RuleError as exc:
        raise PermanentError(f"campaign {event.campaign_id}: {exc.message}") from exc
    existing = store.get_resolution(event.campaign_id)
    if existing is not None and existing.get("status") == "done":
        log.info("resolver.already_resolved", campaign_id=event.campaign_id)
        return
    state = existing or store.start_resolution(event.campaign_id, now_utc())
    now: datetime = state["now"]
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    chunk, total, last_id = int(state["chunks"]), int(state["total"]), state.get("last_id")
    pending: list[SendRequested] = []
    batch: list[Recipient] = []

    def flush(done: bool = False) -> None:
        nonlocal pending
        if pending:
            wait_for_room(deps, event)
            store.save_chunk_members(
                event.campaign_id,
                [(e.chunk, [r.customer_id for r in e.recipients]) for e in pending],
            )
            deps.producer.publish(pending)
            pending = []
        store.save_resolution(
            event.campaign_id, chunks=chunk, total=total, last_id=last_id, done=done
        )
        keep_claimed(deps, event)

    def close_chunk() -> None:
        nonlocal batch, chunk, total
        pending.append(chunk_entry(event, chunk, batch))
        chunk += 1
        total += len(batch)
        batch = []

    page_size = settings.audience_page_size
    source = deps.audience
    channel = channel_of(event.channel)
    suppressed = ConsentStore(store.db).suppressed_addresses(channel)
    ids = (
        source(event.rules, now, last_id, page_size, event.channel) if source is not None else None
    )
    if source is None or ids is None:
        flt = with_exclusions(audience_filter(compile_rules(group, now)), channel, suppressed)
        docs = store.walk(flt, last_id, settings.send_chunk_size)
    else:
        pages = id_pages(source, event.rules, now, ids, page_size, event.channel)
        docs = audience_documents(store, pages, settings.send_chunk_size)
    log.info("resolver.walking", campaign_id=event.campaign_id, from_read_model=ids is not None)
    left_out = set(suppressed)
    for doc in docs:
        if exclusion(doc, channel, left_out):  # changed since the ids were chosen
            continue
        batch.append(recipient(doc, event.fields))
        last_id = doc["_id"]
        if len(batch) >= settings.send_chunk_size:
            close_chunk()
            if len(pending) >= settings.send_chunks_per_flush:
                flush()
    if batch:
        close_chunk()
    if pending:
        flush()
    deps.producer.publish(
        [AudienceResolved(campaign_id=event.campaign_id, total=total, resolved_at=now_utc())]
    )
    flush(done=True)
    log.info("resolver.resolved", campaign_id=event.campaign_id, total=total, chunks=chunk)
