"""HTTP routes of the vendor simulator: send, stats, control. Open (an outside party)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from libs.common.errors import Conflict, ValidationFailed
from services.vendor_sim.models import ControlRequest, SendRequest, SendResponse
from services.vendor_sim.simulator import KeyReused, Vendor, VendorFault, controls_from

router = APIRouter(prefix="/vendor", tags=["vendor"])


def _vendor(request: Request) -> Vendor:
    vendor: Vendor = request.app.state.vendor
    return vendor


@router.post("/messages", status_code=202, response_model=SendResponse)
@router.post("/send", status_code=202, response_model=SendResponse, include_in_schema=False)
async def send_messages(
    body: SendRequest,
    request: Request,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Any:
    vendor = _vendor(request)
    if len(body.messages) > vendor.max_batch:
        raise ValidationFailed(
            f"a batch holds at most {vendor.max_batch} messages",
            [{"field": "messages", "message": f"{len(body.messages)} > {vendor.max_batch}"}],
        )
    try:
        accepted = vendor.submit(idempotency_key, body)
    except VendorFault as fault:
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else None
        error = {"error": {"code": "vendor_fault", "message": fault.message, "details": None}}
        return JSONResponse(error, status_code=fault.status, headers=headers)
    except KeyReused as exc:
        raise Conflict("idempotency key reused with a different body", {"key": str(exc)}) from exc
    return SendResponse(messages=accepted)


@router.get("/stats")
async def stats(request: Request) -> dict[str, Any]:
    snapshot = _vendor(request).snapshot()
    snapshot["callbacksInFlight"] = request.app.state.dispatcher.in_flight
    return snapshot


@router.post("/control")
async def control(body: ControlRequest, request: Request) -> dict[str, Any]:
    controls = _vendor(request).controls
    for name, value in body.model_dump(exclude_none=True).items():
        setattr(controls, name, value)
    return controls.as_json()


@router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    """Back to the configured controls, empty stats and memory (for tests)."""
    settings = request.app.state.settings
    vendor = _vendor(request)
    vendor.reset(controls_from(settings), settings.seed)
    return vendor.snapshot()
