"""Helpers of the campaign tests (imported by the test modules)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import redis

from libs.common.events import Event, decode
from services.campaign.worker import Worker


def read_stream(client: redis.Redis, stream: str) -> list[Event]:
    return [decode(i.decode(), f) for i, f in client.xrange(stream)]  # type: ignore[union-attr]


def entries_of(client: redis.Redis, stream: str, type_name: str) -> list[Event]:
    return [e for e in read_stream(client, stream) if type_name == e.TYPE]


def drain(worker: Worker) -> int:
    """Run both consumers until nothing is left (deterministic)."""
    return sum(consumer.run(burst=True) for consumer in worker.consumers)


def at(second: int = 0) -> datetime:
    return datetime(2026, 1, 5, 10, 0, second, tzinfo=UTC)


def rules_over(amount: int) -> dict[str, Any]:
    return {
        "operator": "AND",
        "conditions": [{"field": "totalSpends", "operator": ">", "value": str(amount)}],
    }
