"""Data for the marketer-fix and accessibility browser tests, made once per stack.

Sixty customers, a saved segment, two finished campaigns (80 delivery receipts: enough
history for real send-time advice) and a scheduled one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from libs.common.testing.pytest_plugin import wait_until
from tests.e2e.test_campaign_flow import ingest, wait_for_customers

CUSTOMERS = 60
MUMBAI = {"operator": "AND", "conditions": [{"field": "city", "operator": "=", "value": "Mumbai"}]}
EVERYONE = {
    "operator": "AND",
    "conditions": [{"field": "email", "operator": "contains", "value": "@example.com"}],
}


def customers() -> list[dict[str, Any]]:
    return [
        {
            "id": f"mk{i:03d}",
            "name": f"Asha{i} Marketer",
            "email": f"mk{i}@example.com",
            "totalSpends": 1000 + 250 * i,
            "visits": i % 9,
            "lastVisit": "2026-10-15T10:30:00Z",
            "city": "Mumbai" if i % 3 == 0 else "Pune",
            "tags": ["vip"] if i % 10 == 0 else [],
        }
        for i in range(CUSTOMERS)
    ]


@dataclass(frozen=True)
class Seeded:
    completed_id: str
    scheduled_id: str
    segment_id: str
    mumbai: int


@functools.cache
def seed(url: str) -> Seeded:
    client = httpx.Client(base_url=url, timeout=60, headers={"Origin": url})
    assert client.post("/auth/dev-login", json={"email": "e2e@example.com"}).is_success
    ingest(client, customers())
    wait_for_customers(client, CUSTOMERS)
    segment = client.post("/api/segments", json={"name": "Mumbai shoppers", "rules": MUMBAI})
    assert segment.status_code == 201, segment.text

    def create(name: str, **extra: Any) -> str:
        body = {"name": name, "segmentRules": MUMBAI, "message": "Hi {name}!", **extra}
        response = client.post("/api/campaigns", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    later = (datetime.now(UTC) + timedelta(days=2, hours=3)).isoformat()
    completed = create("Mumbai welcome", tags=["welcome"])
    scheduled = create("Mumbai weekend", scheduledAt=later)
    everyone = create("Hello everyone", segmentRules=EVERYONE)
    for campaign_id in (completed, everyone):
        wait_until(
            lambda cid=campaign_id: (
                client.get(f"/api/campaigns/{cid}").json()["status"] == "completed"
            ),
            timeout=90,
            interval=0.5,
        )
    wait_until(  # the AI service has read the receipts: its advice rests on them
        lambda: not client.post("/api/ai/optimal-timing", json={}).json()["isDefault"],
        timeout=60,
        interval=0.5,
    )
    return Seeded(
        completed_id=completed,
        scheduled_id=scheduled,
        segment_id=str(segment.json()["id"]),
        mumbai=sum(1 for c in customers() if c["city"] == "Mumbai"),
    )


def signed_in_context(browser: Any, url: str, viewport: dict[str, int], **options: Any) -> Any:
    context = browser.new_context(viewport=viewport, base_url=url, **options)
    context.set_default_timeout(15_000)
    answer = context.request.post(
        "/auth/dev-login", data={"email": "e2e@example.com"}, headers={"Origin": url}
    )
    assert answer.ok, answer.text()
    return context
