"""The AI worker: three consumers (group ``ai`` on ingest, receipt, campaign_events) in
one process, building the read models. ``python -m services.ai.worker [--burst]``."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from libs.common import events as ev
from libs.common.events.base import Event
from libs.common.logging import configure_logging
from libs.common.mongo import make_client
from libs.common.redis_client import make_redis
from libs.common.streams import names
from libs.common.streams.consumer import StreamConsumer
from libs.common.streams.producer import StreamProducer
from libs.common.worker import make_consumer, run_consumers
from services.ai import projections as p
from services.ai.settings import AiSettings
from services.ai.store import AiStore

GROUP = "ai"
Handlers = Mapping[type[Event], Callable[[list[Any]], None]]


def ingest_handlers(store: AiStore) -> Handlers:
    return {
        ev.CustomersUpserted: partial(p.customers_upserted, store=store),
        ev.OrdersRecorded: partial(p.orders_recorded, store=store),
    }


def _ignore(events: list[ev.Event]) -> None:
    """Entries of a stream this group reads but needs nothing from."""


def receipt_handlers(store: AiStore) -> Handlers:
    return {
        ev.MessagesSent: partial(p.messages_sent, store=store),
        ev.ReceiptsReceived: partial(p.receipts_received, store=store),
        ev.MessagesFailed: partial(p.messages_failed, store=store),
        ev.MessagesCancelled: partial(p.messages_cancelled, store=store),
        ev.MessagesHeldOut: _ignore,
    }


def campaign_event_handlers(store: AiStore, producer: StreamProducer) -> Handlers:
    return {
        ev.CampaignCreated: partial(p.campaigns_created, store=store, producer=producer),
        ev.AudienceResolved: partial(p.audience_resolved, store=store),
        ev.CampaignCompleted: partial(p.campaigns_completed, store=store),
        ev.CampaignPaused: partial(p.campaigns_paused, store=store),
        ev.CampaignAutoPaused: partial(p.campaigns_auto_paused, store=store),
        ev.CampaignResumed: partial(p.campaigns_resumed, store=store),
        ev.CampaignCancelled: partial(p.campaigns_cancelled, store=store),
        ev.CampaignTagged: partial(p.campaigns_tagged, store=store),
        ev.SegmentSaved: partial(p.segments_saved, store=store),
        ev.SegmentDeleted: partial(p.segments_deleted, store=store),
        ev.WinnerChosen: _ignore,
    }


def build_consumers(settings: AiSettings) -> list[StreamConsumer]:
    redis = make_redis(settings.redis_url, block_ms=settings.stream_block_ms)
    store = AiStore(make_client(settings.mongodb_uri)[settings.database_name("ai")])
    store.ensure_indexes()
    producer = StreamProducer(redis, settings.stream_maxlen, layout=settings.stream_layout())
    tables = {
        names.INGEST: ingest_handlers(store),
        names.RECEIPT: receipt_handlers(store),
        names.CAMPAIGN_EVENTS: campaign_event_handlers(store, producer),
    }
    return [make_consumer(redis, settings, s, GROUP, table) for s, table in tables.items()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", action="store_true", help="exit when nothing is left")
    args = parser.parse_args(argv)
    settings = AiSettings()
    configure_logging("ai-worker", settings.log_level)
    run_consumers(
        build_consumers(settings), metrics_port=settings.worker_metrics_port, burst=args.burst
    )


if __name__ == "__main__":
    main()
