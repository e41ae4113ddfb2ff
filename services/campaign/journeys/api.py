"""HTTP routes of journeys (campaign service): parse, call the service, answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request

from libs.common.web import CallerDep
from services.campaign.clock import utc_now
from services.campaign.journeys.service import JourneyService, journey_out

router = APIRouter()
Out = dict[str, Any]


def get_journeys(request: Request) -> JourneyService:
    service: JourneyService = request.app.state.journeys
    return service


JourneysDep = Annotated[JourneyService, Depends(get_journeys)]


@router.post("/api/journeys", status_code=201)
def create_journey(body: Annotated[Any, Body()], service: JourneysDep, caller: CallerDep) -> Out:
    return journey_out(service.create(body, caller.email or caller.user_id, utc_now()))


@router.get("/api/journeys")
def list_journeys(service: JourneysDep) -> Out:
    return {"items": [journey_out(d) for d in service.store.list_journeys()]}


@router.get("/api/journeys/{journey_id}")
def get_journey(journey_id: str, service: JourneysDep) -> Out:
    return journey_out(service.get(journey_id))


@router.get("/api/journeys/{journey_id}/stats")
def journey_stats(journey_id: str, service: JourneysDep) -> Out:
    return service.stats(journey_id)


@router.post("/api/journeys/{journey_id}/activate")
def activate(journey_id: str, service: JourneysDep) -> Out:
    return journey_out(service.act(journey_id, "activate", utc_now()))


@router.post("/api/journeys/{journey_id}/pause")
def pause(journey_id: str, service: JourneysDep) -> Out:
    return journey_out(service.act(journey_id, "pause", utc_now()))


@router.post("/api/journeys/{journey_id}/archive")
def archive(journey_id: str, service: JourneysDep) -> Out:
    return journey_out(service.act(journey_id, "archive", utc_now()))


@router.get("/api/customers/{customer_id}/journeys")
def customer_journeys(customer_id: str, service: JourneysDep) -> Out:
    return {"customerId": customer_id, "items": service.of_customer(customer_id)}
