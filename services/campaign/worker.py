"""Campaign worker: ``python -m services.campaign.worker``.

Group ``campaign`` on ``receipt`` keeps one state per message in the Redis tally (no
database write per message) and stores the counters it adds up to;
group ``campaign`` on ``campaign_events`` follows the campaign's life (audience resolved,
auto-paused, tagged); a scheduler thread launches scheduled campaigns and completes
finished or expired ones.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from typing import Any

import redis

from libs.common.events import (
    CONSENT_EVENTS,
    AudienceResolved,
    CampaignAutoPaused,
    CampaignCancelled,
    CampaignCompleted,
    CampaignCreated,
    CampaignPaused,
    CampaignResumed,
    CampaignTagged,
    CustomersUpserted,
    ErasureRequested,
    MessagesCancelled,
    MessagesDeferred,
    MessagesFailed,
    MessagesHeldOut,
    MessagesSent,
    OrdersRecorded,
    ReceiptsReceived,
    SegmentDeleted,
    SegmentSaved,
    WinnerChosen,
    message_id,
)
from libs.common.logging import configure_logging, get_logger
from libs.common.mongo import make_client
from libs.common.redis_client import make_redis
from libs.common.registry import Registry, on
from libs.common.streams import (
    CAMPAIGN_EVENTS,
    CONSENT,
    INGEST,
    RECEIPT,
    StreamConsumer,
    StreamProducer,
)
from libs.common.worker import make_consumer, run_consumers
from services.campaign.attribution import Attribution, CampaignSetups
from services.campaign.attribution_store import AttributionStore
from services.campaign.clock import to_ms
from services.campaign.erasure import ErasureDeps, erasure_requested
from services.campaign.journeys.runner import JOURNEY_PREFIX
from services.campaign.journeys.store import JourneyStore
from services.campaign.models import normalise_tags
from services.campaign.progress import Progress
from services.campaign.settings import CampaignSettings
from services.campaign.store import CampaignStore
from services.campaign.tally import MessageState, Tally
from services.campaign.winner import WinnerPicker

log = get_logger(__name__)

GROUP = "campaign"


@dataclass
class Deps:
    store: CampaignStore
    tally: Tally
    progress: Progress
    attribution: Attribution


# -- stream ``receipt`` ------------------------------------------------------------------
def record_sent(events: list[MessagesSent], deps: Deps) -> None:
    states = [
        MessageState(
            m.message_id,
            m.campaign_id,
            m.customer_id,
            "sent",
            m.at,
            vendor_message_id=m.vendor_message_id,
        )
        for event in events
        for m in event.messages
    ]
    _apply(states, deps)
    deps.attribution.sent(events)


def record_failed(events: list[MessagesFailed], deps: Deps) -> None:
    """Refused by the vendor for good: final, and never sent."""
    states = [
        MessageState(m.message_id, m.campaign_id, m.customer_id, "rejected", m.at, m.reason)
        for event in events
        for m in event.messages
    ]
    _apply(states, deps)


def record_cancelled(events: list[MessagesCancelled], deps: Deps) -> None:
    states = [
        MessageState(message_id(e.campaign_id, cid), e.campaign_id, cid, "cancelled", e.at)
        for e in events
        for cid in e.customer_ids
    ]
    _apply(states, deps)


def record_receipts(events: list[ReceiptsReceived], deps: Deps) -> None:
    states = [
        MessageState(
            r.message_id,
            r.campaign_id,
            r.customer_id,
            "delivered" if r.status == "DELIVERED" else "failed",
            r.at,
            r.reason,
            r.vendor_message_id,
        )
        for event in events
        for r in event.receipts
    ]
    _apply(states, deps)
    deps.attribution.delivered(events)


def record_held_out(events: list[MessagesHeldOut], deps: Deps) -> None:
    """A variant campaign's holdout: final at once, and touched for attribution."""
    states = [
        MessageState(message_id(e.campaign_id, cid), e.campaign_id, cid, "held_out", e.at)
        for e in events
        for cid in e.customer_ids
    ]
    _apply(states, deps)
    deps.attribution.held_out(events)


def record_deferred(events: list[MessagesDeferred], deps: Deps) -> None:
    """Messages wait in delivery (quiet hours, a local send time): the campaign's
    completion clock and stall watch wait for them."""
    until: dict[str, int] = {}
    for e in events:
        if not e.campaign_id.startswith(JOURNEY_PREFIX):
            until[e.campaign_id] = max(until.get(e.campaign_id, 0), to_ms(e.until))
    for campaign_id, until_ms in until.items():
        deps.store.defer_until(campaign_id, until_ms)


# -- stream ``ingest`` -------------------------------------------------------------------
def record_orders(events: list[OrdersRecorded], deps: Deps) -> None:
    deps.attribution.orders(events)


def _apply(states: list[MessageState], deps: Deps) -> None:
    # journey messages (campaign id ``jrn_...``) are counted by the journey worker
    states = [s for s in states if not s.campaign_id.startswith(JOURNEY_PREFIX)]
    if not states:
        return
    deps.tally.apply(states)
    deps.progress.touched(s.campaign_id for s in states)


