"""``GET/PUT /api/settings/delivery``: quiet hours, the frequency cap and the workspace
zone that delivery enforces on every message (services.delivery.pacing). A saved
policy is announced on ``pacing`` (``DeliveryPolicyChanged``) for the audience preview."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request

from libs.common.clock import now_utc
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
    await asyncio.to_thread(_policies(request).save, body)
    # after the save: a failed announcement is a retried PUT, never a policy unsaved
    await request.app.state.producer.publish([policy_changed(body, zone, now_utc())])
    return body.out(zone)
