"""The AI worker: four consumers (group ``ai`` on ingest, receipt, campaign_events, consent) in
one process, building the read models. ``python -m services.ai.worker [--burst]``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from libs.common import events as ev
from libs.common.events.base import Event
from libs.common.logging import configure_logging
from libs.common.mongo import make_client
from libs.common.redis_client import make_redis
from libs.common.registry import Registry, on
from libs.common.streams import names
from libs.common.streams.consumer import Handler, StreamConsumer
from libs.common.streams.producer import StreamProducer
from libs.common.worker import make_consumer, run_consumers
from services.ai import projections as p
from services.ai.erasure import erasure_requested
from services.ai.settings import AiSettings
from services.ai.store import AiStore

GROUP = "ai"
E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class Deps:
    store: AiStore
    producer: StreamProducer | None  # None: this worker publishes nothing (tests)


def _to_store(projection: Callable[[list[E], AiStore], None]) -> Callable[[list[E], Deps], None]:
    """A projection that needs only the store."""

    def run(events: list[E], deps: Deps) -> None:
        projection(events, deps.store)

    run.__name__ = projection.__name__
    return run


def campaigns_created(events: list[ev.CampaignCreated], deps: Deps) -> None:
    if deps.producer is None:
        raise RuntimeError("campaigns_created publishes tags: the worker needs a producer")
    p.campaigns_created(events, deps.store, deps.producer)


INGEST_HANDLERS: Registry[Deps] = Registry(
    names.INGEST,
    GROUP,
    routes=[
        on(ev.CustomersUpserted, _to_store(p.customers_upserted)),
        on(ev.OrdersRecorded, _to_store(p.orders_recorded)),
    ],
)
RECEIPT_HANDLERS: Registry[Deps] = Registry(
    names.RECEIPT,
    GROUP,
    routes=[
        on(ev.MessagesSent, _to_store(p.messages_sent)),
        on(ev.ReceiptsReceived, _to_store(p.receipts_received)),
        on(ev.MessagesFailed, _to_store(p.messages_failed)),
        on(ev.MessagesCancelled, _to_store(p.messages_cancelled)),
    ],
    ignored=[ev.MessagesHeldOut, ev.MessagesDeferred],
)
CAMPAIGN_EVENT_HANDLERS: Registry[Deps] = Registry(
    names.CAMPAIGN_EVENTS,
    GROUP,
    routes=[
        on(ev.CampaignCreated, campaigns_created),
        on(ev.AudienceResolved, _to_store(p.audience_resolved)),
        on(ev.CampaignCompleted, _to_store(p.campaigns_completed)),
        on(ev.CampaignPaused, _to_store(p.campaigns_paused)),
        on(ev.CampaignAutoPaused, _to_store(p.campaigns_auto_paused)),
        on(ev.CampaignResumed, _to_store(p.campaigns_resumed)),
        on(ev.CampaignCancelled, _to_store(p.campaigns_cancelled)),
        on(ev.CampaignTagged, _to_store(p.campaigns_tagged)),
        on(ev.SegmentSaved, _to_store(p.segments_saved)),
        on(ev.SegmentDeleted, _to_store(p.segments_deleted)),
    ],
    ignored=[ev.WinnerChosen],
)


def erasures_requested(events: list[ev.ErasureRequested], deps: Deps) -> None:
    if deps.producer is None:
        raise RuntimeError("an erasure is confirmed on the stream: the worker needs a producer")
    erasure_requested(events, deps.store, deps.producer)


# Consent entries are for ingest and delivery; an erasure is for every service.
CONSENT_HANDLERS: Registry[Deps] = Registry(
    names.CONSENT,
    GROUP,
    routes=[on(ev.ErasureRequested, erasures_requested)],
    ignored=[t for t in ev.CONSENT_EVENTS if t is not ev.ErasureRequested],
)
REGISTRIES = (INGEST_HANDLERS, RECEIPT_HANDLERS, CAMPAIGN_EVENT_HANDLERS, CONSENT_HANDLERS)


def ingest_handlers(store: AiStore) -> dict[type[Event], Handler]:
    return INGEST_HANDLERS.bind(Deps(store, None))


def receipt_handlers(store: AiStore) -> dict[type[Event], Handler]:
    return RECEIPT_HANDLERS.bind(Deps(store, None))


def campaign_event_handlers(store: AiStore, producer: StreamProducer) -> dict[type[Event], Handler]:
    return CAMPAIGN_EVENT_HANDLERS.bind(Deps(store, producer))


def consent_handlers(store: AiStore, producer: StreamProducer) -> dict[type[Event], Handler]:
    return CONSENT_HANDLERS.bind(Deps(store, producer))


def build_consumers(settings: AiSettings) -> list[StreamConsumer]:
    redis = make_redis(settings.redis_url, block_ms=settings.stream_block_ms)
    store = AiStore(make_client(settings.mongodb_uri)[settings.database_name("ai")])
    store.ensure_indexes()
    producer = StreamProducer(redis, settings.stream_maxlen, layout=settings.stream_layout())
    deps = Deps(store, producer)
    return [make_consumer(redis, settings, r.stream, r.group, r.bind(deps)) for r in REGISTRIES]


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
