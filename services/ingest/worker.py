"""Ingest workers: ``python -m services.ingest.worker ingest|segment``.

- ``ingest``: group ``ingest`` on stream ``ingest`` (customers and orders → database);
- ``segment``: group ``segment`` on stream ``segment`` (launched campaigns → sends).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from libs.common.events import CampaignLaunched, CustomersUpserted, Event, OrdersRecorded
from libs.common.logging import configure_logging, get_logger
from libs.common.mongo import make_client
from libs.common.redis_client import make_redis
from libs.common.streams import INGEST, SEGMENT, StreamConsumer, StreamProducer
from libs.common.worker import make_consumer, run_consumers
from services.ingest.audience import api_audience_source
from services.ingest.handlers import Deps, record_orders, upsert_customers
from services.ingest.launches import handle_launches
from services.ingest.settings import IngestSettings
from services.ingest.store import CustomerStore

log = get_logger(__name__)

HandlerFn = Callable[[list[Any], Deps], None]

# group -> (stream, {entry type: handler})
HANDLERS: dict[str, tuple[str, Mapping[type[Event], HandlerFn]]] = {
    "ingest": (INGEST, {CustomersUpserted: upsert_customers, OrdersRecorded: record_orders}),
    "segment": (SEGMENT, {CampaignLaunched: handle_launches}),
}


def build_deps(settings: IngestSettings) -> Deps:
    client = make_redis(settings.redis_url, block_ms=settings.stream_block_ms)
    store = CustomerStore(make_client(settings.mongodb_uri)[settings.database_name("ingest")])
    store.ensure_indexes()
    audience = (
        api_audience_source(settings.api_url, settings.internal_token, settings.api_timeout_s)
        if settings.api_url
        else None
    )
    return Deps(
        store,
        client,
        StreamProducer(client, settings.stream_maxlen, layout=settings.stream_layout()),
        settings,
        audience,
    )


def build_consumer(group: str, deps: Deps) -> StreamConsumer:
    stream, table = HANDLERS[group]
    bound = {event: partial(handler, deps=deps) for event, handler in table.items()}
    return make_consumer(deps.redis, deps.settings, stream, group, bound)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    groups = args or list(HANDLERS)
    unknown = [g for g in groups if g not in HANDLERS]
    if unknown:
        raise SystemExit(f"unknown group(s) {unknown}; choose from {list(HANDLERS)}")
    settings = IngestSettings()
    configure_logging("ingest-worker", settings.log_level)
    deps = build_deps(settings)
    log.info("worker.starting", groups=groups)
    run_consumers([build_consumer(g, deps) for g in groups], metrics_port=settings.metrics_port)


if __name__ == "__main__":
    main()
