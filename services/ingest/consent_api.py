"""HTTP routes of consent: suppressions, erasure and export, and the unsubscribe pages.

- ``/api/suppressions*`` (admin only at the gateway): list and search, add one, add a
  batch (JSON or a CSV file), remove one. Every change is announced on stream
  ``consent`` (``suppressions.changed.v1``) for delivery's own copy.
- ``/api/unsubscriptions?campaignId=``: how many people a campaign's links unsubscribed.
- ``/api/customers/{id}/erase|erasure|export-record``: erasure is requested on stream
  ``consent`` and confirmed there by every service; the gateway builds the full export
  from this record and delivery's messages.
- ``/public/u/{token}``: the person's unsubscribe and preference page, reached through
  the gateway's public ``/u/{token}`` (services/gateway/unsubscribe.py). GET only shows
  (link scanners prefetch); POST changes, by publishing ``consent.changed.v1``.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from libs.common.consent import CHANNELS, normalise, unsubscribe_keys
from libs.common.errors import NotFound, ValidationFailed
from libs.common.events import (
    ConsentChanged,
    ErasureRequested,
    Event,
    SuppressionChange,
    SuppressionsChanged,
    encode,
)
from libs.common.logging import current_trace_id
from libs.common.unsubscribe import InvalidToken, TokenSigner, Unsubscribe
from services.ingest.consent import consent_view, state_path
from services.ingest.consent_store import ConsentStore, suppression_doc
from services.ingest.unsubscribe_pages import bad_link_page, done_page, link_page
from services.ingest.views import customer_out, iso, order_out

router = APIRouter(prefix="/api", tags=["consent"])
public_router = APIRouter(prefix="/public", include_in_schema=False)

MAX_BATCH = 10_000
EMAIL_SHAPE = "@"


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _consent(request: Request) -> ConsentStore:
    return ConsentStore(request.app.state.store.db)


async def publish(request: Request, events: Sequence[Event]) -> None:
    state = request.app.state
    trace = current_trace_id()
    parts: list[tuple[str, list[dict[str, bytes]]]] = []
    for event in events:
        names = state.layout.partitions(event.STREAM)
        for index, part in event.split_for_partitions(len(names)):
            parts.append((names[index], [encode(part, trace)]))
    if parts:
        await state.appender.append_many(parts, state.settings.stream_maxlen)


# -- suppressions ------------------------------------------------------------------------
class SuppressionIn(BaseModel):
    channel: Literal["email", "sms"]
    address: str = Field(min_length=3, max_length=254)
    reason: str = Field("added by an admin", max_length=200)


class SuppressionBatch(BaseModel):
    suppressions: list[SuppressionIn] = Field(min_length=1, max_length=MAX_BATCH)


def suppression_out(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        "channel": doc["channel"],
        "address": doc.get("address"),  # None: an erased person's, kept as a hash
        "reason": doc.get("reason"),
        "source": doc.get("source"),
        "createdAt": iso(doc.get("created_at")),
    }


def _checked(item: SuppressionIn) -> SuppressionIn:
    address = normalise(item.channel, item.address)
    if item.channel == "email" and EMAIL_SHAPE not in address:
        raise ValidationFailed(f"{item.address[:60]!r} is not an email address")
    if item.channel == "sms" and len(address.lstrip("+")) < 4:
        raise ValidationFailed(f"{item.address[:60]!r} is not a phone number")
    return item


async def _add(
    request: Request, items: Sequence[SuppressionIn], source: str
) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    docs = [suppression_doc(i.channel, i.address, i.reason, source, now) for i in items]
    new = await asyncio.to_thread(_consent(request).add_suppressions, docs)
    await _announce(request, new, suppressed=True)
    return new


async def _announce(request: Request, docs: Sequence[dict[str, Any]], *, suppressed: bool) -> None:
    if docs:
        changes = [
            SuppressionChange(channel=d["channel"], address_hash=d["hash"], suppressed=suppressed)
            for d in docs
        ]
        await publish(request, [SuppressionsChanged(changes=changes)])


@router.get("/suppressions")
async def list_suppressions(
    request: Request,
    channel: Literal["email", "sms"] | None = None,
    q: Annotated[str | None, Query(max_length=254)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    docs, total = await asyncio.to_thread(
        _consent(request).list_suppressions, channel, q, limit, offset
    )
    return _json({"items": [suppression_out(d) for d in docs], "total": total})


@router.post("/suppressions", status_code=201)
async def add_suppression(request: Request, body: SuppressionIn) -> Response:
    new = await _add(request, [_checked(body)], "admin")
    doc = (
        new[0]
        if new
        else suppression_doc(body.channel, body.address, body.reason, "admin", datetime.now(UTC))
    )
    return _json({**suppression_out(doc), "created": bool(new)}, 201 if new else 200)


@router.post("/suppressions/batch")
async def add_suppressions(request: Request) -> Response:
    """JSON ``{"suppressions": [...]}``, or a CSV file (field ``file``) with columns
    ``channel,address[,reason]`` (``channel`` may be left out for email addresses)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ValidationFailed("send the CSV as the form field 'file'")
        items, errors = _csv_items(await upload.read(5 * 1024 * 1024))
    else:
        batch = SuppressionBatch.model_validate_json(await request.body())
        items, errors = _valid(batch.suppressions)
    new = await _add(request, items, "import")
    return _json({"added": len(new), "known": len(items) - len(new), "errors": errors[:50]})