# -- stream ``campaign_events`` ----------------------------------------------------------
def record_audience(events: list[AudienceResolved], deps: Deps) -> None:
    deps.store.record_audiences([(e.campaign_id, e.total, e.resolved_at) for e in events])
    for campaign_id in dict.fromkeys(e.campaign_id for e in events):
        deps.progress.recompute(campaign_id)  # an empty audience completes at once


def record_auto_pause(events: list[CampaignAutoPaused], deps: Deps) -> None:
    paused = deps.store.auto_pause([(e.campaign_id, e.reason) for e in events])
    if paused:
        log.warning("campaign.auto_paused", campaign_ids=paused)


def record_tags(events: list[CampaignTagged], deps: Deps) -> None:
    latest = {e.campaign_id: normalise_tags(e.tags) for e in events}
    deps.store.set_ai_tags(latest)


RECEIPT_HANDLERS: Registry[Deps] = Registry(
    RECEIPT,
    GROUP,
    routes=[
        on(MessagesSent, record_sent),
        on(MessagesFailed, record_failed),
        on(MessagesCancelled, record_cancelled),
        on(ReceiptsReceived, record_receipts),
        on(MessagesHeldOut, record_held_out),
        on(MessagesDeferred, record_deferred),
    ],
)

CAMPAIGN_EVENT_HANDLERS: Registry[Deps] = Registry(
    CAMPAIGN_EVENTS,
    GROUP,
    routes=[
        on(AudienceResolved, record_audience),
        on(CampaignAutoPaused, record_auto_pause),
        on(CampaignTagged, record_tags),
    ],
    # most are this service's own entries: it acted on them before publishing
    ignored=[
        CampaignCreated,
        CampaignPaused,
        CampaignResumed,
        CampaignCancelled,
        CampaignCompleted,
        SegmentSaved,
        SegmentDeleted,
        WinnerChosen,
    ],
)

# Orders only: attribution (services.campaign.attribution).
INGEST_HANDLERS: Registry[Deps] = Registry(
    INGEST, GROUP, routes=[on(OrdersRecorded, record_orders)], ignored=[CustomersUpserted]
)

REGISTRIES = (RECEIPT_HANDLERS, CAMPAIGN_EVENT_HANDLERS, INGEST_HANDLERS)  # bound to Deps

# Consent entries are for ingest and delivery; an erasure is for every service.
CONSENT_HANDLERS: Registry[ErasureDeps] = Registry(
    CONSENT,
    GROUP,
    routes=[on(ErasureRequested, erasure_requested)],
    ignored=[t for t in CONSENT_EVENTS if t is not ErasureRequested],
)


@dataclass
class Worker:
    consumers: list[StreamConsumer]
    progress: Progress
    store: CampaignStore
    tally: Tally
    winner: WinnerPicker


def build_worker(settings: CampaignSettings, client: redis.Redis, mongo: Any) -> Worker:
    """The composition root of the worker (also used by tests, with burst runs)."""
    store = CampaignStore(mongo, settings.database_name("campaign"))
    store.ensure_indexes()
    producer = StreamProducer(client, settings.stream_maxlen, layout=settings.stream_layout())
    tally = Tally(client)
    progress = Progress(store, tally, producer, settings)
    attribution_store = AttributionStore(mongo, settings.database_name("campaign"))
    attribution_store.ensure_indexes()
    attribution = Attribution(attribution_store, CampaignSetups(store))
    deps = Deps(store, tally, progress, attribution)
    consumers = [
        make_consumer(client, settings, r.stream, r.group, r.bind(deps)) for r in REGISTRIES
    ]
    erasure = ErasureDeps(
        attribution_store, JourneyStore(mongo, settings.database_name("campaign")), tally, producer
    )
    consumers.append(
        make_consumer(client, settings, CONSENT, GROUP, CONSENT_HANDLERS.bind(erasure))
    )
    winner = WinnerPicker(store, attribution_store, producer)
    return Worker(consumers, progress, store, tally, winner)


def main(argv: list[str] | None = None) -> None:
    if (sys.argv[1:] if argv is None else argv)[:1] == ["journeys"]:
        # ``python -m services.campaign.worker journeys``: the journey worker
        from services.campaign.journeys.worker import main as journeys_main

        journeys_main()
        return
    settings = CampaignSettings()
    configure_logging("campaign-worker", settings.log_level)
    client = make_redis(settings.redis_url, block_ms=settings.stream_block_ms)
    mongo = make_client(settings.store_uri)
    worker = build_worker(settings, client, mongo)
    stop = threading.Event()
    scheduler = threading.Thread(
        target=worker.progress.run_scheduler, args=(stop,), name="scheduler", daemon=True
    )
    scheduler.start()
    picker = threading.Thread(
        target=worker.winner.run, args=(stop, settings.scheduler_interval_s), name="winner"
    )
    picker.daemon = True
    picker.start()
    try:
        run_consumers(worker.consumers, metrics_port=settings.worker_metrics_port)
    finally:
        stop.set()
        scheduler.join(timeout=10)
        picker.join(timeout=10)
        mongo.close()
        client.close()


if __name__ == "__main__":
    main()
