"""HTTP routes of the delivery service.

``webhook_router`` is the vendor's receipt webhook: an outside party calls it, so it is
mounted without the internal-token check and protected by the HMAC signature instead.
``router`` holds the reads the gateway routes here.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from pydantic import ValidationError

from libs.common.errors import AppError, Conflict, Unauthorized, ValidationFailed
from libs.common.events import Receipt, ReceiptsReceived
from libs.common.logging import get_logger
from libs.common.streams import AsyncStreamProducer
from services.delivery.flags import in_flight_now
from services.delivery.ledger import NOT_RECORDED_YET, OK, Claim
from services.delivery.ledger import check as ledger_check
from services.delivery.metrics import RECEIPTS_REFUSED
from services.delivery.models import (
    PENDING,
    PENDING_STATUSES,
    STATUSES,
    Communication,
    CommunicationPage,
    CustomerCommunications,
    ReceiptBatch,
    ReceiptsAccepted,
    RefusedReceipt,
    VendorReceipt,
)
from services.delivery.settings import DeliverySettings
from services.delivery.signing import signature_ok, timestamp_fresh
from services.delivery.store import DeliveryStore

log = get_logger(__name__)

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
    x_vendor_timestamp: Annotated[str | None, Header()] = None,
) -> ReceiptsAccepted:
    """Receipts pass three checks: the request's signature (over its timestamp and
    body), its age and its novelty (a signature seen before is a replay), then each
    receipt its own: its message was handed to the vendor and got this vendor id
    (services.delivery.ledger). Refused receipts are listed in the answer, counted and
    kept aside (``refused_receipts``); they never reach a stream."""
    settings = _settings(request)
    raw = await request.body()
    if not signature_ok(settings.webhook_secret, raw, x_vendor_signature, x_vendor_timestamp):
        RECEIPTS_REFUSED.labels("bad_signature").inc()
        raise Unauthorized("missing or invalid X-Vendor-Signature / X-Vendor-Timestamp")
    if not timestamp_fresh(x_vendor_timestamp, time.time(), settings.webhook_max_age_s):
        RECEIPTS_REFUSED.labels("stale").inc()
        raise Unauthorized(
            f"X-Vendor-Timestamp is more than {settings.webhook_max_age_s} s from now",
            code="receipts_stale",
        )
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
    redis = request.app.state.redis
    nonce = f"delivery:receipt-signature:{x_vendor_signature}"
    if not await redis.set(nonce, "1", nx=True, ex=2 * settings.webhook_max_age_s):
        RECEIPTS_REFUSED.labels("replayed").inc()
        raise Conflict("this signed receipt batch was received before", code="receipts_replayed")
    try:
        return await _accept(request, settings, [_to_event(r) for r in batch.receipts])
    except BaseException:
        await redis.delete(nonce)  # not taken: the vendor's retry must not count as a replay
        raise


async def _accept(
    request: Request, settings: DeliverySettings, receipts: list[Receipt]
) -> ReceiptsAccepted:
    claims = [Claim(r.campaign_id, r.customer_id, r.vendor_message_id) for r in receipts]
    verdicts = await ledger_check(request.app.state.redis, claims)
    if NOT_RECORDED_YET in verdicts:
        # the vendor answered faster than its answer was recorded: ask for the batch again
        raise AppError(
            "some receipts are for messages whose sending is not recorded yet; retry",
            code="receipts_ahead_of_send",
            status=503,
        )
    good = [r for r, v in zip(receipts, verdicts, strict=True) if v == OK]
    refused = [(r, v) for r, v in zip(receipts, verdicts, strict=True) if v != OK]
    if refused:
        await _keep_refused(request, refused)
    size = settings.receipt_chunk
    events = [ReceiptsReceived(receipts=good[i : i + size]) for i in range(0, len(good), size)]
    producer: AsyncStreamProducer = request.app.state.producer
    entry_ids = await producer.publish(events) if events else []
    return ReceiptsAccepted(
        accepted=len(good),
        entry_ids=entry_ids,
        refused=[
            RefusedReceipt(client_ref=r.message_id, vendor_message_id=r.vendor_message_id, reason=v)
            for r, v in refused
        ],
    )


async def _keep_refused(request: Request, refused: list[tuple[Receipt, str]]) -> None:
    now = datetime.now(UTC)
    for _receipt, reason in refused:
        RECEIPTS_REFUSED.labels(reason).inc()
    docs = [
        {
            "_id": uuid.uuid4().hex,
            "received_at": now,
            "reason": reason,
            "client_ref": r.message_id,
            "campaign_id": r.campaign_id,
            "vendor_message_id": r.vendor_message_id,
            "status": r.status,
            "at": r.at,
            **({"receipt_reason": r.reason} if r.reason else {}),
        }
        for r, reason in refused
    ]
    log.warning(
        "delivery.receipts_refused", count=len(docs), reasons=sorted({d["reason"] for d in docs})
    )
    await asyncio.to_thread(_store(request).keep_refused, docs)


@router.get("/api/deliveries/refused-receipts")
async def refused_receipts(
    request: Request, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> dict[str, object]:
    """The latest receipts the webhook refused, newest first (for inspection)."""
    docs = await asyncio.to_thread(_store(request).latest_refused, limit)
    items = [
        {
            "clientRef": d["client_ref"],
            "vendorMessageId": d["vendor_message_id"],
            "status": d["status"],
            "reason": d["reason"],
            "receivedAt": d["received_at"],
        }
        for d in docs
    ]
    return {"items": items}


@router.get("/api/campaigns/{campaign_id}/communications", response_model=CommunicationPage)
async def campaign_communications(
    campaign_id: str,
    request: Request,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,  # a skip past int64 answered 500
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=500)] = 50,
    status: str | None = None,
) -> CommunicationPage:
    if status is not None and status not in STATUSES and status != PENDING:
        raise ValidationFailed(
            f"unknown status {status!r}",
            [{"field": "status", "message": f"one of {', '.join((PENDING, *STATUSES))}"}],
        )
    # "pending": every message without a final status yet (held or sent)
    statuses = list(PENDING_STATUSES) if status == PENDING else [status] if status else []
    docs, total = await asyncio.to_thread(
        _store(request).page, campaign_id, statuses, page, page_size
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
