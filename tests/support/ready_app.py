"""A minimal service app built with the shared helpers, for readiness tests."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from libs.common.mongo import make_client
from libs.common.redis_client import make_async_redis
from libs.common.settings import CommonSettings
from libs.common.web import create_service_app, mongo_check, redis_check

router = APIRouter()


@router.get("/api/echo")
async def echo() -> dict[str, str]:
    return {"ok": "yes"}


def create_app() -> FastAPI:
    settings = CommonSettings()
    redis = make_async_redis(settings.redis_url)
    mongo = make_client(settings.mongodb_uri, timeout_ms=1000)
    return create_service_app(
        service="ready-test",
        internal_token=settings.internal_token,
        routers=[router],
        readiness={"redis": redis_check(redis), "mongodb": mongo_check(mongo)},
    )
