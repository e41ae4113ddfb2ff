"""Journey worker: ``python -m services.campaign.journeys.worker``.

Group ``journeys`` on stream ``ingest`` (services.campaign.journeys.triggers): triggers,
goals and the customer projection; group ``journeys`` on ``receipt``
(services.campaign.journeys.outcomes): failed journey messages; a timer thread
(services.campaign.journeys.timers) moves customers whose wait is due. Run N of them:
the groups share the streams; one of them at a time holds the timer pass, the others
take it over when it stops renewing it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import redis

from libs.common.events import (
    CustomersUpserted,
    MessagesCancelled,
    MessagesDeferred,
    MessagesFailed,
    MessagesHeldOut,
    MessagesSent,
    OrdersRecorded,
    ReceiptsReceived,
)
from libs.common.logging import configure_logging
from libs.common.mongo import make_client
from libs.common.redis_client import make_redis
from libs.common.registry import Registry, on
from libs.common.streams import INGEST, RECEIPT, StreamConsumer, StreamProducer
from libs.common.worker import make_consumer, run_consumers
from services.campaign.journeys import outcomes
from services.campaign.journeys.catalog import Catalog
from services.campaign.journeys.store import JourneyStore
from services.campaign.journeys.timers import TimerDeps, TimerPass, run_timers
from services.campaign.journeys.triggers import TriggerDeps, customers_upserted, orders_recorded
from services.campaign.settings import CampaignSettings

GROUP = "journeys"

INGEST_HANDLERS: Registry[TriggerDeps] = Registry(
    INGEST,
    GROUP,
    routes=[on(CustomersUpserted, customers_upserted), on(OrdersRecorded, orders_recorded)],
)

RECEIPT_HANDLERS: Registry[JourneyStore] = Registry(
    RECEIPT,
    GROUP,
    routes=[
        on(MessagesFailed, outcomes.messages_failed),
        on(ReceiptsReceived, outcomes.receipts_received),
    ],
    # a sent message is counted from the send; the rest are campaigns' own outcomes
    ignored=[MessagesSent, MessagesCancelled, MessagesHeldOut, MessagesDeferred],
)

REGISTRIES = (INGEST_HANDLERS, RECEIPT_HANDLERS)


@dataclass
class JourneyWorker:
    consumers: list[StreamConsumer]
    timers: TimerDeps
    store: JourneyStore


def build_journey_worker(
    settings: CampaignSettings, client: redis.Redis, mongo: Any
) -> JourneyWorker:
    """The composition root of the journey worker (tests use it with burst runs)."""
    store = JourneyStore(mongo, settings.database_name("campaign"))
    store.ensure_indexes()
    producer = StreamProducer(client, settings.stream_maxlen, layout=settings.stream_layout())
    catalog = Catalog(store)
    trigger_deps = TriggerDeps(store, catalog, producer, settings.workspace_timezone)
    consumers = [
        make_consumer(client, settings, INGEST, GROUP, INGEST_HANDLERS.bind(trigger_deps)),
        make_consumer(client, settings, RECEIPT, GROUP, RECEIPT_HANDLERS.bind(store)),
    ]
    timers = TimerDeps(
        store,
        catalog,
        producer,
        settings.workspace_timezone,
        TimerPass(client, expiry_ms=int(settings.journey_lease_s * 1000)),
        batch=settings.journey_timer_batch,
    )
    return JourneyWorker(consumers, timers, store)


def main() -> None:
    settings = CampaignSettings()
    configure_logging("journey-worker", settings.log_level)
    client = make_redis(settings.redis_url, block_ms=settings.stream_block_ms)
    mongo = make_client(settings.store_uri)
    worker = build_journey_worker(settings, client, mongo)
    stop = threading.Event()
    timer = threading.Thread(
        target=run_timers,
        args=(worker.timers, stop, settings.journey_timer_poll_s),
        name="journey-timers",
        daemon=True,
    )
    timer.start()
    try:
        run_consumers(worker.consumers, metrics_port=settings.worker_metrics_port)
    finally:
        stop.set()
        timer.join(timeout=10)
        mongo.close()
        client.close()


if __name__ == "__main__":
    main()
