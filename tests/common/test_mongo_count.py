"""count_matching: the same answer as reading the matching documents."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from libs.common.mongo import count_matching
from libs.common.testing.pytest_plugin import CleanEnv

pytestmark = pytest.mark.integration

FILTERS: list[dict[str, Any]] = [
    {},
    {"campaign_id": "c1"},
    {"campaign_id": "c1", "status": "sent"},
    {"campaign_id": "nobody"},
    {"_id": {"$gte": "c1:010", "$lt": "c1:020"}},
    {"n": {"$in": [1, 2, 3, 99]}},
    {"n": {"$gt": 40}, "status": {"$in": ["sent", "failed"]}},
    {"$or": [{"status": "failed"}, {"n": {"$lt": 5}}]},
    {"$and": [{"campaign_id": "c2"}, {"tags": "vip"}]},
    {"reason": {"$exists": True}},
    {"at": {"$gt": datetime(2025, 1, 1, 12, tzinfo=UTC)}},  # a $count aggregation gets this wrong
    {"at": {"$lt": datetime(2025, 1, 1, 12, tzinfo=UTC)}, "campaign_id": "c2"},
]


def test_counts_equal_the_documents_found(clean_env: CleanEnv) -> None:
    rows = clean_env.db("common").rows
    assert count_matching(rows, {}) == 0  # no such collection yet
    statuses = ["sent", "delivered", "failed"]
    docs: list[dict[str, Any]] = []
    for i in range(120):
        doc: dict[str, Any] = {
            "_id": f"c{1 + i % 2}:{i:03d}",
            "campaign_id": f"c{1 + i % 2}",
            "status": statuses[i % 3],
            "n": i % 50,
            "at": datetime(2024 + i % 3, 1 + i % 12, 1, tzinfo=UTC),
        }
        if i % 3 == 2:
            doc["reason"] = "bounced"
        if i % 4 == 0:
            doc["tags"] = ["vip", "new"]
        docs.append(doc)
    rows.insert_many(docs)
    for flt in FILTERS:
        expected = len(list(rows.find(flt, {"_id": True})))
        assert count_matching(rows, flt) == expected, flt
    assert count_matching(rows, {"campaign_id": "c1", "status": "sent"}) > 0
