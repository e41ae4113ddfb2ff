"""HTTP routes of the ingest service (all under /api, behind the gateway)."""

from __future__ import annotations

import asyncio
import contextlib
import time
import unicodedata
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import numpy as np
import orjson
from fastapi import APIRouter, File, Form, Header, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import AwareDatetime

from libs.common.clock import epoch_ms, now_utc
from libs.common.errors import NotFound, PayloadTooLarge, PreviewNotReady, ValidationFailed
from libs.common.gc_pause import cyclic_gc_paused
from libs.common.rules import compile_rules, parse_rules, used_fields
from services.ingest import metrics
from services.ingest.audience.columns import Columns
from services.ingest.audience.listing import SORTS, list_page, search_query
from services.ingest.audience.pacing import PacingCounts, column_counts, database_counts
from services.ingest.audience.readmodel import PreviewModel
from services.ingest.consent import channel_of, state_path
from services.ingest.consent_store import ConsentStore
from services.ingest.exclusions import column_exclusions, with_exclusions
from services.ingest.idempotency import body_digest
from services.ingest.imports import parse_csv
from services.ingest.intake import KINDS, encode_partitioned, validate_body
from services.ingest.models import (
    CustomerIn,
    IngestAnswer,
    OrderIn,
    PreviewIn,
    openapi_body,
)
from services.ingest.orders import first_versions
from services.ingest.pacing_store import PacingPolicy, PacingStore
from services.ingest.store import CustomerStore, audience_filter
from services.ingest.views import customer_out, iso, order_out, preview_row

router = APIRouter(prefix="/api", tags=["ingest"])

MAX_BODY_BYTES = 64 * 1024 * 1024
# How long a request waits for the read model to apply the changes written before it
# (read-your-writes).
CATCH_UP_S = 1.5
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key")]


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


# -- ingestion -------------------------------------------------------------------------
async def _idempotent(
    request: Request,
    route: str,
    key: str | None,
    digest: Callable[[], Awaitable[str]],
    work: Callable[[], Awaitable[tuple[int, Any]]],
) -> Response:
    """Run ``work`` once per caller, route and Idempotency-Key; a retry (same body, as
    ``digest`` hashes it) gets the first answer again (services.ingest.idempotency)."""
    if not key:
        status, body = await work()
        return _json(body, status)
    keys = request.app.state.idempotency
    caller = request.headers.get("x-user-id") or "anonymous"
    body_hash = await digest()
    stored = await keys.claim(caller, route, key, body_hash)
    if stored is not None:
        return _json(stored[1], stored[0])
    try:
        status, body = await work()
    except BaseException:
        await keys.release(caller, route, key)
        raise
    await keys.save(caller, route, key, body_hash, status, body)
    return _json(body, status)


async def _ingest(request: Request, kind: str, batch: bool) -> Response:
    """The four POST routes, served directly (libs.common.direct_routes): they take the
    Request only and read their one header, Idempotency-Key, themselves."""
    route = f"{kind}{'/batch' if batch else ''}"
    key = request.headers.get("idempotency-key")

    async def digest() -> str:
        return body_digest(await request.body())

    return await _idempotent(request, route, key, digest, lambda: _accept(request, kind, batch))


async def _accept(request: Request, kind: str, batch: bool) -> tuple[int, dict[str, Any]]:
    settings = request.app.state.settings
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"request body over {MAX_BODY_BYTES} bytes")
    record_kind = KINDS[kind]
    with cyclic_gc_paused():
        valid, rejected = validate_body(record_kind, raw, batch=batch, max_batch=settings.max_batch)
        accepted = len(valid)
    rejected_json = [r.model_dump(exclude_none=True) for r in rejected]
    metrics.records(kind, "rejected").inc(len(rejected))
    if not accepted:
        details = rejected_json if batch else rejected_json[0]["errors"]
        raise ValidationFailed(f"no valid {kind} in the request", details)
    duplicates: list[dict[str, str]] = []
    if kind == "orders":
        valid, duplicates = await _first_versions(request, valid)
        accepted = len(valid)
        metrics.records(kind, "duplicate").inc(len(duplicates))
    metrics.records(kind, "accepted").inc(accepted)
    with cyclic_gc_paused():  # the records die at the end of the block, unscanned
        parts = encode_partitioned(
            record_kind, valid, settings.chunk_size, request.app.state.layout
        )
        del valid
    appender = request.app.state.appender
    entry_ids = await appender.append_many(parts, settings.stream_maxlen)
    body: dict[str, Any] = {"accepted": accepted, "entryIds": entry_ids}
    if batch:
        body["rejected"] = rejected_json
    if duplicates:
        body["duplicates"] = duplicates
    return 202, body


