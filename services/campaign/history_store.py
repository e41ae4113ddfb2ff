"""What the dashboard reads, from this service's own collections (database
``<prefix>campaign``), and the history import's one write:

- ``campaigns``: their counters and launch times (services.campaign.store writes them);
- ``attribution_orders``: every order this service read from ``ingest``, with
  ``placed_ms`` and ``amount`` (services.campaign.attribution_store): revenue per day;
- ``journey_customers``: the journey worker's projection of customers from ``ingest``,
  with ``created_at`` (their ``createdAt``): new customers per day. A customer with no
  ``createdAt`` is not counted.

None of these reads another service's database: the orders and customers arrive on
the ``ingest`` stream, which this service consumes in its own groups.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import MongoClient
from pymongo.collection import Collection

from libs.common.mongo import count_matching, insert_new_reporting
from services.campaign.clock import from_ms, to_ms

Doc = dict[str, Any]

CAMPAIGN_FIELDS = {
    "name": 1,
    "status": 1,
    "channel": 1,
    "counts": 1,
    "unseen": 1,
    "audience_size": 1,
    "created_ms": 1,
    "launched_ms": 1,
    "attributed_revenue": 1,
    "imported": 1,
}


class HistoryStore:
    def __init__(self, client: MongoClient[Doc], database: str) -> None:
        db = client[database]
        self.campaigns: Collection[Doc] = db["campaigns"]
        self.orders: Collection[Doc] = db["attribution_orders"]
        self.customers: Collection[Doc] = db["journey_customers"]

    def campaign_rows(self) -> list[Doc]:
        """Every campaign, reduced to what the overview needs (campaigns are few)."""
        return list(self.campaigns.find({}, CAMPAIGN_FIELDS))

    def orders_between(self, start_ms: int, end_ms: int) -> Iterator[Doc]:
        yield from self.orders.find(
            {"placed_ms": {"$gte": start_ms, "$lt": end_ms}},
            {"placed_ms": 1, "amount": 1},
            batch_size=5000,
        )

    def customers_created_between(self, start_ms: int, end_ms: int) -> Iterator[int]:
        flt = {"created_at": {"$gte": from_ms(start_ms), "$lt": from_ms(end_ms)}}
        for doc in self.customers.find(flt, {"created_at": 1}, batch_size=5000):
            created = _as_utc(doc.get("created_at"))
            if created is not None:
                yield to_ms(created)

    def customers_created_before(self, start_ms: int) -> int:
        return count_matching(self.customers, {"created_at": {"$lt": from_ms(start_ms)}})

    def import_campaigns(self, docs: Sequence[Doc]) -> list[Any]:
        """Insert the campaigns not stored yet; returns the ids that were (untouched)."""
        return insert_new_reporting(self.campaigns, docs)


def _as_utc(value: object) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
