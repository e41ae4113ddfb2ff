"""Composition root of the ai API: builds clients, store, LLM client and routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from libs.common.logging import configure_logging
from libs.common.mongo import make_client
from libs.common.redis_client import make_async_redis
from libs.common.web import create_service_app, mongo_check, redis_check
from services.ai.api import router
from services.ai.assistant import Assistant
from services.ai.llm import LlmClient
from services.ai.settings import AiSettings
from services.ai.store import AiStore


def create_app(settings: AiSettings | None = None) -> FastAPI:
    settings = settings or AiSettings()
    configure_logging("ai", settings.log_level)
    redis = make_async_redis(settings.redis_url)
    mongo = make_client(settings.mongodb_uri)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = AiStore(mongo[settings.database_name("ai")])
        await asyncio.to_thread(store.ensure_indexes)
        llm = LlmClient(settings)
        app.state.settings = settings
        app.state.redis = redis
        app.state.mongo = mongo
        app.state.assistant = Assistant(store, llm, settings)
        yield
        await llm.close()
        await redis.aclose()
        mongo.close()

    return create_service_app(
        service="ai",
        internal_token=settings.internal_token,
        routers=[router],
        readiness={"redis": redis_check(redis), "mongodb": mongo_check(mongo)},
        lifespan=lifespan,
    )