async def _first_versions(
    request: Request, valid: list[Any]
) -> tuple[list[Any], list[dict[str, str]]]:
    """Orders: an id's first version wins (services.ingest.orders)."""
    store = request.app.state.store
    recorded = await asyncio.to_thread(store.recorded_orders, [r["id"] for r in valid])
    return first_versions(valid, recorded)


@router.post(
    "/customers",
    status_code=202,
    response_model=IngestAnswer,
    response_model_exclude_none=True,
    openapi_extra=openapi_body(CustomerIn),
)
async def ingest_customer(request: Request) -> Response:
    return await _ingest(request, "customers", False)


@router.post(
    "/customers/batch",
    status_code=202,
    response_model=IngestAnswer,
    response_model_exclude_none=True,
    openapi_extra=openapi_body(CustomerIn, "customers"),
)
async def ingest_customers(request: Request) -> Response:
    return await _ingest(request, "customers", True)


@router.post(
    "/orders",
    status_code=202,
    response_model=IngestAnswer,
    response_model_exclude_none=True,
    openapi_extra=openapi_body(OrderIn),
)
async def ingest_order(request: Request) -> Response:
    return await _ingest(request, "orders", False)


@router.post(
    "/orders/batch",
    status_code=202,
    response_model=IngestAnswer,
    response_model_exclude_none=True,
    openapi_extra=openapi_body(OrderIn, "orders"),
)
async def ingest_orders(request: Request) -> Response:
    return await _ingest(request, "orders", True)


# -- CSV import ------------------------------------------------------------------------
@router.post("/customers/import", status_code=202)
async def import_csv(
    request: Request,
    file: Annotated[UploadFile, File()],
    kind: Annotated[str, Form()] = "customers",
    idempotency_key: IdemKey = None,
) -> Response:

    async def digest() -> str:
        content = await file.read(request.app.state.settings.import_max_bytes + 1)
        await file.seek(0)
        return body_digest(kind.encode(), content)

    return await _idempotent(
        request, "import", idempotency_key, digest, lambda: _import(request, file, kind)
    )


async def _import(request: Request, file: UploadFile, kind: str) -> tuple[int, Any]:
    state = request.app.state
    settings = state.settings
    content = await file.read(settings.import_max_bytes + 1)
    if len(content) > settings.import_max_bytes:
        raise PayloadTooLarge(f"the file is over {settings.import_max_bytes} bytes")
    parsed = await asyncio.to_thread(parse_csv, content, kind, settings.import_max_errors)
    import_id = uuid.uuid4().hex
    parts = encode_partitioned(
        KINDS[kind], parsed.valid, settings.chunk_size, state.layout, import_id
    )
    entries = [fields for _, chunk in parts for fields in chunk]
    job = {
        "_id": import_id,
        "kind": kind,
        "filename": (file.filename or "")[:200] or "upload.csv",
        "status": "processing" if entries else "failed",
        "total_rows": parsed.total_rows,
        "accepted": len(parsed.valid),
        "rejected": parsed.rejected,
        "errors": parsed.errors,
        "entries": len(entries),
        "created_at": datetime.now(UTC),
    }
    if not job["errors"]:
        del job["errors"]
    # the job exists before its entries, so progress always has a job to count into
    await asyncio.to_thread(state.store.create_import, job)
    try:
        await state.appender.append_many(parts, settings.stream_maxlen)
    except BaseException:
        await asyncio.to_thread(state.store.fail_import, import_id, "could not queue the rows")
        raise
    return 202, {"importId": import_id}


