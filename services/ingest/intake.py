"""The ingestion hot path: validate a batch, chunk it into stream entries, queue them.

A batch is validated in one pass over the whole list (pydantic-core, fast); only when
that fails is it validated item by item, so invalid records can be reported by index
while the valid ones are still queued.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import orjson
import redis.asyncio as aioredis
from pydantic import BaseModel, TypeAdapter, ValidationError

from libs.common.events import CustomersUpserted, OrdersRecorded
from libs.common.logging import current_trace_id
from services.ingest.models import RejectedItem, error_list

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


def encode_chunks(
    kind: str,
    valid: Sequence[BaseModel],
    size: int,
    import_id: str | None = None,
) -> list[dict[str, bytes]]:
    """Stream entries of up to ``size`` records, in the libs.common.events envelope
    (type + data + trace) of CustomersUpserted / OrdersRecorded.

    Each chunk is serialised in one pydantic-core call straight to JSON; building the
    event models would validate thousands of already valid records a second time.
    A unit test checks that libs.common.events.decode parses what this produces.
    """
    if not valid:
        return []
    event = CustomersUpserted if kind == "customers" else OrdersRecorded
    adapter = _adapter(type(valid[0]))
    tail = b"}" if not import_id else b',"import_id":' + orjson.dumps(import_id) + b"}"
    head = b'{"' + kind.encode() + b'":'
    trace = current_trace_id()
    entries = []
    for start in range(0, len(valid), size):
        records = adapter.dump_json(list(valid[start : start + size]), exclude_none=True)
        fields = {"type": event.TYPE.encode(), "data": head + records + tail}
        if trace:
            fields["trace"] = trace.encode()
        entries.append(fields)
    return entries


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
