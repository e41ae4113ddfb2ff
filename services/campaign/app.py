"""Composition root of the campaign API: builds clients, store, service and routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from fastapi import FastAPI
from pymongo.errors import PyMongoError

from libs.common.logging import configure_logging, get_logger
from libs.common.mongo import make_client
from libs.common.redis_client import make_async_redis, make_redis
from libs.common.streams import StreamProducer
from libs.common.web import create_service_app, mongo_check, redis_check
from services.campaign.api import router
from services.campaign.attribution_store import AttributionStore
from services.campaign.audience import AudienceCounter
from services.campaign.campaigns import CampaignService
from services.campaign.journeys.api import router as journeys_router
from services.campaign.journeys.service import JourneyService
from services.campaign.journeys.store import JourneyStore
from services.campaign.settings import CampaignSettings
from services.campaign.store import CampaignStore

log = get_logger(__name__)


def create_app(settings: CampaignSettings | None = None) -> FastAPI:
    settings = settings or CampaignSettings()
    configure_logging("campaign", settings.log_level)
    redis = make_async_redis(settings.redis_url)
    # Routes are synchronous (pymongo), so they publish with the synchronous producer.
    sync_redis = make_redis(settings.redis_url)
    mongo = make_client(settings.store_uri)
    store = CampaignStore(mongo, settings.database_name("campaign"))
    attribution = AttributionStore(mongo, settings.database_name("campaign"))
    journeys = JourneyStore(mongo, settings.database_name("campaign"))
    audience = AudienceCounter(
        httpx.Client(base_url=settings.ingest_url, timeout=settings.audience_check_timeout_s),
        settings.internal_token,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await asyncio.to_thread(store.ensure_indexes)
            await asyncio.to_thread(journeys.ensure_indexes)
        except PyMongoError as exc:
            # The worker creates them too; /readyz reports the database meanwhile.
            log.warning("campaign.indexes_not_created", error=str(exc))
        app.state.settings = settings
        app.state.redis = redis
        app.state.mongo = mongo
        app.state.attribution = attribution
        app.state.journeys = JourneyService(journeys)
        app.state.service = CampaignService(
            store,
            StreamProducer(sync_redis, settings.stream_maxlen, layout=settings.stream_layout()),
            audience,
            max_schedule_ahead=timedelta(days=settings.max_schedule_ahead_days),
        )
        yield
        audience.close()
        await redis.aclose()
        sync_redis.close()
        mongo.close()

    return create_service_app(
        service="campaign",
        internal_token=settings.internal_token,
        routers=[router, journeys_router],
        readiness={"redis": redis_check(redis), "mongodb": mongo_check(mongo)},
        lifespan=lifespan,
    )