@router.get("/imports/{import_id}")
async def get_import(request: Request, import_id: str) -> Response:
    found = await asyncio.to_thread(request.app.state.store.get_import, import_id[:64])
    if found is None:
        raise NotFound(f"no import {import_id[:64]!r}")
    job, entries_done, records_done = found
    status = job["status"]
    if status == "processing" and entries_done >= job["entries"]:
        status = "completed"
    return _json(
        {
            "id": job["_id"],
            "kind": job["kind"],
            "filename": job.get("filename"),
            "status": status,
            "totalRows": job["total_rows"],
            "accepted": job["accepted"],
            "rejected": job["rejected"],
            "processed": records_done,
            "errors": job.get("errors", []),
            **({"reason": job["reason"]} if "reason" in job else {}),
            "createdAt": iso(job.get("created_at")),
        }
    )


# -- reads -----------------------------------------------------------------------------
@router.get("/customers")
async def list_customers(
    request: Request,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=200)] = 25,
    sort: Annotated[str, Query(max_length=40)] = "-totalSpends",
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    name = sort.lstrip("-")
    if name not in SORTS:
        raise ValidationFailed(f"sort must be one of {sorted(SORTS)} (prefix - for descending)")
    path, descending = SORTS[name], sort.startswith("-")
    needle = unicodedata.normalize("NFC", q.strip()) if q else ""  # stored text is NFC
    skip = (page - 1) * page_size
    store = request.app.state.store
    columns = await _current_columns(request)
    if columns is not None:
        # the model orders and counts; the database only fetches the page by _id
        ids, total = list_page(
            columns,
            path=path,
            descending=descending,
            needle=needle,
            skip=skip,
            limit=page_size,
        )
        docs = await asyncio.to_thread(store.customers_in_order, ids) if ids else []
    else:
        query = search_query(needle)
        order = [(path, -1 if descending else 1)]
        docs, total = await asyncio.to_thread(
            lambda: store.list_customers(skip=skip, limit=page_size, sort=order, query=query)
        )
    items = [customer_out(d) for d in docs]
    return _json({"items": items, "total": total, "page": page, "pageSize": page_size})


@router.get("/customers/stats")
async def customer_stats(request: Request) -> Response:
    store = request.app.state.store
    model = request.app.state.preview
    orders = asyncio.create_task(asyncio.to_thread(store.order_stats))
    # One source per process, so the count never goes down: once loaded, the model
    # answers even if a notice is still on its way (it waits a moment for them, for
    # read-your-writes). The database is ahead of the notices while a worker writes, so
    # falling back to it when the model was slow, then answering from the model again,
    # read 50,000 and then 39,000 (docs/architecture.md, "One customer count").
    # Counting a million documents also takes the embedded server ~27 s.
    columns = None
    if model is not None:
        with contextlib.suppress(PreviewNotReady):  # not loaded: the database counts
            columns = await model.current(CATCH_UP_S, stale_ok=True)
    if columns is not None:
        customers = int(np.count_nonzero(columns.listed.data[: columns.n]))
    else:
        customers = await asyncio.to_thread(store.count_listed)
    return _json({"customers": customers, **await orders})


@router.get("/customers/preview")
async def preview_get(
    request: Request,
    rules: Annotated[str, Query(max_length=20_000)],
    sample_size: Annotated[int, Query(alias="sampleSize", ge=0, le=100)] = 20,
    channel: Literal["email", "sms"] | None = None,
    send_at: Annotated[AwareDatetime | None, Query(alias="sendAt")] = None,
) -> Response:
    try:
        raw = orjson.loads(rules)
    except orjson.JSONDecodeError:
        raise ValidationFailed("rules must be JSON", code="invalid_rules") from None
    return await _preview(request, raw, sample_size, channel, send_at)


@router.post("/customers/preview")
async def preview_post(request: Request, body: PreviewIn) -> Response:
    return await _preview(request, body.rules, body.sample_size, body.channel, body.send_at)


