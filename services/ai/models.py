"""Requests and responses of /api/ai/* (camelCase, as the documented API), and the JSON
shapes the LLM must answer in."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Source = Literal["llm", "fallback"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SegmentFromTextRequest(_Request):
    description: str = Field(min_length=1, max_length=1000)


class SegmentFromTextResponse(BaseModel):
    rules: dict[str, Any]
    explanation: str
    source: Source
    # how vague words were read ("'big spenders' = total spend > 18,450 (top 25% ...)")
    notes: list[str] = Field(default_factory=list)
    # words that were not understood and left out of the rules
    skipped: list[str] = Field(default_factory=list)


class MessageSuggestionsRequest(_Request):
    objective: str = Field(min_length=1, max_length=500)
    audienceSize: int | None = Field(None, ge=0)
    tone: str | None = Field(None, max_length=40)
    rules: dict[str, Any] | None = None


class Suggestion(BaseModel):
    message: str = Field(min_length=1, max_length=1000)
    tone: str = Field(min_length=1, max_length=40)
    rationale: str = Field(min_length=1, max_length=500)


class MessageSuggestionsResponse(BaseModel):
    suggestions: list[Suggestion]
    source: Source


class PerformanceSummaryRequest(_Request):
    campaignId: str = Field(min_length=1, max_length=200)


class PerformanceSummaryResponse(BaseModel):
    summary: str
    highlights: list[str]
    metrics: dict[str, Any]
    source: Source


class OptimalTimingRequest(_Request):
    audienceRules: dict[str, Any] | None = None


class ZoneShare(BaseModel):
    timezone: str
    share: float


class TimingWindow(BaseModel):
    dayOfWeek: str
    hour: int
    timezone: str
    score: float | None
    evidence: int
    # What a marketer reads: "Thursday 20:00 in each customer's own time zone".
    label: str = ""
    evidenceLabel: str = ""
    # The zones this hour's engagement came from, largest first, and the zone a single
    # scheduled send should use (the largest) with the share of engagement it covers.
    zones: list[ZoneShare] = []
    scheduleZone: str | None = None
    scheduleShare: float | None = None


class OptimalTimingResponse(BaseModel):
    recommendations: list[TimingWindow]
    isDefault: bool
    evidence: dict[str, int]
    explanation: str
    source: Source


class LookalikeRequest(_Request):
    baseSegmentId: str | None = Field(None, min_length=1, max_length=200)
    rules: dict[str, Any] | None = None
    size: int | None = Field(None, ge=1, le=100_000)

    @model_validator(mode="after")
    def _one_base(self) -> LookalikeRequest:
        if (self.baseSegmentId is None) == (self.rules is None):
            raise ValueError("give exactly one of baseSegmentId or rules")
        return self


class LookalikeResponse(BaseModel):
    rules: dict[str, Any]
    size: int
    sample: list[dict[str, Any]]
    customerIds: list[str]
    excludesBase: bool
    baseSize: int
    comparison: dict[str, dict[str, float]]
    explanation: str
    source: Source


class CampaignTagsRequest(_Request):
    name: str | None = Field(None, max_length=200)
    rules: dict[str, Any] | None = None
    message: str = Field(min_length=1, max_length=2000)


class CampaignTagsResponse(BaseModel):
    tags: list[str]
    source: Source


# -- what the LLM must answer -------------------------------------------------------------
class LlmRules(BaseModel):
    rules: dict[str, Any]
    explanation: str = Field(min_length=1, max_length=1000)


class LlmSuggestions(BaseModel):
    suggestions: list[Suggestion] = Field(min_length=3, max_length=8)


class LlmSummary(BaseModel):
    summary: str = Field(min_length=1, max_length=2000)
    highlights: list[str] = Field(default_factory=list, max_length=10)


class LlmTags(BaseModel):
    tags: list[str] = Field(min_length=1, max_length=10)
