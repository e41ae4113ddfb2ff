"""POST /api/ai/segment-from-text without an LLM: vague words are resolved from the AI
service's own read model, the thresholds are stated, and words not understood come back
as ``skipped`` with the rules for the rest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from libs.common import events as ev
from services.ai.store import AiStore

pytestmark = pytest.mark.integration


def seed(store: AiStore) -> None:
    now = datetime.now(UTC)
    records = [
        ev.CustomerRecord(
            id=f"c{i}",
            name=f"Customer {i}",
            email=f"c{i}@{'gmail.com' if i % 2 else 'acme.in'}",
            total_spends=1000 * i,  # 1,000 .. 8,000: the top quarter is over 6,000
            visits=i,
            last_visit=now - timedelta(days=10 * i),
            city="Bengaluru" if i % 2 else "Pune",
            tags=["churn-risk"] if i > 5 else [],
        )
        for i in range(1, 9)
    ]
    store.append_customers([("1700000000000-1", records)])


def test_big_spenders_are_the_top_quarter_of_the_read_model_with_the_threshold_stated(
    ai_store: AiStore, make_ai_client: Callable[..., TestClient]
) -> None:
    seed(ai_store)
    client = make_ai_client()
    response = client.post(
        "/api/ai/segment-from-text", json={"description": "big spenders in Bangalore"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source"] == "fallback"
    assert body["rules"]["conditions"] == [
        {"field": "totalSpends", "operator": ">", "value": 6000},
        {"field": "city", "operator": "=", "value": "Bengaluru"},  # the data's spelling
    ]
    assert "total spend > 6,000 (top 25% of your 8 customers)" in body["explanation"]
    assert body["skipped"] == []


def test_words_not_understood_are_returned_as_skipped_with_rules_for_the_rest(
    ai_store: AiStore, make_ai_client: Callable[..., TestClient]
) -> None:
    seed(ai_store)
    client = make_ai_client()
    response = client.post(
        "/api/ai/segment-from-text",
        json={"description": "gmail users tagged churn-risk who love cricket"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rules"]["conditions"] == [
        {"field": "email", "operator": "contains", "value": "@gmail."},
        {"field": "tags", "operator": "contains", "value": "churn-risk"},
    ]
    assert body["skipped"] == ["love cricket"]
    assert "'love cricket'" in body["explanation"]


def test_nothing_understood_is_a_422_naming_the_words(
    ai_store: AiStore, make_ai_client: Callable[..., TestClient]
) -> None:
    seed(ai_store)
    response = make_ai_client().post(
        "/api/ai/segment-from-text", json={"description": "people who love cricket"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["unrecognised"] == "love cricket"
