"""Composition root of the vendor simulator: in-memory vendor + callback dispatcher.

No Redis, no MongoDB: readiness needs nothing but the process itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from libs.common.logging import configure_logging
from libs.common.web import create_service_app
from services.vendor_sim.api import router
from services.vendor_sim.callbacks import CallbackDispatcher, CallbackPolicy
from services.vendor_sim.settings import VendorSimSettings
from services.vendor_sim.simulator import Vendor, controls_from


def create_app(settings: VendorSimSettings | None = None) -> FastAPI:
    settings = settings or VendorSimSettings()
    configure_logging("vendor_sim", settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        vendor = Vendor(controls_from(settings), seed=settings.seed, max_batch=settings.max_batch)
        client = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0))
        policy = CallbackPolicy(
            secret=settings.webhook_secret,
            batch=settings.callback_batch,
            flush_s=settings.callback_flush_ms / 1000,
            max_attempts=settings.callback_max_attempts,
            retry_base_s=settings.callback_retry_base_ms / 1000,
            retry_cap_s=settings.callback_retry_cap_ms / 1000,
            concurrency=settings.callback_concurrency,
        )
        dispatcher = CallbackDispatcher(vendor, client, policy)
        app.state.settings = settings
        app.state.vendor = vendor
        app.state.dispatcher = dispatcher
        loop_task = asyncio.create_task(dispatcher.run())
        yield
        loop_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop_task
        await dispatcher.aclose()
        await client.aclose()

    return create_service_app(
        service="vendor_sim",
        internal_token=None,
        routers=[router],
        readiness={},
        lifespan=lifespan,
    )
