"""Composition root of the delivery API: builds clients, store and routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from libs.common.logging import configure_logging
from libs.common.mongo import make_client
from libs.common.redis_client import make_async_redis
from libs.common.web import create_service_app, mongo_check, redis_check
from services.delivery.api import router
from services.delivery.settings import DeliverySettings


def create_app(settings: DeliverySettings | None = None) -> FastAPI:
    settings = settings or DeliverySettings()
    configure_logging("delivery", settings.log_level)
    redis = make_async_redis(settings.redis_url)
    mongo = make_client(settings.mongodb_uri)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.redis = redis
        app.state.mongo = mongo
        yield
        await redis.aclose()
        mongo.close()

    return create_service_app(
        service="delivery",
        internal_token=settings.internal_token,
        routers=[router],
        readiness={"redis": redis_check(redis), "mongodb": mongo_check(mongo)},
        lifespan=lifespan,
    )
