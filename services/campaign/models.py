"""Request bodies and the API shapes of campaigns and segments (camelCase on the wire,
snake_case in documents)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.campaign import stats
from services.campaign.clock import maybe_from_ms
from services.campaign.experiments import (
    DEFAULT_ATTRIBUTION_DAYS,
    MAX_VARIANTS,
    VariantIn,
    WinnerIn,
    experiment_out,
)

MAX_TAGS = 20


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=200)
    segment_rules: dict[str, Any] | None = Field(None, alias="segmentRules")
    segment_id: str | None = Field(None, alias="segmentId", min_length=1, max_length=64)
    # Required unless ``variants`` are given (then the first variant's, the control's).
    message: str | None = Field(None, min_length=1, max_length=2000)
    scheduled_at: datetime | None = Field(None, alias="scheduledAt")
    # "20:00": each customer gets it when their own clock reads 20:00 (their timezone,
    # the workspace's otherwise), the first time at or after the launch
    send_at_local_time: str | None = Field(
        None, alias="sendAtLocalTime", pattern=r"^([01]\d|2[0-3]):[0-5]\d$"
    )
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    channel: Literal["sms", "email"] | None = None
    # A/B set-up (services.campaign.experiments); shares in percent.
    variants: list[VariantIn] | None = Field(None, max_length=MAX_VARIANTS)
    holdout_share: float | None = Field(None, alias="holdoutShare", ge=0, le=50)
    winner: WinnerIn | None = None
    attribution_days: int = Field(DEFAULT_ATTRIBUTION_DAYS, alias="attributionDays", ge=1, le=90)

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name must not be blank")
        return value.strip()

    @field_validator("tags")
    @classmethod
    def _clean_tags(cls, value: list[str]) -> list[str]:
        return normalise_tags(value)

    @field_validator("scheduled_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.replace(microsecond=value.microsecond // 1000 * 1000)


class SegmentCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=200)
    rules: dict[str, Any]
    description: str | None = Field(None, max_length=1000)


def normalise_tags(tags: list[str]) -> list[str]:
    """Trimmed, lower-case, de-duplicated in first-seen order, each at most 40 chars."""
    seen: dict[str, None] = {}
    for tag in tags:
        text = " ".join(str(tag).split()).lower()[:40]
        if text:
            seen.setdefault(text, None)
    return list(seen)[:MAX_TAGS]


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def campaign_out(doc: dict[str, Any]) -> dict[str, Any]:
    """A campaign document as the API shows it."""
    out: dict[str, Any] = {
        "id": doc["_id"],
        "name": doc["name"],
        "segmentRules": doc["rules"],
        "message": doc["message"],
        "tags": normalise_tags([*doc.get("tags", []), *doc.get("ai_tags", [])]),
        "status": doc["status"],
        "createdAt": _iso(maybe_from_ms(doc.get("created_ms"))),
        "audienceSize": doc.get("audience_size"),
        **stats.summary(doc),
    }
    optional = {
        "segmentId": doc.get("segment_id"),
        "channel": doc.get("channel"),
        "statusReason": doc.get("status_reason"),
        "scheduledAt": _iso(maybe_from_ms(doc.get("scheduled_ms"))),
        "startedAt": _iso(maybe_from_ms(doc.get("started_ms"))),
        "completedAt": _iso(maybe_from_ms(doc.get("completed_ms"))),
        "createdBy": doc.get("created_by"),
        # times its launch was replayed from the stored audience (stalled, see stall.py)
        "replays": doc.get("replays"),
        "attributionDays": doc.get("attribution_days"),
        "sendAtLocalTime": doc.get("local_time"),
        "experiment": experiment_out(doc["experiment"]) if "experiment" in doc else None,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    return out


def realtime_out(
    campaign: dict[str, Any], stats_doc: dict[str, Any] | None, now: datetime
) -> dict[str, Any]:
    """The live figures of GET /realtime and the server-sent events."""
    stats_doc = stats_doc or {}
    timeline = stats_doc.get("timeline", [])
    figures = stats.summary(campaign)
    eta = stats.estimated_completion(campaign, timeline, now)
    return {
        "id": campaign["_id"],
        "status": campaign["status"],
        "statusReason": campaign.get("status_reason"),
        "audienceSize": campaign.get("audience_size"),
        **figures,
        "startedAt": _iso(maybe_from_ms(campaign.get("started_ms"))),
        "completedAt": _iso(maybe_from_ms(campaign.get("completed_ms"))),
        "estimatedCompletion": _iso(eta),
        "failureReasons": {r["reason"]: r["n"] for r in stats_doc.get("failure_reasons", [])},
        "timeline": [
            {"t": _iso(datetime.fromtimestamp(s["t"], UTC)), **_slot(s)} for s in timeline
        ],
    }


def _slot(slot: dict[str, Any]) -> dict[str, int]:
    return {"delivered": int(slot["delivered"]), "failed": int(slot["failed"])}


def segment_out(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        "name": doc["name"],
        "rules": doc["rules"],
        "description": doc.get("description"),
        "createdAt": _iso(doc.get("created_at")),
    }
