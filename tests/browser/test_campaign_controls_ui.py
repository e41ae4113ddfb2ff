"""Pause and resume pressed on the campaign page while the campaign is sending.

A stack of its own: 2,000 customers, a campaign held to 100 messages a second in
vendor batches of 50, so it sends for 20 s and the buttons are pressed mid-send. What
left is read from the vendor's own count.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from libs.common.testing.pytest_plugin import wait_until
from tests.e2e.test_campaign_flow import ingest, make_customers, wait_for_customers
from tests.support.stack import RunningStack, running_stack

AUDIENCE = 2_000
BATCH = 50
EVERYONE = {
    "operator": "AND",
    "conditions": [{"field": "email", "operator": "contains", "value": "@example.com"}],
}


@pytest.fixture(scope="module")
def slow_stack(
    redis_url: str, mongo_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    from tests.browser.conftest import DIST_INDEX

    if not DIST_INDEX.is_file():
        pytest.skip("frontend/dist is not built (make frontend)")
    stack_redis = redis_url.rsplit("/", 1)[0] + "/12"  # a database of its own
    redis.Redis.from_url(stack_redis).flushdb()
    env = {
        "DELIVERY_CAMPAIGN_RATE_LIMIT_PER_S": "100",
        "DELIVERY_VENDOR_BATCH_SIZE": str(BATCH),
        "DELIVERY_SEND_CONCURRENCY": "1",
    }
    with running_stack(
        redis_url=stack_redis,
        mongo_uri=mongo_uri,
        db_prefix=f"uictl{secrets.token_hex(3)}_",
        logdir=tmp_path_factory.mktemp("ui-controls-logs"),
        extra_env=env,
    ) as stack:
        client = stack.client()
        ingest(client, make_customers(AUDIENCE))
        wait_for_customers(client, AUDIENCE)
        yield stack


@pytest.fixture
def signed_in_page(browser: Any, slow_stack: RunningStack) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=slow_stack.url)
    context.set_default_timeout(15_000)
    answer = context.request.post(
        "/auth/dev-login",
        data={"email": "e2e@example.com"},  # the stack's first sign-in: its admin
        headers={"Origin": slow_stack.url},
    )
    assert answer.ok, answer.text()
    yield context.new_page()
    context.close()


def accepted(stack: RunningStack) -> int:
    return int(httpx.get(f"{stack.layout.url('vendor_sim')}/vendor/stats").json()["accepted"])


def shown(page: Any, stat: str) -> int:
    return int(page.get_by_test_id(f"stat-{stat}").inner_text().replace(",", ""))


def test_pause_and_resume_from_the_campaign_page_mid_send(
    signed_in_page: Any, slow_stack: RunningStack, screenshot_dir: Path
) -> None:
    page = signed_in_page
    client = slow_stack.client()
    created = client.post(
        "/api/campaigns",
        json={"name": "UI pause", "segmentRules": EVERYONE, "message": "Hi {name}!"},
    )
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    page.goto(f"/campaigns/{campaign_id}")
    page.wait_for_function(
        "() => Number(document.querySelector('[data-testid=stat-sent]')?.textContent"
        ".replace(/,/g, '')) >= 200",
        timeout=120_000,
    )
    page.get_by_role("button", name="Pause").click()
    page.get_by_test_id("campaign-status").get_by_text("paused").wait_for()
    at_pause = accepted(slow_stack)
    assert at_pause < AUDIENCE - 2 * BATCH, "the campaign was still sending when paused"
    time.sleep(1)
    settled = accepted(slow_stack)
    assert settled - at_pause <= BATCH
    time.sleep(4)
    assert accepted(slow_stack) == settled, "a message left after the pause"
    page.get_by_test_id("pausing-in-flight").wait_for(state="detached")
    page.screenshot(path=str(screenshot_dir / "09-campaign-paused-mid-send.png"), full_page=True)
    assert shown(page, "sent") <= settled

    page.get_by_role("button", name="Resume").click()
    page.get_by_test_id("campaign-status").get_by_text("completed").wait_for(timeout=180_000)
    wait_until(lambda: shown(page, "sent") == AUDIENCE, timeout=30, interval=0.5)
    stats = httpx.get(f"{slow_stack.layout.url('vendor_sim')}/vendor/stats").json()
    assert stats["accepted"] == AUDIENCE and stats["duplicateClientRefs"] == 0
