"""What delivery tells the audience preview about its pacing (stream ``pacing``,
libs.common.events.pacing): the policy when it is saved, and per admitted chunk the
customers now at their frequency cap. Ingest keeps its own copy; it never reads
delivery's ``delivery_settings`` or ``delivery:freq:*``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from libs.common.clock import from_ms
from libs.common.events import (
    CappedCustomer,
    CapRule,
    CapsReached,
    DeliveryPolicyChanged,
    QuietWindow,
)

if TYPE_CHECKING:  # services.delivery.pacing imports this module
    from services.delivery.pacing import DeliveryPolicy


def caps_reached(reached: dict[str, list[tuple[str, int]]]) -> list[CapsReached]:
    """channel -> [(customer id, capped until in epoch ms)] -> one event per channel."""
    return [
        CapsReached(
            channel=channel,
            customers=[CappedCustomer(customer_id=c, until=from_ms(u)) for c, u in people],
        )
        for channel, people in sorted(reached.items())
        if people
    ]


def policy_changed(
    policy: DeliveryPolicy, workspace_zone: str, at: datetime
) -> DeliveryPolicyChanged:
    quiet, cap = policy.quiet_hours, policy.frequency_cap
    return DeliveryPolicyChanged(
        quiet_hours=QuietWindow(start=quiet.start, end=quiet.end) if quiet else None,
        frequency_cap=CapRule(messages=cap.messages, per_days=cap.per_days) if cap else None,
        timezone=policy.timezone or workspace_zone,
        changed_at=at,
    )
