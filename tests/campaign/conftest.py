"""Fixtures of the campaign tests: the API in-process, the worker driven in burst runs,
both against the test's own Redis database and MongoDB databases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from libs.common.events import Event
from libs.common.mongo import make_client
from libs.common.redis_client import make_redis
from libs.common.streams import StreamProducer
from libs.common.testing.pytest_plugin import CleanEnv
from services.campaign.app import create_app
from services.campaign.settings import CampaignSettings
from services.campaign.worker import Worker, build_worker

TOKEN_HEADERS = {"X-Internal-Token": "test-internal-token", "X-User-Email": "ann@example.com"}


@pytest.fixture
def settings(clean_env: CleanEnv) -> CampaignSettings:
    return CampaignSettings(recompute_interval_s=0, refresh_interval_s=0.2)


@pytest.fixture
def ingest_preview() -> dict[str, Any]:
    """What the fake ingest API answers to the launch's audience count (set ``count``;
    ``status`` other than 200 plays an ingest that cannot answer); ``asked`` records
    the rules it was asked about."""
    return {"count": 7, "status": 200, "asked": []}


@pytest.fixture
def api(settings: CampaignSettings, ingest_preview: dict[str, Any]) -> Iterator[TestClient]:
    app = create_app(settings)

    def preview(request: httpx.Request) -> httpx.Response:
        ingest_preview["asked"].append(orjson.loads(request.content)["rules"])
        return httpx.Response(ingest_preview["status"], json={"count": ingest_preview["count"]})

    with TestClient(app, headers=TOKEN_HEADERS) as client:
        fake = httpx.Client(transport=httpx.MockTransport(preview), base_url="http://ingest")
        app.state.service.audience.http = fake  # the ingest API is another process
        yield client


@pytest.fixture
def worker(settings: CampaignSettings, clean_env: CleanEnv) -> Iterator[Worker]:
    client = make_redis(settings.redis_url, block_ms=200)
    mongo = make_client(settings.mongodb_uri)
    yield build_worker(settings, client, mongo)
    mongo.close()
    client.close()


@pytest.fixture
def publish(clean_env: CleanEnv) -> Callable[..., list[str]]:
    producer = StreamProducer(clean_env.redis)

    def _publish(*events: Event) -> list[str]:
        return producer.publish(list(events))

    return _publish
