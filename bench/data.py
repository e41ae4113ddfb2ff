"""Synthetic customers in the three shapes the benchmarks need.

- ``api_customer``: the camelCase body of POST /api/customers (what a client sends);
- ``stream_record``: the snake_case record the ingest API puts in a stream entry;
- ``stored_customer``: the ingest service's customer document (services/ingest/store.py
  shape: no nulls, no empty lists), for loading a large audience straight into the DB.

Everything is a pure function of the index (and a fixed epoch), so every run of the
harness produces the same data.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

CITIES = (
    "Mumbai",
    "Delhi",
    "Bengaluru",
    "Chennai",
    "Kolkata",
    "Pune",
    "Hyderabad",
    "Jaipur",
    "Lucknow",
    "Ahmedabad",
)
TAGS = ("vip", "newsletter", "app", "store", "wholesale")
CUSTOMERS_TYPE = "customers.upserted.v1"  # libs.common.events.CustomersUpserted.TYPE
# Tag carried by the customers loaded straight into the DB; campaign rules select on it
# so customers created by the ingestion benchmarks never join a benchmark audience.
LOADED_TAG = "bench-loaded"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def _spend(i: int) -> float:
    return round((i * 7919) % 20_000 + (i % 100) / 100, 2)


def _last_visit(i: int) -> datetime:
    return EPOCH - timedelta(days=(i * 31) % 365, minutes=i % 1440)


def api_customer(i: int, prefix: str = "c") -> dict[str, Any]:
    cid = f"{prefix}{i:08d}"
    return {
        "id": cid,
        "name": f"Customer {i}",
        "email": f"{cid}@example.com",
        "totalSpends": _spend(i),
        "visits": i % 50,
        "lastVisit": _last_visit(i).isoformat(),
        "city": CITIES[i % len(CITIES)],
        "tags": [TAGS[i % len(TAGS)]],
    }


def stream_record(i: int, prefix: str = "c") -> dict[str, Any]:
    """What services/ingest/models.CustomerIn.record() makes of ``api_customer(i)``."""
    c = api_customer(i, prefix)
    return {
        "id": c["id"],
        "name": c["name"],
        "email": c["email"],
        "total_spends": c["totalSpends"],
        "visits": c["visits"],
        "last_visit": c["lastVisit"],
        "city": c["city"],
        "tags": c["tags"],
    }


def stream_entry(records: list[dict[str, Any]]) -> dict[str, bytes]:
    """One ``customers.upserted.v1`` entry in the libs.common.events envelope."""
    return {"type": CUSTOMERS_TYPE.encode(), "data": orjson.dumps({"customers": records})}


def upsert_fields(i: int, prefix: str = "c") -> dict[str, Any]:
    """The document the ingest worker writes for ``stream_record(i)`` (without ``_id``)."""
    r = stream_record(i, prefix)
    last_visit = _last_visit(i)
    return {
        "name": r["name"],
        "email": r["email"],
        "visits": r["visits"],
        "base_spends": r["total_spends"],
        "base_last_visit": last_visit,
        "city": r["city"],
        "tags": r["tags"],
        "contactable": True,
        "created_at": datetime.now(UTC),
        "order_count": 0,
        "order_spends": 0.0,
        "total_spends": r["total_spends"],
        "last_visit": last_visit,
        "version": uuid.uuid4().hex,
        "updated_at": datetime.now(UTC),
    }


def stored_customer(i: int, prefix: str = "m") -> dict[str, Any]:
    """A complete customer document as the ingest worker would have left it.

    ``visits`` is the index so that ``visits < N`` (with the loaded tag) selects exactly
    N customers for a campaign of that size.
    """
    cid = f"{prefix}{i:08d}"
    last_visit = _last_visit(i)
    spend = _spend(i)
    return {
        "_id": cid,
        "name": f"Customer {i}",
        "email": f"{cid}@example.com",
        "visits": i,
        "base_spends": spend,
        "total_spends": spend,
        "order_spends": 0.0,
        "order_count": 0,
        "base_last_visit": last_visit,
        "last_visit": last_visit,
        "city": CITIES[i % len(CITIES)],
        "tags": [TAGS[i % len(TAGS)], LOADED_TAG],
        "contactable": True,
        "version": f"{i:032x}",
        "created_at": EPOCH - timedelta(days=400),
        "updated_at": EPOCH,
    }


def preview_rules() -> dict[str, Any]:
    """The 3-condition audience rule of the preview benchmark."""
    return {
        "operator": "AND",
        "conditions": [
            {"field": "totalSpends", "operator": ">", "value": 5000},
            {"field": "lastVisit", "operator": "inactive_days", "value": 90},
            {"field": "city", "operator": "in", "value": ["Mumbai", "Pune", "Delhi"]},
        ],
    }


def campaign_rules(size: int) -> dict[str, Any]:
    """Exactly the first ``size`` loaded customers."""
    return {
        "operator": "AND",
        "conditions": [
            {"field": "tags", "operator": "contains", "value": LOADED_TAG},
            {"field": "visits", "operator": "<", "value": size},
        ],
    }
