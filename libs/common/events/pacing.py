"""Stream ``pacing``: what delivery's quiet hours and frequency cap mean for the
audience preview (issue #24: "campaign previews say how many will be deferred or
capped").

Delivery enforces both (services/delivery/pacing.py) and keeps the state in its own
database and Redis keys; the ingest service answers previews. So delivery announces
what a preview needs and ingest keeps its own copy:
- ``DeliveryPolicyChanged``: the policy as saved (``PUT /api/settings/delivery``), with
  the workspace zone already resolved; ``changed_at`` orders two announcements;
- ``CapsReached``: per admitted chunk and channel, the customers now at their cap and
  until when (the moment the oldest message counted against it leaves the window).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, Field

from libs.common.events.base import Event, split_records

PACING = "pacing"  # libs.common.streams.names.PACING (that package imports this one)


class QuietWindow(BaseModel):
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


class CapRule(BaseModel):
    messages: int = Field(ge=1)
    per_days: int = Field(ge=1)


class DeliveryPolicyChanged(Event):
    TYPE: ClassVar[str] = "delivery.policy_changed.v1"
    STREAM: ClassVar[str] = PACING
    quiet_hours: QuietWindow | None = None
    frequency_cap: CapRule | None = None
    timezone: str  # the workspace zone: customers without a (known) zone of their own
    changed_at: datetime

    def partition_key(self) -> str:
        return "policy"


class CappedCustomer(BaseModel):
    customer_id: str
    until: datetime


class CapsReached(Event):
    """One per admitted chunk and channel (not per message)."""

    TYPE: ClassVar[str] = "caps.reached.v1"
    STREAM: ClassVar[str] = PACING
    channel: str
    customers: list[CappedCustomer]

    def split_for_partitions(self, count: int) -> list[tuple[int, Event]]:
        return split_records(self, "customers", lambda c: c.customer_id, count)
