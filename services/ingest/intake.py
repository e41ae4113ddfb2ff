"""The ingestion hot path: validate a batch, chunk it into stream entries, queue them.

A batch is validated in one pass over the whole list (pydantic-core, fast); only when
that fails is it validated item by item, so invalid records can be reported by index
while the valid ones are still queued.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
import redis.asyncio as aioredis
from pydantic import BaseModel, TypeAdapter, ValidationError

from libs.common.events import CustomersUpserted, OrdersRecorded
from libs.common.logging import current_trace_id
from services.ingest.models import CustomerIn, OrderIn, RejectedItem, error_list

M = TypeVar("M", bound=BaseModel)

_ADAPTERS: dict[type[BaseModel], TypeAdapter[Any]] = {}


def _adapter(model: type[M]) -> TypeAdapter[list[M]]:
    if model not in _ADAPTERS:
        _ADAPTERS[model] = TypeAdapter(list[model])  # type: ignore[valid-type]
    return _ADAPTERS[model]


def validate_batch(model: type[M], items: Sequence[Any]) -> tuple[list[M], list[RejectedItem]]:
    """Valid models in order, and the rejected items with their index and reasons."""
    try:
        return _adapter(model).validate_python(items), []
    except ValidationError:
        pass
    valid: list[M] = []
    rejected: list[RejectedItem] = []
    for index, item in enumerate(items):
        try:
            valid.append(model.model_validate(item))
        except ValidationError as exc:
            item_id = item.get("id") if isinstance(item, dict) else None
            rejected.append(
                RejectedItem(
                    index=index,
                    id=str(item_id)[:128] if item_id is not None else None,
                    errors=error_list(exc),
                )
            )
    return valid, rejected


def customer_records(customers: Sequence[CustomerIn]) -> list[dict[str, Any]]:
    return [c.record() for c in customers]


def order_records(orders: Sequence[OrderIn]) -> list[dict[str, Any]]:
    received_at = datetime.now(UTC).isoformat()
    return [o.record(received_at) for o in orders]


def entry_fields(
    kind: str, records: Sequence[dict[str, Any]], import_id: str | None = None
) -> dict[str, bytes]:
    """One stream entry in the libs.common.events envelope (type + data + trace).

    Written directly rather than through the event models: re-validating thousands of
    already validated records would double the cost of the hot path. A unit test
    checks that libs.common.events.decode parses what this produces.
    """
    event = CustomersUpserted if kind == "customers" else OrdersRecorded
    data: dict[str, Any] = {kind: records}
    if import_id:
        data["import_id"] = import_id
    fields = {"type": event.TYPE.encode(), "data": orjson.dumps(data)}
    trace = current_trace_id()
    if trace:
        fields["trace"] = trace.encode()
    return fields


def chunked_entries(
    kind: str, records: Sequence[dict[str, Any]], size: int, import_id: str | None = None
) -> list[dict[str, bytes]]:
    return [
        entry_fields(kind, records[start : start + size], import_id)
        for start in range(0, len(records), size)
    ]


async def queue_entries(
    client: aioredis.Redis, stream: str, entries: Sequence[dict[str, bytes]], maxlen: int
) -> list[str]:
    """All entries in one pipelined round trip."""
    if not entries:
        return []
    pipe = client.pipeline(transaction=False)
    for fields in entries:
        pipe.xadd(stream, fields, maxlen=maxlen, approximate=True)  # type: ignore[arg-type]
    ids = await pipe.execute()
    return [i.decode() if isinstance(i, bytes) else str(i) for i in ids]
