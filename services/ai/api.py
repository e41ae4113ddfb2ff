"""HTTP routes of the ai service: parse, ask the assistant, answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from services.ai import models as m
from services.ai.assistant import Assistant

router = APIRouter(prefix="/api/ai", tags=["ai"])


def get_assistant(request: Request) -> Assistant:
    assistant: Assistant = request.app.state.assistant
    return assistant


AssistantDep = Annotated[Assistant, Depends(get_assistant)]


@router.post("/segment-from-text", response_model=m.SegmentFromTextResponse)
async def segment_from_text(
    body: m.SegmentFromTextRequest, ai: AssistantDep
) -> m.SegmentFromTextResponse:
    return await ai.segment_from_text(body)


@router.post("/message-suggestions", response_model=m.MessageSuggestionsResponse)
async def message_suggestions(
    body: m.MessageSuggestionsRequest, ai: AssistantDep
) -> m.MessageSuggestionsResponse:
    return await ai.message_suggestions(body)


@router.post("/campaign-performance-summary", response_model=m.PerformanceSummaryResponse)
async def campaign_performance_summary(
    body: m.PerformanceSummaryRequest, ai: AssistantDep
) -> m.PerformanceSummaryResponse:
    return await ai.performance_summary(body)


@router.post("/optimal-timing", response_model=m.OptimalTimingResponse)
async def optimal_timing(
    ai: AssistantDep, body: m.OptimalTimingRequest | None = None
) -> m.OptimalTimingResponse:
    return await ai.optimal_timing(body or m.OptimalTimingRequest())


@router.post("/lookalike-audience", response_model=m.LookalikeResponse)
async def lookalike_audience(body: m.LookalikeRequest, ai: AssistantDep) -> m.LookalikeResponse:
    return await ai.lookalike(body)


@router.post("/campaign-tags", response_model=m.CampaignTagsResponse)
async def campaign_tags(body: m.CampaignTagsRequest, ai: AssistantDep) -> m.CampaignTagsResponse:
    return await ai.campaign_tags(body)