async def _current_columns(request: Request) -> Columns | None:
    """The read model's columns if they hold every write the database holds; None if
    they do not but the database is small enough to ask instead (exact, slower); else
    PreviewNotReady (503 + Retry-After saying how far the model has got)."""
    model: PreviewModel | None = request.app.state.preview
    if model is None:
        return None
    try:
        return await model.current(CATCH_UP_S)
    except PreviewNotReady:
        if model.can_scan():
            return None
        raise


async def _preview(
    request: Request,
    raw: Any,
    sample_size: int,
    channel: str | None = None,
    send_at: datetime | None = None,
) -> Response:
    return _json(await _preview_body(request, raw, sample_size, channel, send_at))


async def _preview_body(
    request: Request,
    raw: Any,
    sample_size: int,
    requested: str | None = None,
    send_at: datetime | None = None,
) -> dict[str, Any]:
    group = parse_rules(raw)
    fields = [f for f in used_fields(group) if f not in ("name", "email")]
    now = now_utc()
    leaves = max(send_at, now) if send_at is not None else now
    started = time.perf_counter()
    channel = channel_of(requested)
    store = request.app.state.store
    pacing_store = PacingStore(store.db)
    suppressed, policy = await asyncio.gather(
        asyncio.to_thread(ConsentStore(store.db).suppressed_addresses, channel),
        asyncio.to_thread(pacing_store.policy),
    )
    columns = await _current_columns(request)
    if columns is not None:
        mask, excluded = column_exclusions(
            columns, columns.audience(group, now), channel, suppressed
        )
        count = int(np.count_nonzero(mask))
        sample = columns.sample(mask, sample_size, fields)
        paced = column_counts(columns, mask, policy, channel, leaves)
        source = "columns"
    else:
        base = audience_filter(compile_rules(group, now))
        flt = with_exclusions(base, channel, suppressed)
        unsubscribed = {"$and": [base, {state_path(channel): "unsubscribed"}]}
        everyone: int
        left_out: int
        docs: list[dict[str, Any]]
        everyone, count, left_out, docs = await asyncio.gather(
            asyncio.to_thread(store.count, base),
            asyncio.to_thread(store.count, flt),
            asyncio.to_thread(store.count, unsubscribed),
            asyncio.to_thread(store.sample, flt, sample_size),
        )
        excluded = {"unsubscribed": left_out, "suppressed": everyone - count - left_out}
        sample = [preview_row(d, fields) for d in docs]
        paced = await asyncio.to_thread(_database_pacing, store, flt, policy, channel, leaves)
        source = "database"
    metrics.PREVIEW_SECONDS.labels(source).observe(time.perf_counter() - started)
    return {
        "count": count,
        "sample": sample,
        "fields": used_fields(group),
        "source": source,
        "channel": channel,
        "excluded": excluded,
        # delivery's quiet hours and frequency cap at the send time (issue #24)
        "deferred": paced.deferred,
        "capped": paced.capped,
    }


def _database_pacing(
    store: CustomerStore,
    flt: dict[str, Any],
    policy: PacingPolicy | None,
    channel: str,
    at: datetime,
) -> PacingCounts:
    if policy is None:
        return PacingCounts()
    zones = store.customers.distinct("timezone", flt) if policy.quiet is not None else []
    capped_ids: list[str] = []
    if policy.cap is not None:
        capped = PacingStore(store.db).capped_after(epoch_ms(at), channel)
        capped_ids = [d["customer_id"] for d in capped]
    return database_counts(store.count, zones, flt, policy, capped_ids, at)


@router.get("/customers/{customer_id}")
async def get_customer(request: Request, customer_id: str) -> Response:
    store = request.app.state.store
    doc = await asyncio.to_thread(store.get_customer, customer_id[:128])
    if doc is None:
        raise NotFound(f"no customer {customer_id[:128]!r}")
    orders = await asyncio.to_thread(store.orders_of, customer_id[:128])
    return _json({**customer_out(doc), "orders": [order_out(o) for o in orders]})
