"""The campaign service's own small view of customers, fed by the ``ingest`` stream.

A customer document here holds what journey triggers, branches and templates read,
under the store field names the rule engine uses (``total_spends``, ``order_count``,
``last_order_at``...). Order aggregates are recounted from this service's copy of the
orders (``journey_orders``), so a redelivered entry counts nothing twice. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from libs.common.events import CustomerRecord, OrderRecord

Doc = dict[str, Any]
ORDER_FIELDS = ("order_count", "order_spends", "last_order_at", "total_spends")


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def customer_doc(record: CustomerRecord, old: Doc | None) -> Doc:
    doc: Doc = {
        "_id": record.id,
        "name": record.name,
        "email": record.email,
        "phone": record.phone,
        "city": record.city,
        "timezone": record.timezone,
        "tags": record.tags or None,
        "visits": record.visits,
        "last_visit": _utc(record.last_visit),
        "created_at": _utc(record.created_at),
        "base_spends": round(record.total_spends, 2),
        "known": True,
    }
    for name in ORDER_FIELDS:
        if old and name in old:
            doc[name] = old[name]
    doc["total_spends"] = round(doc["base_spends"] + float(doc.get("order_spends", 0)), 2)
    return {k: v for k, v in doc.items() if v is not None}


def order_doc(order: OrderRecord) -> Doc:
    return {
        "_id": order.id,
        "customer_id": order.customer_id,
        "amount": order.amount,
        "date": _utc(order.date),
    }


def with_orders(customer_id: str, old: Doc | None, orders: Sequence[Doc]) -> Doc:
    """The customer document with its order aggregates recounted from all its orders."""
    doc: Doc = dict(old) if old else {"_id": customer_id, "base_spends": 0.0, "known": False}
    spends = round(sum(float(o["amount"]) for o in orders), 2)
    doc["order_count"] = len(orders)
    doc["order_spends"] = spends
    doc["total_spends"] = round(float(doc.get("base_spends", 0)) + spends, 2)
    dates = [_utc(o["date"]) for o in orders if o.get("date") is not None]
    if dates:
        doc["last_order_at"] = max(d for d in dates if d is not None)
    return doc
