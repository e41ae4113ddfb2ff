"""Stream handlers of the ingest worker: plain functions of (events, dependencies).

Group ``ingest``: bulk upserts, then a recount of the touched customers' aggregates,
then a change notice carrying the written documents for the API's read model.
Everything is idempotent, so a redelivered entry converges to the same state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from libs.common.events import CustomerRecord, CustomersUpserted, OrdersRecorded
from libs.common.logging import get_logger
from libs.common.streams import StreamProducer
from services.ingest.audience.changes import notify_changed
from services.ingest.audience.source import AudienceSource
from services.ingest.consent_store import ConsentStore
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
    for event in events:  # where the consent states came from
        for record in event.customers:
            record.consent_source = "import" if event.import_id else "api"
    changed = deps.store.upsert_customers(records, on_written=_announcer(deps))
    _relink_erased(records, deps)
    _after_write(events, deps)
    log.info("ingest.customers_upserted", entries=len(events), changed=len(changed))


def _relink_erased(records: list[CustomerRecord], deps: Deps) -> None:
    """An erased person's address is suppressed as a hash only; imported again, it gets
    its address back on the list, so the audience leaves it out as before."""
    consent = ConsentStore(deps.store.db)
    if records and consent.has_hash_only():
        consent.relink("email", [r.email for r in records if r.email])
        consent.relink("sms", [r.phone for r in records if r.phone])


def record_orders(events: list[OrdersRecorded], deps: Deps) -> None:
    records = [record for event in events for record in event.orders]
    deps.store.insert_orders(records, on_written=_announcer(deps))
    _after_write(events, deps)
    log.info("ingest.orders_recorded", entries=len(events), orders=len(records))


def _announcer(deps: Deps) -> Callable[[list[dict[str, Any]]], None]:
    """The change notice of each write slice, sent as soon as the slice is written: a
    run of 200 entries (100,000 records) used to announce everything at its end, so the
    database held minutes of writes the read model had not heard of, and a worker
    killed meanwhile left them unannounced until its entries were redelivered."""

    def announce(docs: list[dict[str, Any]]) -> None:
        notify_changed(deps.redis, docs, deps.settings.changes_maxlen, WRITE_SLICE)

    return announce


def _after_write(
    events: list[CustomersUpserted] | list[OrdersRecorded],
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
    deps.store.record_import_progress(progress)
