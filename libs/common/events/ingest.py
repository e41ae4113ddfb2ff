"""Stream ``ingest``: customers and orders accepted by the ingestion API (chunked)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from libs.common.events.base import Event, split_records


class CustomerRecord(BaseModel):
    id: str
    name: str
    email: str | None = None
    phone: str | None = None
    total_spends: float = 0
    visits: int = 0
    last_visit: datetime | None = None
    created_at: datetime | None = None
    tags: list[str] = Field(default_factory=list)
    city: str | None = None
    timezone: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    # channel -> subscribed | unsubscribed | unknown; None: keep what is stored
    consent: dict[str, str] | None = None
    consent_source: str | None = None  # set by the worker: "import" or "api"


class OrderRecord(BaseModel):
    id: str
    customer_id: str
    amount: float
    items: list[str] = Field(default_factory=list)
    date: datetime


class CustomersUpserted(Event):
    """A chunk of customers (up to a few hundred); idempotent per customer id."""

    TYPE: ClassVar[str] = "customers.upserted.v1"
    STREAM: ClassVar[str] = "ingest"
    customers: list[CustomerRecord]
    import_id: str | None = None

    def split_for_partitions(self, count: int) -> list[tuple[int, Event]]:
        return split_records(self, "customers", lambda c: c.id, count)


class OrdersRecorded(Event):
    """A chunk of orders; idempotent per order id."""

    TYPE: ClassVar[str] = "orders.recorded.v1"
    STREAM: ClassVar[str] = "ingest"
    orders: list[OrderRecord]
    import_id: str | None = None

    def split_for_partitions(self, count: int) -> list[tuple[int, Event]]:
        # an order goes where its customer's upserts go: per-customer order holds
        return split_records(self, "orders", lambda o: o.customer_id, count)
