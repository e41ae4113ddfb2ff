"""The ingestion hot path: validate a body and chunk its records into stream entries.

A request body is validated in one pydantic-core pass straight from its bytes into
plain dicts (services.ingest.models); only when that fails is it parsed and validated
item by item, so invalid records can be reported by index while the valid ones are
still queued.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from libs.common.errors import ValidationFailed
from libs.common.events import CustomersUpserted, OrdersRecorded
from libs.common.logging import current_trace_id
from libs.common.streams import INGEST, StreamLayout
from libs.common.streams.names import partition_of
from services.ingest.models import (
    CustomerIn,
    CustomersBatch,
    OrderIn,
    OrdersBatch,
    Problems,
    RejectedItem,
    error_list,
    finish_customer,
    finish_order,
    latest_allowed,
)

Record = dict[str, Any]


@dataclass
class RecordKind:
    """What the API accepts under one batch key: ``customers`` or ``orders``."""

    name: str
    event_type: str
    record: type
    batch: type
    finish: Callable[[Any, datetime], Problems]
    one: TypeAdapter[Any] = field(init=False)
    many: TypeAdapter[Any] = field(init=False)

    def __post_init__(self) -> None:
        self.one = TypeAdapter(self.record)
        self.many = TypeAdapter(self.batch)


KINDS = {
    "customers": RecordKind(
        "customers", CustomersUpserted.TYPE, CustomerIn, CustomersBatch, finish_customer
    ),
    "orders": RecordKind("orders", OrdersRecorded.TYPE, OrderIn, OrdersBatch, finish_order),
}


def validate_body(
    kind: RecordKind, raw: bytes, *, batch: bool, max_batch: int
) -> tuple[list[Record], list[RejectedItem]]:
    """Valid records of a request body in order, and the rejected ones by index."""
    try:
        parsed = (kind.many if batch else kind.one).validate_json(raw)
    except ValidationError:
        return validate_items(kind, _items(kind, raw, batch, max_batch))
    records: list[Record] = parsed[kind.name] if batch else [parsed]
    if len(records) > max_batch:
        raise ValidationFailed(f"at most {max_batch} {kind.name} per request")
    return _finish(kind, records, list(range(len(records))), [])


def validate_items(
    kind: RecordKind, items: Sequence[Any]
) -> tuple[list[Record], list[RejectedItem]]:
    """Item by item (CSV rows, or a body that failed as a whole)."""
    records: list[Record] = []
    indexes: list[int] = []
    rejected: list[RejectedItem] = []
    for index, item in enumerate(items):
        try:
            records.append(kind.one.validate_python(item))
            indexes.append(index)
        except ValidationError as exc:
            rejected.append(_rejected(index, item, error_list(exc)))
    return _finish(kind, records, indexes, rejected)


def _items(kind: RecordKind, raw: bytes, batch: bool, max_batch: int) -> list[Any]:
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValidationFailed(f"the body is not valid JSON: {exc}") from None
    if not batch:
        return [payload]
    if not isinstance(payload, dict) or set(payload) != {kind.name}:
        raise ValidationFailed(f'the body must be {{"{kind.name}": [...]}}')
    items = payload[kind.name]
    if not isinstance(items, list) or not items:
        raise ValidationFailed(f"{kind.name} must be a non-empty list")
    if len(items) > max_batch:
        raise ValidationFailed(f"at most {max_batch} {kind.name} per request")
    return items


def _finish(
    kind: RecordKind, records: list[Record], indexes: list[int], rejected: list[RejectedItem]
) -> tuple[list[Record], list[RejectedItem]]:
    latest = latest_allowed()
    valid: list[Record] = []
    late: list[RejectedItem] = []
    for index, record in zip(indexes, records, strict=True):
        problems = kind.finish(record, latest)
        if problems:
            late.append(_rejected(index, record, problems))
        else:
            valid.append(record)
    if late:
        rejected = sorted(rejected + late, key=lambda r: r.index)
    return valid, rejected


def _rejected(index: int, item: Any, problems: Problems) -> RejectedItem:
    item_id = item.get("id") if isinstance(item, dict) else None
    return RejectedItem(
        index=index, id=str(item_id)[:128] if item_id is not None else None, errors=problems
    )


def encode_chunks(
    kind: RecordKind,
    valid: Sequence[Record],
    size: int,
    import_id: str | None = None,
) -> list[dict[str, bytes]]:
    """Stream entries of up to ``size`` records, in the libs.common.events envelope
    (type + data + trace) of CustomersUpserted / OrdersRecorded.

    Each chunk is serialised by orjson in one call; building the event models would
    validate thousands of already valid records a second time. A unit test checks that
    libs.common.events.decode parses what this produces.
    """
    tail = b"}" if not import_id else b',"import_id":' + orjson.dumps(import_id) + b"}"
    head = b'{"' + kind.name.encode() + b'":'
    trace = current_trace_id()
    entries = []
    for start in range(0, len(valid), size):
        records = orjson.dumps(valid[start : start + size])
        fields = {"type": kind.event_type.encode(), "data": head + records + tail}
        if trace:
            fields["trace"] = trace.encode()
        entries.append(fields)
    return entries


# the record field that names its customer: the key of per-customer order
_PARTITION_KEY = {"customers": "id", "orders": "customer_id"}


def encode_partitioned(
    kind: RecordKind,
    valid: Sequence[Record],
    size: int,
    layout: StreamLayout,
    import_id: str | None = None,
) -> list[tuple[str, list[dict[str, bytes]]]]:
    """``encode_chunks`` per partition of ``ingest``: a customer's records (and its
    orders) always go to the same partition, so they are handled in order."""
    names = layout.partitions(INGEST)
    if len(names) == 1:
        return [(names[0], encode_chunks(kind, valid, size, import_id))]
    key = _PARTITION_KEY[kind.name]
    groups: dict[int, list[Record]] = {}
    for record in valid:
        groups.setdefault(partition_of(str(record[key]), len(names)), []).append(record)
    return [
        (names[i], encode_chunks(kind, records, size, import_id))
        for i, records in sorted(groups.items())
    ]
