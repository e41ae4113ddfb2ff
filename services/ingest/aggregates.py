"""A customer document from its latest record and its orders (pure).

The record's own spend and last visit are kept as ``base_spends`` /
``base_last_visit``; ``total_spends``, ``order_count``, ``order_spends``,
``last_order_at`` and ``last_visit`` are derived from them and the order aggregates.
The order aggregates are recounted from the full list of the customer's orders whenever
orders are recorded, so an order counts exactly once however often its entry is
delivered and whichever arrives first, order or customer; a customer record alone
carries the stored document's order aggregates forward (``orders=None``), which the
store's version-guarded writes keep exact (see services.ingest.store). A customer known
only from orders is a ``placeholder`` holding just the aggregates. ``contactable`` marks
real customers with an email or a phone: the audience. None and [] are never stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from libs.common.events import CustomerRecord
from services.ingest.consent import consent_fields

Doc = dict[str, Any]

DERIVED = ("total_spends", "order_spends", "order_count", "last_order_at", "last_visit")
# bookkeeping that does not make a document different
VOLATILE = ("version", "updated_at")


def version_of(doc: Doc | None) -> int:
    """A document's write count: +1 per write; missing or legacy (random hex) counts 0."""
    version = doc.get("version") if doc else None
    return version if isinstance(version, int) and not isinstance(version, bool) else 0


def utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def record_fields(record: CustomerRecord) -> Doc:
    doc: Doc = {
        "name": record.name,
        "visits": record.visits,
        "base_spends": round(record.total_spends, 2),
    }
    optional = {
        "email": record.email,
        "phone": record.phone,
        "city": record.city,
        "timezone": record.timezone,
        "tags": record.tags or None,
        "attributes": record.attributes or None,
        "base_last_visit": utc(record.last_visit),
        "created_at": utc(record.created_at),
    }
    doc.update({k: v for k, v in optional.items() if v is not None})
    if record.email or record.phone:
        doc["contactable"] = True
    return doc


def derive(base: Doc, orders: Sequence[Doc]) -> Doc:
    """Aggregates recounted from every order of the customer."""
    order_spends = round(sum(float(o["amount"]) for o in orders), 2)
    last_order = max((d for d in (utc(o.get("date")) for o in orders) if d), default=None)
    return _with_orders(base, len(orders), order_spends, last_order)


def carry(base: Doc, old: Doc | None) -> Doc:
    """Aggregates carried from the stored document (none stored: no orders yet)."""
    if old is None:
        return _with_orders(base, 0, 0.0, None)
    return _with_orders(
        base,
        int(old.get("order_count", 0)),
        round(float(old.get("order_spends", 0)), 2),
        utc(old.get("last_order_at")),
    )


def _with_orders(base: Doc, count: int, order_spends: float, last_order: datetime | None) -> Doc:
    out: Doc = {
        "order_count": count,
        "order_spends": order_spends,
        "total_spends": round(float(base.get("base_spends", 0)) + order_spends, 2),
    }
    if last_order is not None:
        out["last_order_at"] = last_order
    visits = [d for d in (utc(base.get("base_last_visit")), last_order) if d is not None]
    if visits:
        out["last_visit"] = max(visits)
    return out


def build_customer(
    old: Doc | None, record: CustomerRecord | None, orders: Sequence[Doc] | None, now: datetime
) -> Doc | None:
    """The customer's document after this write (None: nothing to store).

    ``orders``: every order of the customer (a recount), or None to carry the order
    aggregates of ``old`` forward (only with a record).
    """
    if record is not None:
        base = record_fields(record)
        base.update(consent_fields(record.consent, record.consent_source or "api", old, now))
        if "created_at" not in base:
            base["created_at"] = utc(old.get("created_at")) if old and "created_at" in old else now
    elif old is not None and not old.get("placeholder"):
        base = {k: v for k, v in old.items() if k not in (*DERIVED, *VOLATILE, "_id")}
    elif orders:
        base = {"placeholder": True}
    else:
        return None
    if orders is None:
        return {**base, **carry(base, old)}
    return {**base, **derive(base, orders)}


def same_content(old: Doc | None, new: Doc) -> bool:
    if old is None:
        return False
    strip = ("_id", *VOLATILE)
    a = {k: (utc(v) if isinstance(v, datetime) else v) for k, v in old.items() if k not in strip}
    return a == {k: v for k, v in new.items() if k not in strip}
