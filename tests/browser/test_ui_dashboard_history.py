"""The dashboard over a date range, on a stack of its own loaded by scripts/seed.py:
300 sample customers and their orders (a third joined, most orders placed, in the last
90 days) and the finished sample campaigns of the last 90 days, imported through the
API. Switching 7 → 90 days changes the charts' range and the top campaigns."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from libs.common.testing.pytest_plugin import wait_until
from scripts.sample_data import campaign_history, generate
from scripts.seed import SEED, seed
from tests.browser.test_ui import AXE, DESKTOP, PHONE, _axe, shot
from tests.support.stack import RunningStack, running_stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CUSTOMERS = 300


def _last_days(days: int) -> tuple[str, str]:
    today = datetime.now(UTC).date()
    return (today - timedelta(days=days - 1)).isoformat(), today.isoformat()


def _overview(client: httpx.Client, days: int) -> dict[str, Any]:
    first, last = _last_days(days)
    response = client.get("/api/campaigns/stats/overview", params={"from": first, "to": last})
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def _orders_within(days: int) -> int:
    _, orders = generate(CUSTOMERS, seed=SEED)
    first = datetime.fromisoformat(_last_days(days)[0]).replace(tzinfo=UTC)
    return sum(datetime.fromisoformat(o["date"].replace("Z", "+00:00")) >= first for o in orders)


@pytest.fixture(scope="module")
def history_stack(
    redis_url: str, mongo_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    from tests.browser.conftest import DIST_INDEX

    if not DIST_INDEX.is_file():
        pytest.skip("frontend/dist is not built (make frontend)")
    stack_redis = redis_url.rsplit("/", 1)[0] + "/10"  # a database of its own
    redis.Redis.from_url(stack_redis).flushdb()
    with running_stack(
        redis_url=stack_redis,
        mongo_uri=mongo_uri,
        db_prefix=f"uihist{secrets.token_hex(3)}_",
        logdir=tmp_path_factory.mktemp("ui-history-logs"),
    ) as stack:
        seed(stack.url, CUSTOMERS)
        client = stack.client()
        expected_orders = _orders_within(90)

        def projected() -> bool:
            body = _overview(client, 90)
            return bool(
                body["daily"][-1]["customers"] == CUSTOMERS
                and body["range"]["orders"] == expected_orders
            )

        wait_until(projected, timeout=120, interval=1)
        yield stack


@pytest.fixture
def page(browser: Any, history_stack: RunningStack) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, base_url=history_stack.url, bypass_csp=True)
    context.set_default_timeout(15_000)
    answer = context.request.post(
        "/auth/dev-login", data={"email": "dev@example.com"}, headers={"Origin": history_stack.url}
    )
    assert answer.ok, answer.text()
    page = context.new_page()
    yield page
    context.close()


def _loaded(page: Any) -> None:
    page.wait_for_function(
        "() => ![...document.querySelectorAll('[role=status]')]"
        ".some((e) => e.textContent.includes('Loading'))"
    )


def _show(page: Any, days: int, client: httpx.Client) -> dict[str, Any]:
    """Press the preset and wait until the page shows that range's figures."""
    expected = _overview(client, days)
    page.get_by_role("button", name=f"{days} days").click()
    page.get_by_role("button", name=f"{days} days", pressed=True).wait_for()
    sent = f"{expected['range']['sent']:,}"
    page.get_by_test_id("stat-messages-sent-in-range").get_by_text(sent, exact=True).wait_for()
    _loaded(page)
    return expected


def test_seeding_twice_adds_no_history(history_stack: RunningStack) -> None:
    client = history_stack.client()
    before = _overview(client, 90)
    seed(history_stack.url, CUSTOMERS)
    after = _overview(client, 90)
    assert after["campaigns"] == before["campaigns"] == len(campaign_history(*generate(300)))
    assert after["range"]["sent"] == before["range"]["sent"] > 0


def test_switching_from_seven_to_ninety_days_changes_the_charts_and_top_campaigns(
    page: Any, history_stack: RunningStack, screenshot_dir: Path
) -> None:
    client = history_stack.client()
    page.goto("/")
    page.get_by_role("heading", name="Dashboard").wait_for()

    week = _show(page, 7, client)
    rows = page.get_by_test_id("top-campaign-row")
    assert rows.count() == len(week["topCampaigns"]) >= 1
    assert rows.first.get_by_role("link").inner_text() == week["topCampaigns"][0]["name"]
    assert page.locator("[data-testid=chart-revenue] figure").count() == 1
    shot(page, screenshot_dir, "dashboard-history-7-days")

    quarter = _show(page, 90, client)
    assert quarter["range"]["sent"] > week["range"]["sent"]
    assert quarter["range"]["revenue"] > week["range"]["revenue"]
    assert len(quarter["daily"]) == 90 and len(week["daily"]) == 7
    assert [r.inner_text() for r in rows.get_by_role("link").all()] == [
        c["name"] for c in quarter["topCampaigns"]
    ]
    assert quarter["topCampaigns"] != week["topCampaigns"]
    for chart in ("chart-messages", "chart-revenue", "chart-customers"):
        page.locator(f"[data-testid={chart}] figure .recharts-surface").first.wait_for()
    start = datetime.fromisoformat(quarter["from"])
    assert page.get_by_test_id("range-label").inner_text().startswith(f"{start.day} ")
    shot(page, screenshot_dir, "dashboard-history-90-days")


def test_a_custom_range_and_an_inverted_one(page: Any, history_stack: RunningStack) -> None:
    client = history_stack.client()
    page.goto("/")
    first, last = _last_days(30)
    page.get_by_label("From", exact=True).fill(first)
    page.get_by_label("To", exact=True).fill(last)
    expected = _overview(client, 30)
    sent = f"{expected['range']['sent']:,}"
    page.get_by_test_id("stat-messages-sent-in-range").get_by_text(sent, exact=True).wait_for()
    assert page.get_by_role("button", name="30 days", pressed=True).count() == 1
    page.get_by_label("From", exact=True).fill(_last_days(1)[0])
    page.get_by_label("To", exact=True).fill(_last_days(3)[0])
    page.get_by_role("alert").get_by_text("The start date is after the end date.").wait_for()


def test_dashboard_with_history_is_accessible_and_fits_a_phone(
    page: Any, screenshot_dir: Path
) -> None:
    if not AXE.is_file():
        pytest.skip("axe-core is not installed (cd frontend && npm ci)")
    page.goto("/")
    page.get_by_role("button", name="90 days").click()
    page.get_by_test_id("top-campaign-row").first.wait_for()
    _loaded(page)
    assert _axe(page) == []
    page.set_viewport_size(PHONE)
    page.get_by_test_id("top-campaign-row").first.wait_for()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    assert _axe(page) == []
    shot(page, screenshot_dir, "dashboard-history-phone")
