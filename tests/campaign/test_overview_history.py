"""The dashboard over a date range and the import of finished campaigns: customers and
orders arrive on the ``ingest`` stream and are read by the real workers, history is
imported through the API (real Redis and database)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from libs.common.errors import ValidationFailed
from libs.common.events import CustomerRecord, CustomersUpserted, OrderRecord, OrdersRecorded
from libs.common.mongo import make_client
from libs.common.redis_client import make_redis
from libs.common.testing.pytest_plugin import CleanEnv
from services.campaign.history import day_range
from services.campaign.journeys.worker import JourneyWorker, build_journey_worker
from services.campaign.settings import CampaignSettings
from services.campaign.worker import Worker
from tests.campaign.campaign_helpers import drain

Publish = Callable[..., list[str]]
TODAY = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)


def ago(days: int) -> datetime:
    return TODAY - timedelta(days=days)


def day(days_ago: int) -> str:
    return ago(days_ago).date().isoformat()


def historic(cid: str, days_ago: int, delivered: int, revenue: float = 0.0) -> dict[str, Any]:
    return {
        "id": cid,
        "name": f"Campaign {cid}",
        "channel": "sms",
        "launchedAt": ago(days_ago).isoformat(),
        "completedAt": (ago(days_ago) + timedelta(hours=2)).isoformat(),
        "audienceSize": delivered + 10,
        "delivered": delivered,
        "failed": 10,
        "attributedRevenue": revenue,
    }


@pytest.fixture
def journey_worker(settings: CampaignSettings, clean_env: CleanEnv) -> Iterator[JourneyWorker]:
    client = make_redis(settings.redis_url, block_ms=200)
    mongo = make_client(settings.mongodb_uri)
    yield build_journey_worker(settings, client, mongo)
    mongo.close()
    client.close()


@pytest.fixture
def history(
    api: TestClient, worker: Worker, journey_worker: JourneyWorker, publish: Publish
) -> None:
    """Customers joined 100, 60, 60 and 3 days ago (one with no date); orders 50 and
    2 days ago; campaigns 80, 40 and 5 days ago."""
    joined = {"h1": 100, "h2": 60, "h3": 60, "h4": 3}
    people = [CustomerRecord(id=c, name=c, created_at=ago(n)) for c, n in joined.items()]
    people.append(CustomerRecord(id="h5", name="no date"))
    publish(CustomersUpserted(customers=people))
    publish(
        OrdersRecorded(
            orders=[
                OrderRecord(id="o1", customer_id="h1", amount=100.0, date=ago(50)),
                OrderRecord(id="o2", customer_id="h2", amount=250.5, date=ago(2)),
                OrderRecord(id="o3", customer_id="h4", amount=49.5, date=ago(2)),
            ]
        )
    )
    drain(worker)
    for consumer in journey_worker.consumers:
        consumer.run(burst=True)
    body = {
        "campaigns": [
            historic("hist_a", 80, 500, revenue=1200.0),
            historic("hist_b", 40, 900),
            historic("hist_c", 5, 90, revenue=300.0),
        ]
    }
    response = api.post("/api/campaigns/history", json=body)
    assert response.status_code == 200, response.text
    assert response.json() == {"imported": 3, "existing": 0}


def overview(api: TestClient, **params: str) -> dict[str, Any]:
    response = api.get("/api/campaigns/stats/overview", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_ninety_days_show_every_day_with_messages_revenue_and_customers(
    api: TestClient, history: None
) -> None:
    body = overview(api, **{"from": day(89), "to": day(0)})
    assert (body["from"], body["to"]) == (day(89), day(0))
    daily = {d["date"]: d for d in body["daily"]}
    assert len(daily) == 90
    assert daily[day(80)]["sent"] == 510 and daily[day(80)]["delivered"] == 500
    assert daily[day(80)]["deliveryRate"] == round(100 * 500 / 510, 1)
    assert daily[day(50)]["revenue"] == 100.0 and daily[day(2)]["revenue"] == 300.0
    assert daily[day(2)]["orders"] == 2
    assert daily[day(60)]["newCustomers"] == 2
    # h1 joined before the range; h5 has no date and is not counted
    assert daily[day(89)]["customers"] == 1
    assert daily[day(0)]["customers"] == 4
    assert body["range"]["campaigns"] == 3
    assert body["range"]["revenue"] == 400.0
    assert body["range"]["newCustomers"] == 3
    assert [c["id"] for c in body["topCampaigns"]] == ["hist_a", "hist_c", "hist_b"]
    assert body["topCampaigns"][0]["attributedRevenue"] == 1200.0
    assert body["topCampaigns"][0]["imported"] is True


def test_a_shorter_range_holds_only_its_days(api: TestClient, history: None) -> None:
    body = overview(api, **{"from": day(6), "to": day(0)})
    assert len(body["daily"]) == 7
    assert [c["id"] for c in body["topCampaigns"]] == ["hist_c"]
    assert body["range"]["delivered"] == 90
    assert body["range"]["revenue"] == 300.0
    assert body["daily"][0]["customers"] == 3  # h1, h2 and h3 joined before
    # all-time figures do not depend on the range
    assert (body["campaigns"], body["delivered"], body["attributedRevenue"]) == (3, 1490, 1500.0)


def test_default_range_is_the_last_fourteen_days(api: TestClient, history: None) -> None:
    body = overview(api)
    assert (body["from"], body["to"]) == (day(13), day(0))
    assert len(body["daily"]) == 14


def test_importing_the_same_history_again_changes_nothing(api: TestClient, history: None) -> None:
    before = overview(api, **{"from": day(89), "to": day(0)})
    body = {"campaigns": [historic("hist_a", 80, 1), historic("hist_d", 20, 70)]}
    again = api.post("/api/campaigns/history", json=body)
    assert again.json() == {"imported": 1, "existing": 1}
    after = overview(api, **{"from": day(89), "to": day(0)})
    assert after["campaigns"] == before["campaigns"] + 1
    kept = api.get("/api/campaigns/hist_a").json()
    assert (kept["status"], kept["delivered"], kept["sent"]) == ("completed", 500, 510)


def test_imported_campaigns_are_never_announced_or_launched(
    api: TestClient, worker: Worker, history: None, clean_env: CleanEnv
) -> None:
    worker.progress.tick()
    for stream in ("campaign_events", "segment"):
        for _, fields in clean_env.redis.xrange(stream):  # type: ignore[union-attr]
            assert b"hist_" not in fields[b"data"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"from": "2026-03-10", "to": "2026-03-01"}, "invalid_range"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "range_too_long"),
    ],
)
def test_a_bad_range_is_refused_with_its_reason(
    api: TestClient, params: dict[str, str], code: str
) -> None:
    response = api.get("/api/campaigns/stats/overview", params=params)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


def test_a_date_that_is_no_date_is_refused(api: TestClient) -> None:
    response = api.get("/api/campaigns/stats/overview", params={"from": "last week"})
    assert response.status_code == 422


def test_range_bounds() -> None:
    today = date(2026, 3, 31)
    assert len(day_range(date(2025, 3, 31), None, today)) == 366
    assert day_range(None, date(2026, 1, 14), today).first == date(2026, 1, 1)
    with pytest.raises(ValidationFailed):
        day_range(date(2025, 3, 30), None, today)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"completedAt": (TODAY + timedelta(days=1)).isoformat()}, "not_finished"),
        ({"delivered": 10_000}, "validation_failed"),
        ({"launchedAt": TODAY.isoformat(), "completedAt": ago(1).isoformat()}, "validation_failed"),
    ],
)
def test_unfinished_or_inconsistent_history_is_refused(
    api: TestClient, change: dict[str, Any], field: str
) -> None:
    body = {"campaigns": [{**historic("hist_x", 3, 50), **change}]}
    response = api.post("/api/campaigns/history", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == field
    assert api.get("/api/campaigns/hist_x").status_code == 404
