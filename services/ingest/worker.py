"""Ingest workers: ``python -m services.ingest.worker ingest|segment|consent|pacing``.

- ``ingest``: group ``ingest`` on stream ``ingest`` (customers and orders → database);
- ``segment``: group ``segment`` on stream ``segment`` (launched campaigns → sends),
  with its own audience read model (``INGEST_RESOLVER_MODEL``);
- ``consent``: group ``consent`` on stream ``consent`` (consent, suppressions, erasure);
- ``pacing``: group ``pacing`` on stream ``pacing`` (delivery's quiet hours and frequency
  caps, kept for the audience preview).
"""

from __future__ import annotations

import sys

from libs.common.events import CampaignLaunched, CustomersUpserted, OrdersRecorded
from libs.common.logging import configure_logging, get_logger
from libs.common.mongo import make_client
from libs.common.redis_client import make_redis
from libs.common.registry import Registry, on
from libs.common.streams import INGEST, SEGMENT, StreamConsumer, StreamProducer
from libs.common.worker import make_consumer, run_consumers
from services.ingest.audience.hosted import HostedModel
from services.ingest.audience.launches import handle_launches
from services.ingest.consent_handlers import CONSENT_HANDLERS
from services.ingest.consent_store import ConsentStore
from services.ingest.handlers import Deps, record_orders, upsert_customers
from services.ingest.pacing_handlers import PACING_HANDLERS
from services.ingest.settings import IngestSettings
from services.ingest.store import CustomerStore

log = get_logger(__name__)

HANDLERS: dict[str, Registry[Deps]] = {
    "ingest": Registry(
        INGEST,
        "ingest",
        routes=[on(CustomersUpserted, upsert_customers), on(OrdersRecorded, record_orders)],
        ignored=[],
    ),
    "segment": Registry(SEGMENT, "segment", routes=[on(CampaignLaunched, handle_launches)]),
    "consent": CONSENT_HANDLERS,
    "pacing": PACING_HANDLERS,
}
REGISTRIES = tuple(HANDLERS.values())


def build_deps(settings: IngestSettings, *, hosted: HostedModel | None = None) -> Deps:
    """``hosted``: the read model the resolver takes audiences from (None: it walks
    the database)."""
    client = make_redis(settings.redis_url, block_ms=settings.stream_block_ms)
    store = CustomerStore(make_client(settings.mongodb_uri)[settings.database_name("ingest")])
    store.ensure_indexes()
    ConsentStore(store.db).ensure_indexes()
    return Deps(
        store,
        client,
        StreamProducer(client, settings.stream_maxlen, layout=settings.stream_layout()),
        settings,
        hosted.source() if hosted is not None else None,
    )


def build_consumer(group: str, deps: Deps) -> StreamConsumer:
    registry = HANDLERS[group]
    return make_consumer(deps.redis, deps.settings, registry.stream, group, registry.bind(deps))


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    groups = args or list(HANDLERS)
    unknown = [g for g in groups if g not in HANDLERS]
    if unknown:
        raise SystemExit(f"unknown group(s) {unknown}; choose from {list(HANDLERS)}")
    settings = IngestSettings()
    configure_logging("ingest-worker", settings.log_level)
    # the resolver's own read model (services/ingest/audience/hosted.py says why)
    hosted = (
        HostedModel(settings).start() if "segment" in groups and settings.resolver_model else None
    )
    deps = build_deps(settings, hosted=hosted)
    log.info("worker.starting", groups=groups, read_model=hosted is not None)
    try:
        run_consumers([build_consumer(g, deps) for g in groups], metrics_port=settings.metrics_port)
    finally:
        if hosted is not None:
            hosted.stop()


if __name__ == "__main__":
    main()
