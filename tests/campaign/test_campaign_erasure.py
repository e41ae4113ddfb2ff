"""Erasure in the campaign service: touches, conversions, journey states, the
projection and the tally lose the person; results and counts stay; the confirmation
names what changed (real Redis and database, workers in burst runs)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from libs.common.erasure import anonymous_id
from libs.common.events import CustomersUpserted, ErasureConfirmed, ErasureRequested
from libs.common.mongo import make_client
from libs.common.redis_client import make_redis
from libs.common.testing.pytest_plugin import CleanEnv
from services.campaign.journeys.worker import JourneyWorker, build_journey_worker
from services.campaign.settings import CampaignSettings
from services.campaign.worker import Worker
from tests.campaign.campaign_helpers import drain, entries_of
from tests.campaign.test_experiments import T0, delivered, orders, results, sent
from tests.campaign.test_journey_worker import FIRST_ORDER, customer


@pytest.fixture
def journey_worker(settings: CampaignSettings, clean_env: CleanEnv) -> Iterator[JourneyWorker]:
    client = make_redis(settings.redis_url, block_ms=200)
    mongo = make_client(settings.mongodb_uri)
    yield build_journey_worker(settings, client, mongo)
    mongo.close()
    client.close()


def campaign_db_text(settings: CampaignSettings) -> str:
    mongo = make_client(settings.mongodb_uri)
    db = mongo[settings.database_name("campaign")]
    docs = [d for name in db.list_collection_names() for d in db[name].find({})]
    mongo.close()
    return json.dumps(docs, default=str)


def test_erasure_leaves_no_trace_and_keeps_the_figures(
    api: TestClient,
    worker: Worker,
    journey_worker: JourneyWorker,
    publish: Any,
    settings: CampaignSettings,
    clean_env: CleanEnv,
) -> None:
    jid = api.post("/api/journeys", json=FIRST_ORDER).json()["id"]
    api.post(f"/api/journeys/{jid}/activate")
    cid = api.post(
        "/api/campaigns",
        json={
            "name": "spring",
            "segmentRules": {"operator": "AND", "conditions": []},
            "message": "Hi",
        },
    ).json()["id"]
    publish(CustomersUpserted(customers=[customer("zed77"), customer("amy01")]))
    publish(sent(cid, ["zed77", "amy01"]), delivered(cid, ["zed77", "amy01"]))
    publish(
        orders(
            ("ord-zed77", "zed77", 40.0, T0 + timedelta(hours=2)),
            ("ord-amy01", "amy01", 60.0, T0 + timedelta(hours=2)),
        )
    )
    for _ in range(2):
        drain(worker)
        for consumer in journey_worker.consumers:
            consumer.run(burst=True)
    before = results(api, cid)
    assert before["variants"][0]["conversions"] == 2
    assert "zed77" in campaign_db_text(settings)
    assert api.get(f"/api/journeys/{jid}/stats").json()["entered"] == 2

    publish(ErasureRequested(customer_id="zed77", requested_at=T0))
    drain(worker)
    publish(ErasureRequested(customer_id="zed77", requested_at=T0))  # redelivered
    drain(worker)

    text = campaign_db_text(settings)
    at = text.find("zed77")
    assert at < 0 and "Ann zed77" not in text, text[max(0, at - 300) : at + 100]
    assert "amy01" in text  # nobody else's records were touched
    after = results(api, cid)
    assert after["variants"][0]["conversions"] == 2
    assert after["variants"][0]["revenue"] == before["variants"][0]["revenue"]
    stats = api.get(f"/api/journeys/{jid}/stats").json()
    assert stats["entered"] == 2 and stats["active"] == 1  # the erased wait ended
    states = clean_env.redis.hgetall(f"campaign:tally:{{{cid}}}:states")
    assert b"zed77" not in states and anonymous_id("zed77").encode() in states

    confirmations = entries_of(clean_env.redis, "consent", ErasureConfirmed.TYPE)
    assert [c.service for c in confirmations] == ["campaign", "campaign"]  # type: ignore[attr-defined]
    first = confirmations[0].removed  # type: ignore[attr-defined]
    assert first == {
        "touches": 1,
        "conversions": 1,
        "attribution_orders": 1,
        "journey_states": 1,
        "journey_customers": 1,
        "journey_orders": 1,
    }
    assert confirmations[1].removed == {}  # type: ignore[attr-defined]
