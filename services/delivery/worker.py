"""Delivery workers: ``python -m services.delivery.worker send|receipt|control [...]``.

One process per consumer group is the scaling unit (several roles in one process run
as threads, handy locally):

    role      stream            group      handles
    send      send              send       SendRequested -> vendor -> MessagesSent/Failed
    receipt   receipt           receipt    ReceiptsReceived -> communications
    control   campaign_events   delivery   paused/auto-paused/resumed/cancelled
    consent   consent           delivery   suppressions (its Redis copy), erasure
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any

import httpx
import redis

from libs.common.events import (
    AudienceResolved,
    CampaignAutoPaused,
    CampaignCancelled,
    CampaignCompleted,
    CampaignCreated,
    CampaignPaused,
    CampaignResumed,
    CampaignTagged,
    ConsentChanged,
    ErasureConfirmed,
    ErasureRequested,
    MessagesCancelled,
    MessagesDeferred,
    MessagesFailed,
    MessagesHeldOut,
    MessagesSent,
    ReceiptsReceived,
    SegmentDeleted,
    SegmentSaved,
    SendRequested,
    SuppressionRequested,
    SuppressionsChanged,
    WinnerChosen,
)
from libs.common.logging import configure_logging, get_logger
from libs.common.mongo import make_client
from libs.common.redis_client import make_redis
from libs.common.registry import Registry, on
from libs.common.streams import StreamConsumer, StreamProducer
from libs.common.streams.names import CAMPAIGN_EVENTS, CONSENT, RECEIPT, SEND
from libs.common.worker import make_consumer, run_consumers
from services.delivery.autopause import AutoPause
from services.delivery.consent import link_maker, on_erasure_requested, on_suppressions_changed
from services.delivery.context import Deps
from services.delivery.controls import (
    HeldReleaser,
    on_cancelled,
    on_completed,
    on_paused,
    on_resumed,
    run_sweeper,
)
from services.delivery.experiment import on_winner_chosen
from services.delivery.flags import LiveControls
from services.delivery.ledger import SentLedger
from services.delivery.pacing import CapCounter, Pacing, PolicyStore, run_releases
from services.delivery.ratelimit import RateLimiter
from services.delivery.receipts import handle_receipt_stream
from services.delivery.sender import handle_send_requested
from services.delivery.settings import DeliverySettings
from services.delivery.store import DeliveryStore
from services.delivery.vendor import RetryPolicy, VendorClient

log = get_logger(__name__)

SEND_HANDLERS: Registry[Deps] = Registry(
    SEND, "send", routes=[on(SendRequested, handle_send_requested)]
)
# One handler for every type: it sees a message's MessagesSent and its receipt in one
# run, and writes the row once, final (services.delivery.receipts).
RECEIPT_HANDLERS: Registry[Deps] = Registry(
    RECEIPT,
    "receipt",
    routes=[
        on(ReceiptsReceived, handle_receipt_stream),
        on(MessagesSent, handle_receipt_stream),
        on(MessagesFailed, handle_receipt_stream),
        on(MessagesCancelled, handle_receipt_stream),
    ],
    # the send worker wrote the holdout rows itself and keeps the deferred messages
    ignored=[MessagesHeldOut, MessagesDeferred],
)
CONTROL_HANDLERS: Registry[Deps] = Registry(
    CAMPAIGN_EVENTS,
    "delivery",
    routes=[
        on(CampaignPaused, on_paused),
        on(CampaignAutoPaused, on_paused),
        on(CampaignResumed, on_resumed),
        on(CampaignCancelled, on_cancelled),
        on(CampaignCompleted, on_completed),
        on(WinnerChosen, on_winner_chosen),
    ],
    ignored=[CampaignCreated, AudienceResolved, CampaignTagged, SegmentSaved, SegmentDeleted],
)
CONSENT_HANDLERS: Registry[Deps] = Registry(
    CONSENT,
    "delivery",
    routes=[
        on(SuppressionsChanged, on_suppressions_changed),
        on(ErasureRequested, on_erasure_requested),
    ],
    # consent itself is ingest's; ingest answers suppression requests; confirmations
    # are read by the erasure status route
    ignored=[ConsentChanged, SuppressionRequested, ErasureConfirmed],
)

# role -> its group's handler table
ROLES: dict[str, Registry[Deps]] = {
    "send": SEND_HANDLERS,
    "receipt": RECEIPT_HANDLERS,
    "control": CONTROL_HANDLERS,
    "consent": CONSENT_HANDLERS,
}
REGISTRIES = tuple(ROLES.values())


def build_deps(
    settings: DeliverySettings, client: redis.Redis, mongo: Any, http: httpx.Client
) -> Deps:
    store = DeliveryStore(mongo[settings.database_name("delivery")])
    policy = RetryPolicy(
        max_retries=settings.vendor_max_retries,
        base_s=settings.vendor_retry_base_ms / 1000,
        cap_s=settings.vendor_retry_cap_ms / 1000,
    )
    return Deps(
        settings=settings,
        redis=client,
        store=store,
        producer=StreamProducer(client, settings.stream_maxlen, layout=settings.stream_layout()),
        vendor=VendorClient(
            http, settings.receipt_callback_url, policy, breaker_s=settings.vendor_breaker_s
        ),
        limiter=RateLimiter(
            client,
            global_per_s=settings.rate_limit_per_s,
            campaign_per_s=settings.campaign_rate_limit_per_s,
        ),
        autopause=AutoPause(
            client, window=settings.autopause_window, threshold=settings.autopause_failure_rate
        ),
        live=LiveControls(client),
        ledger=SentLedger(client),
        unsubscribe_links=link_maker(settings),
        pacing=Pacing(PolicyStore(store.db), CapCounter(client), settings.workspace_timezone),
    )


def make_consumers(deps: Deps, roles: Sequence[str]) -> list[StreamConsumer]:
    consumers = []
    for role in roles:
        registry = ROLES[role]
        batch = {
            "send": deps.settings.send_batch_entries,
            "receipt": deps.settings.receipt_entries(deps.settings.receipt_batch_entries),
        }.get(role)
        consumers.append(
            make_consumer(
                deps.redis,
                deps.settings,
                registry.stream,
                registry.group,
                registry.bind(deps),
                batch_size=batch,
            )
        )
    return consumers


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="services.delivery.worker")
    parser.add_argument("roles", nargs="*", choices=[*ROLES, "all"], default=["all"])
    parser.add_argument("--burst", action="store_true", help="stop when nothing is left")
    args = parser.parse_args(argv)
    roles = list(ROLES) if "all" in args.roles else list(dict.fromkeys(args.roles))

    settings = DeliverySettings()
    configure_logging("delivery", settings.log_level)
    client = make_redis(settings.redis_url, block_ms=settings.stream_block_ms)
    mongo = make_client(settings.store_uri)
    http = httpx.Client(base_url=settings.vendor_url, timeout=settings.vendor_timeout_s)
    deps = build_deps(settings, client, mongo, http)
    deps.store.ensure_indexes()
    stop = threading.Event()
    if "control" in roles and not args.burst:
        deps.release_held = HeldReleaser(deps)
        threading.Thread(target=run_sweeper, args=(deps, stop), name="sweeper", daemon=True).start()
    if "send" in roles and not args.burst:
        threading.Thread(
            target=run_releases, args=(deps, stop), name="deferred", daemon=True
        ).start()
    try:
        run_consumers(
            make_consumers(deps, roles), metrics_port=settings.metrics_port, burst=args.burst
        )
    finally:
        stop.set()
        http.close()
        mongo.close()
        client.close()
    log.info("delivery.worker_exited", roles=roles)


if __name__ == "__main__":
    main()
