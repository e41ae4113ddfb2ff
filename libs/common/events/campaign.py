"""Streams ``segment`` and ``campaign_events``: a campaign's life."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field

from libs.common.events.base import Event
from libs.common.events.delivery import LocalSend
from libs.common.events.experiment import Experiment


class CampaignLaunched(Event):
    """Stream ``segment``: resolve this campaign's audience and queue its sends."""

    TYPE: ClassVar[str] = "campaign.launched.v1"
    STREAM: ClassVar[str] = "segment"
    campaign_id: str
    name: str
    rules: dict[str, Any]
    message: str
    fields: list[str] = Field(default_factory=list)
    channel: str | None = None
    # Published again by the campaign worker when the campaign stalled with members
    # without a final state: the resolver sends every stored chunk again (delivery
    # sends only what it never sent) instead of answering "already resolved".
    replay: bool = False
    experiment: Experiment | None = None  # variants and holdout; None: ``message`` to all
    local_send: LocalSend | None = None  # each recipient at a local time of day


class CampaignCreated(Event):
    """Stream ``campaign_events``: a campaign exists (read models learn its content)."""

    TYPE: ClassVar[str] = "campaign.created.v1"
    STREAM: ClassVar[str] = "campaign_events"
    campaign_id: str
    name: str
    rules: dict[str, Any]
    message: str
    tags: list[str] = Field(default_factory=list)
    channel: str | None = None
    created_at: datetime
    scheduled_at: datetime | None = None


class AudienceResolved(Event):
    TYPE: ClassVar[str] = "audience.resolved.v1"
    STREAM: ClassVar[str] = "campaign_events"
    campaign_id: str
    total: int
    resolved_at: datetime


class CampaignPaused(Event):
    TYPE: ClassVar[str] = "campaign.paused.v1"
    STREAM: ClassVar[str] = "campaign_events"
    campaign_id: str
    reason: str = "paused by user"
    automatic: bool = False


class CampaignResumed(Event):
    TYPE: ClassVar[str] = "campaign.resumed.v1"
    STREAM: ClassVar[str] = "campaign_events"
    campaign_id: str


class CampaignCancelled(Event):
    TYPE: ClassVar[str] = "campaign.cancelled.v1"
    STREAM: ClassVar[str] = "campaign_events"
    campaign_id: str
    reason: str = "cancelled by user"


class CampaignAutoPaused(Event):
    """Published by delivery when a campaign's recent failure rate passes the threshold."""

    TYPE: ClassVar[str] = "campaign.auto_paused.v1"
    STREAM: ClassVar[str] = "campaign_events"
    campaign_id: str
    reason: str
    failure_rate: float


class CampaignCompleted(Event):
    TYPE: ClassVar[str] = "campaign.completed.v1"
    STREAM: ClassVar[str] = "campaign_events"
    campaign_id: str
    audience_size: int
    sent: int
    delivered: int
    failed: int
    unknown: int = 0
    cancelled: int = 0
    started_at: datetime | None = None
    completed_at: datetime


class CampaignTagged(Event):
    """Published by the AI service; the campaign service stores the tags."""

    TYPE: ClassVar[str] = "campaign.tagged.v1"
    STREAM: ClassVar[str] = "campaign_events"
    campaign_id: str
    tags: list[str]


class SegmentSaved(Event):
    """Stream ``campaign_events``: a saved segment (read models such as lookalike use it)."""

    TYPE: ClassVar[str] = "segment.saved.v1"
    STREAM: ClassVar[str] = "campaign_events"
    segment_id: str
    name: str
    rules: dict[str, Any]
    description: str | None = None


class SegmentDeleted(Event):
    TYPE: ClassVar[str] = "segment.deleted.v1"
    STREAM: ClassVar[str] = "campaign_events"
    segment_id: str
