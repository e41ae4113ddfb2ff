"""``GET/PUT /api/settings/delivery``: quiet hours, the frequency cap and the workspace
zone that delivery enforces on every message (services.delivery.pacing). A saved
policy is announced on ``pacing`` (``DeliveryPolicyChanged``) for the audience preview,
and again whenever an API process starts."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request

from libs.common.clock import epoch_ms, from_ms, now_utc
from libs.common.streams import AsyncStreamProducer
from services.delivery.pacing import DeliveryPolicy, PolicyStore
from services.delivery.pacing_news import policy_changed

router = APIRouter()


def _policies(request: Request) -> PolicyStore:
    policies: PolicyStore = request.app.state.policies
    return policies


@router.get("/api/settings/delivery")
async def get_delivery_settings(request: Request) -> dict[str, Any]:
    policy = await asyncio.to_thread(_policies(request).load)
    return policy.out(request.app.state.settings.workspace_timezone)


@router.put("/api/settings/delivery")
async def put_delivery_settings(body: DeliveryPolicy, request: Request) -> dict[str, Any]:
    zone = request.app.state.settings.workspace_timezone
    at = from_ms(epoch_ms(now_utc()))  # as kept: a restart announces the very same moment
    await asyncio.to_thread(_policies(request).save, body, at)
    # after the save: a failed announcement is a retried PUT (or the next start of an
    # API process, announce_saved_policy), never a policy unsaved
    await request.app.state.producer.publish([policy_changed(body, zone, at)])
    return body.out(zone)


async def announce_saved_policy(
    policies: PolicyStore, producer: AsyncStreamProducer, zone: str
) -> None:
    """At start: the saved policy again, as of when it was saved. Ingest keeps the
    newest, so this changes nothing there unless an announcement was lost (or the
    policy predates the announcements, or the workspace zone changed)."""
    saved = await asyncio.to_thread(policies.saved)
    if saved is not None:
        policy, at = saved
        await producer.publish([policy_changed(policy, zone, at)])
