"""One stack for the consent tests (tests/e2e/test_consent.py and the browser test of
the /u/ page), started once per session on the first test that asks for it.

41 customers: p000-p019 in Alphaville, p020-p039 in Betatown (the e2e campaigns), p040
in Gammaford (the browser's). Vendor batches of two at five messages a second per
campaign, every message delivered unless a test tells the vendor otherwise."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import redis

from libs.common.testing.pytest_plugin import wait_until
from tests.support.stack import RunningStack, running_stack

PREFIX = "e2econsent_"
ALPHA, BETA, GAMMA = "Alphaville", "Betatown", "Gammaford"
PEOPLE = 41


def customer(i: int) -> dict:
    doc = {
        "id": f"p{i:03d}",
        "name": f"Erin Voss{i:03d}",
        "email": f"p{i:03d}@example.com",
        "phone": f"+91 98000 00{i:03d}",
        "totalSpends": 100 + i,
        "visits": 1,
        "city": ALPHA if i < 20 else BETA if i < 40 else GAMMA,
    }
    if i == 1:
        doc["consent"] = {"email": "unsubscribed", "sms": "subscribed"}
    return doc


@pytest.fixture(scope="session")
def consent_stack(
    redis_url: str, mongo_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    stack_redis = redis_url.rsplit("/", 1)[0] + "/13"  # a database of its own
    redis.Redis.from_url(stack_redis).flushdb()
    env = {
        "DELIVERY_VENDOR_BATCH_SIZE": "2",
        "DELIVERY_CAMPAIGN_RATE_LIMIT_PER_S": "5",
        "VENDOR_SUCCESS_RATE": "1.0",  # failures only where a test asks for them
    }
    with running_stack(
        redis_url=stack_redis,
        mongo_uri=mongo_uri,
        db_prefix=PREFIX,
        logdir=tmp_path_factory.mktemp("consent-stack-logs"),
        extra_env=env,
    ) as running:
        yield running


@pytest.fixture(scope="session")
def consent_client(consent_stack: RunningStack) -> httpx.Client:
    """The stack's admin (its first sign-in), with the customers and one order loaded."""
    client = consent_stack.client()
    people = [customer(i) for i in range(PEOPLE)]
    response = client.post("/api/customers/batch", json={"customers": people})
    assert response.status_code == 202, response.text
    order = {"id": "o-p010", "customerId": "p010", "amount": 250.0}
    assert client.post("/api/orders", json=order).status_code == 202
    wait_until(
        lambda: client.get("/api/customers/stats").json().get("customers") == PEOPLE, timeout=60
    )
    return client
