"""Composition root of the delivery API: builds clients, store and routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pymongo.errors import PyMongoError
from redis.exceptions import RedisError

from libs.common.logging import configure_logging, get_logger
from libs.common.mongo import make_client
from libs.common.redis_client import make_async_redis
from libs.common.streams import AsyncStreamProducer
from libs.common.web import ERROR_RESPONSES, create_service_app, mongo_check, redis_check
from services.delivery.api import router, webhook_router
from services.delivery.pacing import PolicyStore
from services.delivery.policy_api import announce_saved_policy
from services.delivery.policy_api import router as policy_router
from services.delivery.settings import DeliverySettings
from services.delivery.store import DeliveryStore

log = get_logger(__name__)


def create_app(settings: DeliverySettings | None = None) -> FastAPI:
    settings = settings or DeliverySettings()
    configure_logging("delivery", settings.log_level)
    redis = make_async_redis(settings.redis_url)
    mongo = make_client(settings.store_uri)
    store = DeliveryStore(mongo[settings.database_name("delivery")])

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.redis = redis
        app.state.mongo = mongo
        app.state.store = store
        app.state.policies = PolicyStore(store.db)
        app.state.producer = AsyncStreamProducer(
            redis, settings.stream_maxlen, layout=settings.stream_layout()
        )
        try:
            await asyncio.to_thread(store.ensure_indexes)
            await asyncio.to_thread(app.state.policies.ensure_indexes)
        except PyMongoError as exc:  # readiness reports the DB; the worker creates them too
            log.warning("delivery.indexes_not_created", error=str(exc))
        try:
            zone = settings.workspace_timezone
            await announce_saved_policy(app.state.policies, app.state.producer, zone)
        except (PyMongoError, RedisError) as exc:  # the next start or PUT announces it
            log.warning("delivery.policy_not_announced", error=str(exc))
        yield
        await redis.aclose()
        mongo.close()

    app = create_service_app(
        service="delivery",
        internal_token=settings.internal_token,
        routers=[router, policy_router],
        readiness={"redis": redis_check(redis), "mongodb": mongo_check(mongo)},
        lifespan=lifespan,
    )
    # The vendor is an outside party: its webhook is guarded by the HMAC, not the token.
    app.include_router(webhook_router, responses=ERROR_RESPONSES)
    return app
