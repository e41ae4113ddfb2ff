"""Stream handlers of the ingest worker: plain functions of (events, dependencies).

Group ``ingest``: bulk upserts, then a recount of the touched customers' aggregates,
then a change notice carrying the written documents for the API's read model.
Everything is idempotent, so a redelivered entry converges to the same state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

from libs.common.events import CustomersUpserted, OrdersRecorded
from libs.common.logging import get_logger
from libs.common.streams import StreamProducer
from services.ingest.audience import AudienceSource
from services.ingest.changes import notify_changed
from services.ingest.settings import IngestSettings
from services.ingest.store import WRITE_SLICE, CustomerStore

log = get_logger(__name__)


@dataclass
class Deps:
    store: CustomerStore
    redis: redis.Redis
    producer: StreamProducer
    settings: IngestSettings
    audience: AudienceSource | None = None  # the read model's audience (resolver)


def upsert_customers(events: list[CustomersUpserted], deps: Deps) -> None:
    records = [record for event in events for record in event.customers]
    changed = deps.store.upsert_customers(records)
    _after_write(events, changed, deps)
    log.info("ingest.customers_upserted", entries=len(events), changed=len(changed))


def record_orders(events: list[OrdersRecorded], deps: Deps) -> None:
    records = [record for event in events for record in event.orders]
    changed = deps.store.insert_orders(records)
    _after_write(events, changed, deps)
    log.info("ingest.orders_recorded", entries=len(events), orders=len(records))


def _after_write(
    events: list[CustomersUpserted] | list[OrdersRecorded],
    docs: list[dict[str, Any]],
    deps: Deps,
) -> None:
    progress = [
        (
            event.import_id,
            str(event.entry_id),
            len(event.customers) if isinstance(event, CustomersUpserted) else len(event.orders),
        )
        for event in events
        if event.import_id
    ]
    deps.store.record_import_progress(progress)  # type: ignore[arg-type]
    notify_changed(deps.redis, docs, deps.settings.changes_maxlen, WRITE_SLICE)
