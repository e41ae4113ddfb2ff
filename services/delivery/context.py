"""What every delivery handler works with, built once by worker.main()."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis

from libs.common.events import Event, FailedMessage, MessagesFailed, MessagesSent, SentMessage
from libs.common.streams import StreamProducer
from services.delivery.autopause import AutoPause
from services.delivery.flags import LiveControls
from services.delivery.ledger import SentLedger
from services.delivery.ratelimit import RateLimiter
from services.delivery.settings import DeliverySettings
from services.delivery.store import DeliveryStore
from services.delivery.vendor import VendorClient

if TYPE_CHECKING:
    from services.delivery.pacing import Pacing

EVENT_CHUNK = 500


@dataclass
class Deps:
    settings: DeliverySettings
    redis: redis.Redis
    store: DeliveryStore
    producer: StreamProducer
    vendor: VendorClient
    limiter: RateLimiter
    autopause: AutoPause
    live: LiveControls
    ledger: SentLedger
    # Sends or cancels a campaign's held rows (services.delivery.controls.send_held): at
    # once by default (tests, burst runs); on a thread of its own in a running worker.
    release_held: Callable[[str], None] | None = None
    # campaign id -> its unsubscribe links (services.delivery.consent.link_maker)
    unsubscribe_links: Callable[[str], Callable[[str, str], str]] | None = None
    # Quiet hours and frequency caps (services.delivery.pacing); None: none enforced.
    pacing: Pacing | None = None

    def publish(self, events: Sequence[Event]) -> None:
        if events:
            self.producer.publish(events)

    def publish_outcomes(
        self, sent: Sequence[SentMessage], failed: Sequence[FailedMessage]
    ) -> None:
        events: list[Event] = []
        for start in range(0, len(sent), EVENT_CHUNK):
            events.append(MessagesSent(messages=list(sent[start : start + EVENT_CHUNK])))
        for start in range(0, len(failed), EVENT_CHUNK):
            events.append(MessagesFailed(messages=list(failed[start : start + EVENT_CHUNK])))
        if events:
            # all or nothing, on one partition: a redelivered chunk then rebuilds the same
            # vendor batches (same idempotency keys), never a smaller set of them
            first = (list(sent) + list(failed))[0]
            self.producer.publish(events, key=first.message_id)
