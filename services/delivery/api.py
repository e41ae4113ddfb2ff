"""HTTP routes of the delivery service.

``webhook_router`` is the vendor's receipt webhook: an outside party calls it, so it is
mounted without the internal-token check and protected by the HMAC signature instead.
``router`` holds the reads the gateway routes here.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from pydantic import ValidationError

from libs.common.errors import Unauthorized, ValidationFailed
from libs.common.events import Receipt, ReceiptsReceived
from libs.common.streams import AsyncStreamProducer
from services.delivery.flags import in_flight_now
from services.delivery.models import (
    STATUSES,
    Communication,
    CommunicationPage,
    CustomerCommunications,
    ReceiptBatch,
    ReceiptsAccepted,
    VendorReceipt,
)
from services.delivery.settings import DeliverySettings
from services.delivery.signing import signature_ok
from services.delivery.store import DeliveryStore

router = APIRouter(tags=["deliveries"])
webhook_router = APIRouter(tags=["vendor webhook"])


def _settings(request: Request) -> DeliverySettings:
    settings: DeliverySettings = request.app.state.settings
    return settings


def _store(request: Request) -> DeliveryStore:
    store: DeliveryStore = request.app.state.store
    return store


def _to_event(receipt: VendorReceipt) -> Receipt:
    campaign_id, customer_id = receipt.client_ref.split(":", 1)
    return Receipt(
        message_id=receipt.client_ref,
        campaign_id=campaign_id,
        customer_id=customer_id,
        vendor_message_id=receipt.vendor_message_id,
        status=receipt.status,
        at=receipt.timestamp,
        reason=receipt.reason,
    )


@webhook_router.post("/api/deliveries/receipts", status_code=202, response_model=ReceiptsAccepted)
async def receive_receipts(
    request: Request,
    x_vendor_signature: Annotated[str | None, Header()] = None,
) -> ReceiptsAccepted:
    settings = _settings(request)
    raw = await request.body()
    if not signature_ok(settings.webhook_secret, raw, x_vendor_signature):
        raise Unauthorized("missing or invalid X-Vendor-Signature")
    try:
        batch = ReceiptBatch.model_validate_json(raw)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        raise ValidationFailed("the receipt batch is not valid", details) from exc
    if len(batch.receipts) > settings.webhook_max_receipts:
        raise ValidationFailed(
            f"at most {settings.webhook_max_receipts} receipts per request",
            [{"field": "receipts", "message": f"{len(batch.receipts)} receipts"}],
        )
    receipts = [_to_event(r) for r in batch.receipts]
    size = settings.receipt_chunk
    events = [
        ReceiptsReceived(receipts=receipts[i : i + size]) for i in range(0, len(receipts), size)
    ]
    producer: AsyncStreamProducer = request.app.state.producer
    entry_ids = await producer.publish(events)
    return ReceiptsAccepted(accepted=len(receipts), entry_ids=entry_ids)


@router.get("/api/campaigns/{campaign_id}/communications", response_model=CommunicationPage)
async def campaign_communications(
    campaign_id: str,
    request: Request,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=500)] = 50,
    status: str | None = None,
) -> CommunicationPage:
    if status is not None and status not in STATUSES:
        raise ValidationFailed(
            f"unknown status {status!r}",
            [{"field": "status", "message": f"one of {', '.join(STATUSES)}"}],
        )
    docs, total = await asyncio.to_thread(
        _store(request).page, campaign_id, status, page, page_size
    )
    items = [Communication.from_doc(d) for d in docs]
    return CommunicationPage(items=items, total=total, page=page, page_size=page_size)


@router.get("/api/deliveries/campaigns/{campaign_id}/in-flight")
async def campaign_in_flight(campaign_id: str, request: Request) -> dict[str, object]:
    """Messages of the campaign inside a vendor call now: after a pause, what may still
    be counted as sent (the web app's "pausing… N in flight")."""
    count = await in_flight_now(request.app.state.redis, campaign_id)
    return {"campaignId": campaign_id, "inFlight": count}


@router.get("/api/deliveries/customers/{customer_id}", response_model=CustomerCommunications)
async def customer_communications(
    customer_id: str,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> CustomerCommunications:
    docs = await asyncio.to_thread(_store(request).for_customer, customer_id, limit)
    return CustomerCommunications(items=[Communication.from_doc(d) for d in docs])
