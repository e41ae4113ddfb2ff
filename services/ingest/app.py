"""Composition root of the ingest API: builds clients, store, read model and routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from libs.common.logging import configure_logging
from libs.common.mongo import make_client
from libs.common.redis_client import make_async_redis
from libs.common.streams.appender import make_appender
from libs.common.web import create_service_app, mongo_check, redis_check
from services.ingest.api import router
from services.ingest.audience.readmodel import PreviewModel
from services.ingest.consent_api import public_router
from services.ingest.consent_api import router as consent_router
from services.ingest.idempotency import IdempotencyStore
from services.ingest.settings import IngestSettings
from services.ingest.store import CustomerStore

# the single-record and batch POSTs: 1,000s a second, each a stream append
DIRECT_ROUTES = [
    ("POST", path)
    for path in ("/api/customers", "/api/customers/batch", "/api/orders", "/api/orders/batch")
]


def create_app(settings: IngestSettings | None = None) -> FastAPI:
    settings = settings or IngestSettings()
    configure_logging("ingest", settings.log_level)
    redis = make_async_redis(settings.redis_url)
    appender = make_appender(settings.redis_url, name="ingest-api")  # the POST routes
    mongo = make_client(settings.mongodb_uri)
    db_name = settings.database_name("ingest")
    store = CustomerStore(mongo[db_name])

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(store.ensure_indexes)
        app.state.settings = settings
        app.state.redis = redis
        app.state.appender = appender
        app.state.layout = settings.stream_layout()
        app.state.mongo = mongo
        app.state.store = store
        app.state.idempotency = IdempotencyStore(redis, settings.idempotency_ttl_s)
        app.state.preview = None
        if settings.columns_enabled:
            # the loader's own client: a failed request never resets its connections
            loader = CustomerStore(make_client(settings.mongodb_uri, timeout_ms=60_000)[db_name])
            app.state.preview = PreviewModel(
                store,
                redis,
                load_batch=settings.columns_load_batch,
                load_store=loader,
                scan_max_rows=settings.columns_scan_max_rows,
                snapshot_dir=settings.snapshot_dir,
                snapshot_every=settings.snapshot_every,
                snapshot_min_interval_s=settings.snapshot_min_interval_s,
            )
            app.state.preview.start()
        yield
        if app.state.preview is not None:
            await app.state.preview.stop()
            app.state.preview.store.customers.database.client.close()
        await appender.aclose()
        await redis.aclose()
        mongo.close()

    return create_service_app(
        service="ingest",
        internal_token=settings.internal_token,
        routers=[consent_router, router, public_router],
        readiness={"redis": redis_check(redis), "mongodb": mongo_check(mongo)},
        lifespan=lifespan,
        direct_routes=DIRECT_ROUTES,
    )
