"""HTTP routes of the campaign service: parse, call the service, answer. Thin."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from libs.common.errors import ValidationFailed
from libs.common.web import CallerDep
from services.campaign import lifecycle, sse
from services.campaign.campaigns import CampaignService
from services.campaign.clock import utc_now
from services.campaign.history import HistoryImport, day_range, import_campaigns, read_overview
from services.campaign.history_store import HistoryStore
from services.campaign.message_preview import MessagePreviewIn, message_preview
from services.campaign.models import (
    CampaignCreate,
    SegmentCreate,
    campaign_out,
    realtime_out,
    segment_out,
)
from services.campaign.results import campaign_results
from services.campaign.settings import CampaignSettings

router = APIRouter()

Body = dict[str, Any]


def get_service(request: Request) -> CampaignService:
    service: CampaignService = request.app.state.service
    return service


ServiceDep = Annotated[CampaignService, Depends(get_service)]


def get_history(request: Request) -> HistoryStore:
    settings: CampaignSettings = request.app.state.settings
    return HistoryStore(request.app.state.mongo, settings.database_name("campaign"))


HistoryDep = Annotated[HistoryStore, Depends(get_history)]


# -- campaigns ---------------------------------------------------------------------
@router.post("/api/campaigns", status_code=201)
def create_campaign(body: CampaignCreate, service: ServiceDep, caller: CallerDep) -> Body:
    return campaign_out(service.create(body, caller.email or caller.user_id, utc_now()))


@router.get("/api/campaigns")
def list_campaigns(
    service: ServiceDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=100)] = 20,
    status: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> Body:
    if status is not None and status not in lifecycle.STATUSES:
        raise ValidationFailed(
            f"unknown status {status!r}",
            [{"field": "status", "message": f"one of {', '.join(lifecycle.STATUSES)}"}],
        )
    search = (q or "").strip() or None
    docs, total = service.store.list_campaigns(status, (page - 1) * page_size, page_size, search)
    return {
        "items": [campaign_out(d) for d in docs],
        "total": total,
        "page": page,
        "pageSize": page_size,
    }


@router.post("/api/campaigns/message-preview")
def preview_message(body: MessagePreviewIn, request: Request) -> Body:
    settings: CampaignSettings = request.app.state.settings
    return message_preview(body, settings.workspace_format())


@router.get("/api/campaigns/stats/overview")
def overview(
    request: Request,
    history: HistoryDep,
    first: Annotated[date | None, Query(alias="from")] = None,
    last: Annotated[date | None, Query(alias="to")] = None,
) -> Body:
    span = day_range(first, last, utc_now().date())
    return read_overview(history, span, request.app.state.attribution.revenue_by_campaign())


@router.post("/api/campaigns/history")
def import_history(body: HistoryImport, history: HistoryDep, caller: CallerDep) -> Body:
    return import_campaigns(history, body, caller.email or caller.user_id, utc_now())


@router.get("/api/campaigns/{campaign_id}")
def get_campaign(campaign_id: str, service: ServiceDep) -> Body:
    return campaign_out(service.get(campaign_id))


@router.get("/api/campaigns/{campaign_id}/results")
def results(campaign_id: str, request: Request, service: ServiceDep) -> Body:
    return campaign_results(service.get(campaign_id), request.app.state.attribution)


@router.get("/api/campaigns/{campaign_id}/realtime")
def realtime(campaign_id: str, service: ServiceDep) -> Body:
    doc = service.get(campaign_id)
    return realtime_out(doc, service.store.get_stats(campaign_id), utc_now())


@router.get("/api/campaigns/{campaign_id}/events")
def campaign_events(campaign_id: str, request: Request, service: ServiceDep) -> StreamingResponse:
    service.get(campaign_id)  # 404 before the stream starts
    settings: CampaignSettings = request.app.state.settings

    def read() -> Body | None:
        doc = service.store.get_campaign(campaign_id)
        if doc is None:
            return None
        return realtime_out(doc, service.store.get_stats(campaign_id), utc_now())

    async def snapshot() -> Body | None:
        return await asyncio.to_thread(read)

    stream = sse.campaign_events(
        snapshot,
        request.is_disconnected,
        poll_s=settings.sse_poll_interval_s,
        keepalive_s=settings.sse_keepalive_s,
    )
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post("/api/campaigns/{campaign_id}/pause")
def pause(campaign_id: str, service: ServiceDep) -> Body:
    return campaign_out(service.act(campaign_id, "pause", utc_now()))


@router.post("/api/campaigns/{campaign_id}/resume")
def resume(campaign_id: str, service: ServiceDep) -> Body:
    return campaign_out(service.act(campaign_id, "resume", utc_now()))


@router.post("/api/campaigns/{campaign_id}/cancel")
def cancel(campaign_id: str, service: ServiceDep) -> Body:
    return campaign_out(service.act(campaign_id, "cancel", utc_now()))


# -- saved segments ----------------------------------------------------------------
@router.post("/api/segments", status_code=201)
def save_segment(body: SegmentCreate, service: ServiceDep, caller: CallerDep) -> Body:
    return segment_out(service.save_segment(body, caller.email or caller.user_id, utc_now()))


@router.get("/api/segments")
def list_segments(service: ServiceDep) -> Body:
    return {"items": [segment_out(d) for d in service.store.list_segments()]}


@router.get("/api/segments/{segment_id}")
def get_segment(segment_id: str, service: ServiceDep) -> Body:
    return segment_out(service.get_segment(segment_id))


@router.put("/api/segments/{segment_id}")
def update_segment(segment_id: str, body: SegmentCreate, service: ServiceDep) -> Body:
    return segment_out(service.update_segment(segment_id, body))


@router.delete("/api/segments/{segment_id}", status_code=204)
def delete_segment(segment_id: str, service: ServiceDep) -> Response:
    service.delete_segment(segment_id)
    return Response(status_code=204)