def _valid(items: Sequence[SuppressionIn]) -> tuple[list[SuppressionIn], list[dict[str, Any]]]:
    good, errors = [], []
    for index, item in enumerate(items):
        try:
            good.append(_checked(item))
        except ValidationFailed as exc:
            errors.append({"index": index, "message": exc.message})
    return good, errors


def _csv_items(content: bytes) -> tuple[list[SuppressionIn], list[dict[str, Any]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("the CSV must be UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    columns = {(c or "").strip().lower(): c for c in reader.fieldnames or []}
    if "address" not in columns and "email" not in columns and "phone" not in columns:
        raise ValidationFailed("the CSV needs an 'address' (or 'email' / 'phone') column")
    items, errors = [], []
    for row_number, row in enumerate(reader, start=2):

        def cell(name: str, row: dict[str | None, Any] = row) -> str:
            return str(row.get(columns.get(name, ""), "") or "").strip()

        address = cell("address") or cell("email") or cell("phone")
        channel = cell("channel").lower() or ("email" if "@" in address else "sms")
        try:
            item = SuppressionIn(
                channel=channel,
                address=address,
                reason=cell("reason") or "imported",
            )
            items.append(_checked(item))
        except (ValueError, ValidationFailed) as exc:
            errors.append({"row": row_number, "message": str(exc)[:200]})
        if len(items) > MAX_BATCH:
            raise ValidationFailed(f"at most {MAX_BATCH} rows per file")
    return items, errors


@router.delete("/suppressions/{suppression_id}")
async def remove_suppression(request: Request, suppression_id: str) -> Response:
    doc = await asyncio.to_thread(_consent(request).remove_suppression, suppression_id[:200])
    if doc is None:
        raise NotFound(f"no suppression {suppression_id[:200]!r}")
    await _announce(request, [doc], suppressed=False)
    return Response(status_code=204)


@router.get("/unsubscriptions")
async def unsubscriptions(
    request: Request, campaign_id: Annotated[str, Query(alias="campaignId", max_length=200)]
) -> Response:
    count = await asyncio.to_thread(_consent(request).unsubscriptions_of, campaign_id)
    return _json({"campaignId": campaign_id, "unsubscribed": count})


# -- erasure and export ------------------------------------------------------------------
@router.post("/customers/{customer_id}/erase", status_code=202)
async def erase_customer(request: Request, customer_id: str) -> Response:
    customer_id = customer_id[:128]
    now = datetime.now(UTC)
    await asyncio.to_thread(_consent(request).start_erasure, customer_id, now)
    await publish(request, [ErasureRequested(customer_id=customer_id, requested_at=now)])
    return _json({"customerId": customer_id, "status": "requested", "requestedAt": iso(now)}, 202)


ERASING_SERVICES = ("ingest", "delivery", "campaign", "ai")


@router.get("/customers/{customer_id}/erasure")
async def erasure_status(request: Request, customer_id: str) -> Response:
    doc = await asyncio.to_thread(_consent(request).erasure_of, customer_id[:128])
    if doc is None:
        raise NotFound("no erasure was requested for this customer")
    confirmations = doc.get("confirmations") or {}
    services = {
        name: (
            {
                "confirmed": True,
                "at": iso(confirmations[name].get("at")),
                "removed": confirmations[name].get("removed", {}),
            }
            if name in confirmations
            else {"confirmed": False}
        )
        for name in ERASING_SERVICES
    }
    return _json(
        {
            "requestedAt": iso(doc.get("requested_at")),
            "services": services,
            "complete": all(s["confirmed"] for s in services.values()),
        }
    )


@router.get("/customers/{customer_id}/export-record")
async def export_record(request: Request, customer_id: str) -> Response:
    """What ingest holds about the person (the gateway adds delivery's messages)."""
    store = request.app.state.store
    customer_id = customer_id[:128]
    doc = await asyncio.to_thread(store.get_customer, customer_id)
    if doc is None:
        raise NotFound(f"no customer {customer_id!r}")
    orders = await asyncio.to_thread(store.orders_of, customer_id, 100_000)
    consent = _consent(request)
    suppressions = []
    for channel, path in (("email", "email"), ("sms", "phone")):
        if doc.get(path):
            docs, _ = await asyncio.to_thread(
                consent.list_suppressions, channel, normalise(channel, str(doc[path])), 10, 0
            )
            suppressions += [suppression_out(d) for d in docs]
    return _json(
        {
            "customer": customer_out(doc),
            "orders": [order_out(o) for o in orders],
            "suppressions": suppressions,
        }
    )


# -- the person's own pages --------------------------------------------------------------
def _signer(request: Request) -> TokenSigner:
    return TokenSigner(unsubscribe_keys(request.app.state.settings.unsubscribe_keys))


def _bad_link() -> HTMLResponse:
    return HTMLResponse(bad_link_page(), status_code=400)


async def _verified(request: Request, token: str) -> tuple[Unsubscribe, dict[str, Any]] | None:
    try:
        link = _signer(request).verify(token)
    except InvalidToken:
        return None
    doc = await asyncio.to_thread(request.app.state.store.get_customer, link.customer_id)
    if doc is None:
        return None
    return link, doc


@public_router.get("/u/{token}")
async def unsubscribe_page(request: Request, token: str) -> HTMLResponse:
    found = await _verified(request, token)
    if found is None:
        return _bad_link()
    link, doc = found
    return HTMLResponse(link_page(link.channel, consent_view(doc, iso)))


@public_router.post("/u/{token}")
async def unsubscribe(request: Request, token: str) -> HTMLResponse:
    """``List-Unsubscribe=One-Click`` (RFC 8058, a mail client's button, or ours):
    unsubscribe the link's channel. Else the preference form: ``email`` and ``sms``
    each ``subscribed`` or ``unsubscribed``."""
    found = await _verified(request, token)
    if found is None:
        return _bad_link()
    link, doc = found
    form = await request.form()
    wanted: dict[str, str] = {}
    if form.get("List-Unsubscribe") == "One-Click":
        wanted[link.channel] = "unsubscribed"
    for channel in CHANNELS:
        value = form.get(channel)
        if value in ("subscribed", "unsubscribed"):
            wanted[channel] = str(value)
    if not wanted:
        return HTMLResponse(bad_link_page("Nothing was chosen."), status_code=400)
    now = datetime.now(UTC)
    events = [
        ConsentChanged(
            customer_id=link.customer_id,
            channel=channel,
            state=state,
            source="link",
            campaign_id=link.campaign_id,
            at=now,
        )
        for channel, state in wanted.items()
        if doc.get(state_path(channel), "unknown") != state or state == "unsubscribed"
    ]
    await publish(request, events)
    return HTMLResponse(done_page(wanted))
