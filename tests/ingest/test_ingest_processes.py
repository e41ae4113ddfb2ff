"""The ingest service as real processes: API, ingest worker and audience resolver."""

from __future__ import annotations

import httpx
import pytest

from libs.common.events import AudienceResolved, CampaignLaunched, decode
from libs.common.streams import StreamProducer
from libs.common.testing.pytest_plugin import CleanEnv, ProcessFactory, wait_until

pytestmark = pytest.mark.integration

RULES = {"operator": "AND", "conditions": [{"field": "visits", "operator": ">=", "value": "3"}]}


def test_customers_flow_from_http_to_preview_to_resolved_audience(
    clean_env: CleanEnv, spawn: ProcessFactory
) -> None:
    env = clean_env.env()
    api = spawn("ingest-api", env=env, app="services.ingest.app:create_app")
    spawn("ingest-worker", env=env, module="services.ingest.worker", args=["ingest"])
    spawn("segment-worker", env=env, module="services.ingest.worker", args=["segment"])
    client = httpx.Client(base_url=api.url, headers={"x-internal-token": clean_env.internal_token})
    people = [
        {
            "id": f"p{i}",
            "name": f"Person {i}",
            "email": f"p{i}@example.com",
            "totalSpends": 10 * i,
            "visits": i % 6,
            "lastVisit": "2024-05-01T00:00:00Z",
        }
        for i in range(300)
    ]
    response = client.post("/api/customers/batch", json={"customers": people})
    assert response.status_code == 202
    expected = sum(1 for p in people if p["visits"] >= 3)

    def preview() -> dict:
        return client.post("/api/customers/preview", json={"rules": RULES}).json()

    answer = wait_until(lambda: (p := preview())["count"] == expected and p, timeout=30)
    assert answer["source"] == "columns"

    StreamProducer(clean_env.redis).publish(
        [CampaignLaunched(campaign_id="c1", name="n", rules=RULES, message="Hi {name}")]
    )

    def resolved() -> list[AudienceResolved]:
        rows = clean_env.redis.xrange("campaign_events")
        events = [decode(i.decode(), f) for i, f in rows]
        return [e for e in events if isinstance(e, AudienceResolved)]

    [done] = wait_until(resolved, timeout=30)
    assert done.total == expected
    stats = client.get("/api/customers/stats").json()
    assert stats["customers"] == 300
