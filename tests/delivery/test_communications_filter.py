"""The communications list filters by "pending" (held or sent) and by "held"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.delivery.store import DeliveryStore
from tests.delivery.test_api import client, token

__all__ = ["client"]  # the fixture, imported so this module can use it

pytestmark = pytest.mark.integration

STATUSES = ["held", "held", "sent", "delivered", "failed", "cancelled"]


def test_pending_means_held_or_sent_and_held_is_its_own_filter(
    client: TestClient, clean_env: Any
) -> None:
    now = datetime.now(UTC)
    DeliveryStore(clean_env.db("delivery")).insert_new(
        [
            {
                "_id": f"k2:c{i}",
                "campaign_id": "k2",
                "customer_id": f"c{i}",
                "status": status,
                "to": f"c{i}@example.com",
                "channel": "email",
                "body": "hello",
                "created_at": now,
                "updated_at": now,
            }
            for i, status in enumerate(STATUSES)
        ]
    )
    path = "/api/campaigns/k2/communications"

    def listed(status: str) -> list[str]:
        response = client.get(path, params={"status": status}, headers=token(clean_env))
        assert response.status_code == 200, response.text
        return [item["status"] for item in response.json()["items"]]

    assert listed("pending") == ["held", "held", "sent"]
    assert listed("held") == ["held", "held"]
    assert listed("cancelled") == ["cancelled"]
    refused = client.get(path, params={"status": "lost"}, headers=token(clean_env))
    assert refused.status_code == 422
    assert "pending" in refused.json()["error"]["details"][0]["message"]
